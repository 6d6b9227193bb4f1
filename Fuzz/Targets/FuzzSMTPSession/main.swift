// The Gate's SMTP relay (SMTPRelaySession behind MailLineDecoder on both legs), driven by a
// client, a model of a real server, the core's verdicts and the relay's timers, in an order
// the fuzzer picks. The server model answers the commands the session sends in order (as a
// server does, pipelined or not) with codes the fuzzer picks, but says 354 only to a command
// a lenient server takes for DATA (first word `DATA`, any case, spaces or tabs around it).
//
// Invariants (a crash when broken):
// - nothing is sent to the server while the server reads message content, except the checked
//   message itself (`.sendMessage`), i.e. no client bytes reach the server as a message
//   without a verdict in between;
// - `.sendMessage(to: .server)` only after `checkCompleted(.deliver)` for that message;
// - after STARTTLS is sent, nothing is sent to the server until its reply (pipelined bytes
//   are dropped), and nothing at all in the batch that starts TLS;
// - lines held while reading is paused stay bounded; replies held stay bounded.
//
// MOAT_FUZZ_KNOWN=1 makes the server model take only a plain `DATA` as DATA: the
// known open issue (a ` DATA` / `DATA\t` relayed as an unknown command, its 354 reaching the
// client) is then not reported, so long runs can look past it. Remove once it is fixed.
import FuzzKit
import Foundation
@testable import Gate
import NIOCore

let knownDataIssue = toleratesKnownFindings

/// The verb as the modelled server reads it: the line without its LF and one CR before it;
/// a lenient server splits words at spaces and tabs (leading ones skipped); with
/// MOAT_FUZZ_KNOWN=1 the server reads verbs as the session does (up to the first space).
func serverVerb(_ line: [UInt8]) -> String {
    var bytes = line[...]
    if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
    if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
    let text = String(decoding: bytes, as: UTF8.self)
    if knownDataIssue { return text.prefix(while: { $0 != " " }).uppercased() }
    return text.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map { $0.uppercased() } ?? ""
}

func isDataCommand(_ line: [UInt8]) -> Bool { serverVerb(line) == "DATA" }

func verb(_ line: [UInt8]) -> String { serverVerb(line) }

let replyCodes = ["250", "220", "221", "235", "334", "421", "451", "452", "500", "502", "503", "530", "550", "554", "252", "354"]

