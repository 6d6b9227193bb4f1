// The Gate's POP3 relay (POP3RelaySession), driven by a client (arbitrary bytes), a model of
// a real server that answers the commands the session forwards, in order, with replies the
// fuzzer shapes (status, multi-line bodies, messages with dot-stuffing), the core's verdicts,
// and closes, in an order and in read sizes the fuzzer picks.
//
// Every RETR/TOP body the server model sends carries a marker (bytes 0xFF 0xFE id, which the
// fuzzer's own text never contains). Invariants (a crash when broken):
// - a marker reaches the client only after `checkFinished(.pass)` for the check whose message
//   held it, or after the session reported the message `unchecked` (by design: too large with
//   BlockUnchecked off, TOP not scanned);
// - after STLS is forwarded, nothing reaches the server until the server's reply is read;
//   server bytes that came in the same read as STLS's +OK never reach the client;
// - what the session buffers stays bounded (status line limit, message size limit, notice head).
import FuzzKit
@testable import Gate
import NIOCore

runFuzzer { input in
    var reader = FuzzInput(input)
    let options = reader.byte()
    let configuration = POP3RelaySession.Configuration(
        scanTop: options & 1 != 0, maxMessageSize: options & 2 != 0 ? 256 : 64 << 20,
        maxCommandLineLength: 300, maxStatusLineLength: 300, noticeHeadSize: 64)
    var session = POP3RelaySession(configuration: configuration)
    session.blockUnchecked = options & 4 != 0

    var serverOut: [UInt8] = []      // what the server model has written, not yet read by the relay
    var pending: [POP3Command] = []  // commands the server has received, not yet answered
    var partial: [UInt8] = []
    var greeted = false
    var modelTrusted = true          // false after raw server bytes: replies no longer match commands
    var stlsPending = false          // STLS forwarded, its reply not yet read by the session
    var stlsReplyEnd: Int? = nil     // offset in serverOut of the end of STLS's reply
    var authPending = false          // AUTH <mechanism> forwarded: lines are SASL data until its reply is read
    var authReplyEnd: Int? = nil
    var passthrough = false
    var serverTLS = false            // the server said OK to STLS/STARTTLS: it speaks TLS now, no more plaintext
    var closed = false
    var nextMarker: UInt8 = 1
    var released: Set<UInt8> = []
    var checkMarkers: [MailCheckID: [UInt8]] = [:]
    var openChecks: [MailCheckID] = []
    var clientStream: [UInt8] = []
    var scanned = 0

    func markers(in bytes: [UInt8]) -> [UInt8] {
        var found: [UInt8] = []
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == 0xFF && bytes[i + 1] == 0xFE { found.append(bytes[i + 2]); i += 3 } else { i += 1 }
        }
        return found
    }

    func perform(_ actions: [POP3RelaySession.Action]) {
        for action in actions { trace("  -> \(action)") }
        // Reports of unchecked messages release what is in flight (coarse, by design).
        for action in actions {
            if case .unchecked = action { for m in 1..<max(nextMarker, 1) { released.insert(m) } }
        }
        for action in actions {
            switch action {
            case .sendToServer(let bytes):
                invariant(!closed, "send after close")
                if passthrough { continue }
                invariant(!stlsPending || !modelTrusted, "client bytes forwarded after STLS, before its reply: \(bytes.bytes)")
                for byte in bytes.readableBytesView {
                    partial.append(byte)
                    if byte == UInt8(ascii: "\n") {
                        let command = POP3Command(line: partial)
                        partial = []
                        if authPending { continue }
                        pending.append(command)
                        if command.keyword == "STLS" { stlsPending = true }
                        if command.keyword == "AUTH" && !command.arguments.isEmpty { authPending = true }
                    }
                }
            case .sendToClient(let bytes):
                invariant(!closed, "send after close")
                clientStream += bytes.bytes
                let fresh = markers(in: Array(clientStream[max(0, scanned - 2)...]))
                scanned = clientStream.count
                for m in fresh where modelTrusted {
                    invariant(released.contains(m), "server message content (marker \(m)) reached the client without a verdict")
                }
            case .checkMessage(let id, let message, _):
                checkMarkers[id] = markers(in: message)
                openChecks.append(id)
                invariant(message.count <= configuration.maxMessageSize + 2, "message of \(message.count) bytes checked")
            case .replaceUnchecked(let id, let head, _, _):
                invariant(head.count <= configuration.noticeHeadSize, "notice head of \(head.count) bytes")
                checkMarkers[id] = []
                openChecks.append(id)
            case .unchecked:
                break
            case .startTLSPassthrough:
                passthrough = true
            case .injectionDiscarded:
                break
            case .close:
                closed = true
            }
        }
        invariant(session.bufferedBytes <= 4 * configuration.maxMessageSize + 8 * 1024 + serverOut.count + 70_000,
                  "session holds \(session.bufferedBytes) bytes")
    }

    func line(_ text: [UInt8]) -> [UInt8] { text + Array("\r\n".utf8) }

    func fuzzText(_ reader: inout FuzzInput) -> [UInt8] {
        reader.take(until: 0).filter { $0 != 0xFF && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }.prefix(100).map { $0 }
    }

    var steps = 0
    while !reader.isEmpty && !closed && steps < 1000 {
        steps += 1
        let event = reader.byte()
        trace("event \(event % (12)) (\(event))")
        switch event % 12 {
        case 0, 1, 2:
            // Client bytes, any size.
            perform(session.clientBytes(ByteBuffer(bytes: reader.take(until: 0) + (event & 0x80 != 0 ? [10] : []))))
        case 3, 4, 5:
            // The server model writes the reply to the oldest command (or the greeting).
            guard modelTrusted, !passthrough, !serverTLS else { continue }
            if !greeted {
                greeted = true
                serverOut += line(Array("+OK POP3 ready <1.2@example>".utf8))
                continue
            }
            guard !pending.isEmpty else { continue }
            let command = pending.removeFirst()
            let ok = reader.byte() % 5 != 0
            let text = fuzzText(&reader)
            if !ok {
                serverOut += line(Array("-ERR ".utf8) + text)
                if command.keyword == "STLS" { stlsReplyEnd = serverOut.count }
                if command.keyword == "AUTH" && !command.arguments.isEmpty { authReplyEnd = serverOut.count }
                continue
            }
            switch command.keyword {
            case "RETR", "TOP":
                let marker = nextMarker
                if nextMarker < 0xEE { nextMarker += 1 }
                serverOut += line(Array("+OK message follows".utf8))
                let lines = Int(reader.byte() % 6)
                for index in 0...lines {
                    var body = index == lines / 2 ? [0xFF, 0xFE, marker] + text : fuzzText(&reader)
                    if body.first == UInt8(ascii: ".") { body.insert(UInt8(ascii: "."), at: 0) }
                    serverOut += line(body)
                }
                serverOut += line([UInt8(ascii: ".")])
            case _ where command.keyword == "CAPA"
                || (["LIST", "UIDL", "AUTH"].contains(command.keyword) && command.arguments.isEmpty):
                // Multi-line replies only where the protocol has them (a `where` on a case list
                // would bind to its last pattern only).
                serverOut += line(Array("+OK".utf8))
                for _ in 0..<Int(reader.byte() % 4) {
                    var body = fuzzText(&reader)
                    if body.first == UInt8(ascii: ".") { body.insert(UInt8(ascii: "."), at: 0) }
                    serverOut += line(body)
                }
                serverOut += line([UInt8(ascii: ".")])
            case "STLS":
                // +OK, then bytes injected in the same segment (a marker that is never released).
                serverOut += line(Array("+OK Begin TLS".utf8))
                stlsReplyEnd = serverOut.count
                serverOut += line([0xFF, 0xFE, 0xEE] + text)
                // The relay reads it all at once.
                let bytes = serverOut
                serverOut = []
                stlsPending = false
                stlsReplyEnd = nil
                serverTLS = true
                authPending = false
                authReplyEnd = nil
                perform(session.serverBytes(ByteBuffer(bytes: bytes)))
            default:
                serverOut += line(Array("+OK ".utf8) + text)
                if command.keyword == "AUTH" && !command.arguments.isEmpty { authReplyEnd = serverOut.count }
            }
        case 6, 7, 8:
            // The relay reads some of what the server wrote.
            guard !serverOut.isEmpty else { continue }
            let count = event & 0x80 != 0 ? serverOut.count : min(serverOut.count, Int(reader.byte()) + 1)
            let bytes = Array(serverOut.prefix(count))
            serverOut.removeFirst(count)
            if let end = stlsReplyEnd {
                if end <= count { stlsPending = false; stlsReplyEnd = nil } else { stlsReplyEnd = end - count }
            }
            if let end = authReplyEnd {
                if end <= count { authPending = false; authReplyEnd = nil } else { authReplyEnd = end - count }
            }
            perform(session.serverBytes(ByteBuffer(bytes: bytes)))
        case 9:
            // The core's verdict on an open check.
            guard !openChecks.isEmpty else { continue }
            let id = openChecks.remove(at: Int(reader.byte()) % openChecks.count)
            let pass = reader.byte() & 1 == 0
            if pass { for m in checkMarkers[id] ?? [] { released.insert(m) } }
            perform(session.checkFinished(id: id, verdict: pass ? .pass : .deliver(Array("Subject: replaced\r\n\r\n.x\r\n".utf8))))
        case 10:
            // Raw server bytes (a server out of step, or after TLS: anything).
            let bytes = reader.take(until: 0).filter { $0 != 0xFF }
            if !passthrough { modelTrusted = false }
            perform(session.serverBytes(ByteBuffer(bytes: bytes)))
        default:
            switch reader.byte() % 4 {
            case 0: perform(session.serverClosed())
            case 1: perform(session.clientClosed())
            case 2:
                if passthrough {
                    session.resumeAfterTLS()
                    passthrough = false
                    serverTLS = false
                    serverOut = []; pending = []; partial = []; greeted = true; stlsPending = false
                }
            default:
                _ = (session.outstandingCommands, session.bufferedBytes)
            }
        }
    }
}
