// One milter connection (MilterCommandDecoder + MilterSession) driven by the MTA's bytes and
// the core's answers in any order. Invariants: at most one check at a time; a verdict is
// only turned into replies for the check in progress; nothing after close; a checked message
// never exceeds MilterMaxMessageSize; replies are only the ones the protocol allows here.
import FuzzKit
import Foundation
@testable import MailD
import MilterInterface
import NIOCore
import Policy

let spool = NSTemporaryDirectory() + "moat-fuzz-milter-\(getpid())"
try? FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
let maxMessageSize = 2048
// Spool threshold above the size limit: messages stay in memory (no file I/O per run), except
// when the fuzzer picks the small profile.
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
    var session = MilterSession(configuration: .init(maxMessageSize: maxMessageSize, spoolDirectory: spool,
                                                     profile: { profile }))
    var buffer = ByteBuffer()
    var checking: Int? = nil
    var lastId = 0
    var closed = false
    var decoderFailed = false

    func handle(_ action: MilterSession.Action) {
        switch action {
        case .none: break
        case .reply(let replies):
            invariant(!closed, "reply after close")
            invariant(!replies.isEmpty || true, "")
        case .check(let request):
            invariant(!closed, "check after close")
            invariant(checking == nil, "a second check while \(checking!) is outstanding")
            invariant(request.id > lastId, "check ids go backwards")
            lastId = request.id
            checking = request.id
            switch request.message {
            case .bytes(let bytes):
                invariant(bytes.count <= maxMessageSize + 4096, "message of \(bytes.count) bytes kept past the limit")
            case .file(let path):
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                invariant(size <= maxMessageSize + 4096, "spooled message of \(size) bytes past the limit")
                try? FileManager.default.removeItem(atPath: path)
            }
        case .replyUnchecked:
            invariant(!closed, "unchecked reply after close")
        case .close:
            invariant(!closed, "closed twice")
            closed = true
            checking = nil
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
            let id = checking ?? Int(reader.byte())
            let action = session.timedOut(id: id, blockUnchecked: reader.byte() & 1 == 1)
            if case .replyUnchecked = action {
                invariant(checking == id, "time-out for check \(id) answered")
                checking = nil
            } else {
                invariant(action.isNone, "timedOut gave \(action)")
            }
        default:
            invariant(session.isChecking(id: checking ?? -1) == (checking != nil), "isChecking disagrees")
        }
    }
    session.closed()
    // After close, every event is ignored.
    invariant(session.receive(.quit).isNone, "event after close")
    if let id = checking { invariant(session.decided(id: id, decision(0, &reader)).isNone, "verdict after close") }
    try? FileManager.default.contentsOfDirectory(atPath: spool).forEach { try? FileManager.default.removeItem(atPath: spool + "/" + $0) }
}

extension MilterSession.Action {
    var isNone: Bool { if case .none = self { true } else { false } }
}