runFuzzer { input in
    var reader = FuzzInput(input)
    let config = SMTPRelaySession.Configuration()
    var session = SMTPRelaySession(configuration: config)
    var clientDecoder = MailLineDecoder(maximumLength: 512)
    var serverDecoder = MailLineDecoder(maximumLength: 512)
    var clientBuffer = ByteBuffer()
    var serverBuffer = ByteBuffer()

    // The server's side of the dialogue.
    var pending: [[UInt8]] = [[]]  // commands awaiting a reply; the greeting first
    var partialCommand: [UInt8] = []
    var serverInData = false
    var startTLSSent = false
    var blind = false
    var closed = false
    var checking = false
    var delivered = false  // checkCompleted(.deliver) given, message not yet sent
    var saslNext = false   // the server said 334: the next line it reads is a SASL response, not a command
    var trusted = true     // false after raw server bytes: the model no longer knows which reply is which

    func perform(_ actions: [RelayAction]) {
        for action in actions { trace("  -> \(action)") }
        var tlsInBatch = false
        for action in actions {
            // Known open finding (Fuzz/README.md): QUIT's reply closes the session, yet a DATA
            // decision queued behind it reopens it and relays held lines. Tolerated with
            // MOAT_FUZZ_KNOWN=1: what follows the close in the batch is ignored.
            if closed && toleratesKnownFindings { break }
            invariant(!closed || action == .close || { if case .sendToClient = action { return true }; return false }(),
                      "\(action) after close")
            switch action {
            case .sendToServer(let bytes):
                invariant(!tlsInBatch, "bytes sent to the server in the batch that starts TLS")
                if blind { continue }
                if !trusted { continue }
                invariant(!serverInData, "bytes sent to the server while it reads a message, with no check: \(String(decoding: bytes.bytes, as: UTF8.self).debugDescription)")
                invariant(!startTLSSent, "bytes sent to the server after STARTTLS, before its reply: \(String(decoding: bytes.bytes, as: UTF8.self).debugDescription)")
                for byte in bytes.readableBytesView {
                    partialCommand.append(byte)
                    if byte == UInt8(ascii: "\n") {
                        if saslNext {
                            saslNext = false
                            pending.append(Array("<sasl response>\r\n".utf8))
                        } else {
                            if verb(partialCommand) == "STARTTLS" { startTLSSent = true }
                            pending.append(partialCommand)
                        }
                        partialCommand = []
                    }
                }
                if partialCommand.count > 4096 { partialCommand = [] }
            case .sendToClient:
                break
            case .storeBody:
                invariant(!checking, "body stored while the message is checked")
            case .dropBody:
                invariant(!checking, "body dropped while the message is checked")
            case .checkMessage:
                invariant(!checking, "a second check before the verdict")
                checking = true
            case .sendMessage(let side, _, _, _):
                invariant(side == .server, "SMTP sends a message to the client")
                invariant(delivered, "message sent to the server without a deliver verdict")
                invariant(serverInData || !trusted, "message sent before the server's 354")
                delivered = false
                serverInData = false
                pending.insert(Array("<end of data>".utf8), at: 0)
            case .startTLS:
                tlsInBatch = true
                blind = true
                clientBuffer.clear()
                serverBuffer.clear()
                clientDecoder = MailLineDecoder(maximumLength: 512)
                serverDecoder = MailLineDecoder(maximumLength: 512)
            case .unrecognizedProtocol:
                blind = true
            case .close:
                closed = true
            case .checkHeld, .replaceUnchecked, .log:
                invariant(false, "a mailbox action from the SMTP session")
            }
        }
    }

    func serverLines(_ bytes: [UInt8]) {
        serverBuffer.writeBytes(bytes)
        while let line = try! serverDecoder.decode(buffer: &serverBuffer) {
            if closed { return }
            perform(session.serverLine(line))
        }
    }

    var steps = 0
    while !reader.isEmpty && !closed && steps < 2000 {
        steps += 1
        let event = reader.byte()
        trace("event \(event % (16)) (\(event))")
        switch event % 16 {
        case 0, 1, 2, 3, 4, 5:
            // The client: bytes up to the next NUL (several lines at once: pipelining).
            guard session.wantsClientInput else { continue }
            var bytes = reader.take(until: 0)
            if event & 0x80 != 0 { bytes.append(UInt8(ascii: "\n")) }
            clientBuffer.writeBytes(bytes)
            while let line = try! clientDecoder.decode(buffer: &clientBuffer) {
                if closed { break }
                perform(session.clientLine(line))
            }
        case 6, 7, 8, 9:
            // The server answers the oldest command: code picked by the fuzzer, 354 only to DATA;
            // `event & 0x30` continuation lines before the last.
            guard !blind else {
                perform(session.serverLine(MailLine(ByteBuffer(bytes: reader.take(until: 0)))))
                continue
            }
            let head = pending.first
            var code = replyCodes[Int(reader.byte()) % replyCodes.count]
            let isData = head.map(isDataCommand) ?? false
            if code == "354" && !isData { code = "250" }
            // 334 only to AUTH (or to a SASL response); the line after it is SASL data.
            if code == "334" && head.map(verb) != "AUTH" && head != Array("<sasl response>\r\n".utf8) { code = "250" }
            if isData && reader.byte() & 1 == 0 { code = "354" }
            if head.map(verb) == "STARTTLS" && event & 0x40 != 0 { code = "220" }
            var text = reader.take(until: 0).filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
            if text.count > 200 { text = Array(text.prefix(200)) }
            var bytes: [UInt8] = []
            for _ in 0..<Int((event >> 4) & 3) { bytes += Array("\(code)-".utf8) + text + Array("\r\n".utf8) }
            bytes += Array("\(code) ".utf8) + text + Array("\r\n".utf8)
            if head != nil {
                pending.removeFirst()
                if code == "354" { serverInData = true }
                if code == "334" { saslNext = true }
                if head.map(verb) == "STARTTLS" { startTLSSent = false }
            }
            serverLines(bytes)
        case 10:
            // Raw server bytes (reply syntax, endless replies, garbage).
            guard serverInData == false else { continue }
            let bytes = reader.take(until: 0).map { $0 == UInt8(ascii: "3") ? UInt8(ascii: "2") : $0 }  // never a 354
            if !blind { trusted = false }
            serverLines(bytes)
        case 11:
            guard checking else { continue }
            checking = false
            let choice = reader.byte() % 4
            let outcome: CheckOutcome = switch choice {
            case 0: .deliver(size: 0)
            case 1: .reject(String(decoding: reader.take(until: 0), as: UTF8.self))
            case 2: .tempfail(String(decoding: reader.take(until: 0), as: UTF8.self))
            default: .discard
            }
            if choice == 0 { delivered = true }
            perform(session.checkCompleted(outcome))
        case 12:
            perform(session.keepAlive())
        case 13:
            if blind, !closed, reader.byte() & 1 == 0 {
                // TLS unwrapped on both legs: the server starts over too.
                session.tlsEstablished()
                blind = false
                startTLSSent = false
                serverInData = false
                pending = []
                partialCommand = []
            } else {
                perform(session.messageSent())
            }
        case 14:
            let which = reader.byte() % 3
            perform(which == 0 ? session.serverTimedOut() : which == 1 ? session.clientTimedOut()
                                                                     : session.serverClosed(connected: true))
        default:
            _ = (session.awaitsServer, session.awaitsClient, session.needsKeepAlive)
        }
        // Bounded: held client lines and reply lines (read by reflection, every 8 events: slow).
        guard steps % 8 == 0 || reader.isEmpty else { continue }
        let mirror = Mirror(reflecting: session)
        for child in mirror.children {
            if child.label == "held", let held = child.value as? [MailLine] {
                invariant(held.count <= config.maximumHeldLines + 600, "\(held.count) client lines held")
            }
            if child.label == "reply", let reply = child.value as? [MailLine] {
                invariant(reply.count <= 1001, "\(reply.count) reply lines held")
            }
        }
    }
}
