// One milter connection (MilterCommandDecoder + MilterSession) driven by the MTA's bytes and
// the core's answers (verdicts, time-outs, a spool that could not be written) in any order.
// Invariants: at most one check at a time; a verdict is only turned into replies for the check
// in progress; nothing after close; bytes are stored only for a message begun and not dropped;
// a stored (checked) message never exceeds MilterMaxMessageSize; a spool failure never passes
// the message. The session does no I/O: what it emits to be stored is only counted here.
import FuzzKit
import Foundation
@testable import MailD
import MilterInterface
import NIOCore
import Policy

let maxMessageSize = 2048
// Two profiles, so `begin` is seen to carry the spool threshold of the profile in force.
let memoryProfile = CheckProfile(name: "Milter", blockUnchecked: true, spoolThreshold: 1 << 20)
let spoolProfile = CheckProfile(name: "Milter", blockUnchecked: false, spoolThreshold: 64)

func decision(_ choice: UInt8, _ reader: inout FuzzInput) -> Decision {
    let actions: [FinalAction] = [.pass, .reject(nil), .reject("no\r\nway"), .tempfail(nil), .discard, .repack(nil)]
    let action = actions[Int(choice) % actions.count]
    let headerCount = Int(reader.byte() % 3)
    var headers: [(name: String, value: String)] = []
    for _ in 0..<headerCount {
        headers.append((String(decoding: reader.take(until: 0), as: UTF8.self), String(decoding: reader.take(until: 0), as: UTF8.self)))
    }
    let repacked: [UInt8]? = action == .repack(nil) ? reader.take(Int(reader.byte())) : nil
    return Decision(report: CheckReport(envelope: Envelope(source: .milter), profile: "Milter", size: 0, parts: [],
                                        messageUnchecked: [], elapsedMilliseconds: 0, engineGeneration: 0),
                    verdict: Verdict(action: action), action: action, headersToAdd: headers,
                    repackedMessage: repacked, reason: "fuzz")
}

runFuzzer { input in
    var reader = FuzzInput(input)
    let small = reader.byte() & 1 == 1
    let profile = small ? spoolProfile : memoryProfile
    var session = MilterSession(configuration: .init(maxMessageSize: maxMessageSize, profile: { profile }))
    var buffer = ByteBuffer()
    var checking: Int? = nil
    var lastId = 0
    var closed = false
    var decoderFailed = false
    /// Bytes the handler would hold for the message being received; nil when none is begun.
    var stored: Int? = nil

    func handle(_ action: MilterSession.Action) {
        switch action {
        case .none: break
        case .reply(let replies):
            invariant(!closed, "reply after close")
            invariant(!replies.isEmpty || true, "")
        case .store(let piece, _):
            invariant(!closed, "store after close")
            switch piece {
            case .begin(let threshold):
                invariant(checking == nil, "a message begun while check \(checking!) is outstanding")
                invariant(threshold == profile.spoolThreshold, "begin with threshold \(threshold), not the profile's")
                stored = 0
            case .bytes(let bytes):
                guard let count = stored else { invariant(false, "bytes stored without a message begun"); return }
                stored = count + bytes.readableBytes
                invariant(stored! <= maxMessageSize, "\(stored!) bytes stored past the limit")
            case .drop:
                stored = nil
            }
        case .check(let request):
            invariant(!closed, "check after close")
            invariant(checking == nil, "a second check while \(checking!) is outstanding")
            invariant(request.id > lastId, "check ids go backwards")
            guard let count = stored else { invariant(false, "a check of a message not begun or dropped"); return }
            invariant(count + request.lastBytes.readableBytes <= maxMessageSize,
                      "checked message of \(count + request.lastBytes.readableBytes) bytes past the limit")
            stored = nil
            lastId = request.id
            checking = request.id
        case .replyUnchecked:
            invariant(!closed, "unchecked reply after close")
            stored = nil
        case .close:
            invariant(!closed, "closed twice")
            closed = true
            checking = nil
            stored = nil
        }
    }

    while !reader.isEmpty && !closed {
        let event = reader.byte()
        switch event % 8 {
        case 0, 1, 2, 3, 4:
            // Bytes from the MTA.
            guard !decoderFailed else { continue }
            buffer.writeBytes(reader.take(Int(reader.byte())))
            do {
                while let command = try MilterCommandDecoder.next(&buffer) {
                    let wasChecking = checking
                    let action = session.receive(command)
                    if case .abort = command, wasChecking != nil, !closed { checking = nil }
                    handle(action)
                    if closed { break }
                }
            } catch {
                decoderFailed = true
                session.closed()
                closed = true
            }
        case 5:
            // The core's verdict, for the current check or a stale one.
            let id = reader.byte() & 1 == 0 ? (checking ?? lastId) : Int(reader.byte())
            let action = session.decided(id: id, decision(reader.byte(), &reader))
            if case .reply = action {
                invariant(checking == id, "a verdict for check \(id) turned into replies (checking: \(String(describing: checking)))")
                checking = nil
            } else {
                invariant(action.isNone, "decided gave \(action)")
            }
        case 6:
            // MilterScanTimeout, or the handler could not write the spool.
            let id = checking ?? Int(reader.byte())
            let choice = reader.byte()
            let spoolFailed = choice & 2 != 0
            let action = spoolFailed ? session.notStored(id: id, reason: "fuzz")
                                     : session.timedOut(id: id, blockUnchecked: choice & 1 == 1)
            if case .replyUnchecked(let replies, _) = action {
                invariant(checking == id, "time-out or spool failure for check \(id) answered")
                if spoolFailed {
                    invariant(!replies.contains { if case .accept = $0 { true } else { false } }, "a spool failure passed the message")
                }
                checking = nil
            } else {
                invariant(action.isNone, "\(spoolFailed ? "notStored" : "timedOut") gave \(action)")
            }
        default:
            invariant(session.isChecking(id: checking ?? -1) == (checking != nil), "isChecking disagrees")
        }
    }
    session.closed()
    // After close, every event is ignored.
    invariant(session.receive(.quit).isNone, "event after close")
    if let id = checking { invariant(session.decided(id: id, decision(0, &reader)).isNone, "verdict after close") }
}

extension MilterSession.Action {
    var isNone: Bool { if case .none = self { true } else { false } }
}
