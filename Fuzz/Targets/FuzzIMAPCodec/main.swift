// IMAP framing and tokens (IMAPFramer in both directions, IMAPTokenizer, the FETCH literal
// tracker, the CAPABILITY filter): any bytes, split anywhere, give the same segments and
// literals as whole (literal bytes compared joined); events concatenate back to the input;
// a segment is never longer than the limit; the capability filter only removes, and removes
// everything at once.
@testable import Gate
import Foundation
import FuzzKit
import NIOCore

enum Event: Equatable {
    case segment([UInt8], textLength: Int, literal: IMAPLiteralMarker?, first: Bool)
    case literal([UInt8])
    case literalEnd
    case tooLong
}

func frame(_ pieces: [[UInt8]], direction: IMAPFramer.Direction, limit: Int, bounded: Bool) -> [Event] {
    var framer = IMAPFramer(direction: direction, maxLineLength: limit)
    var events: [Event] = []
    outer: for piece in pieces {
        framer.append(ByteBuffer(bytes: piece))
        while true {
            let event: IMAPFramer.Event?
            do { event = try framer.next() } catch { events.append(.tooLong); break outer }
            guard let event else { break }
            switch event {
            case .segment(let bytes, let textLength, let literal, let first):
                invariant(bytes.readableBytes <= limit + 2, "segment of \(bytes.readableBytes) bytes")
                invariant(textLength >= 0 && textLength <= bytes.readableBytes, "text length \(textLength) outside the segment")
                events.append(.segment(bytes.bytes, textLength: textLength, literal: literal, first: first))
            case .literalBytes(let bytes):
                invariant(bytes.readableBytes > 0, "empty literal piece")
                if case .literal(let some)? = events.last { events[events.count - 1] = .literal(some + bytes.bytes) }
                else { events.append(.literal(bytes.bytes)) }
            case .literalEnd:
                events.append(.literalEnd)
            }
        }
        if bounded { invariant(framer.bufferedBytes <= limit + 1 + piece.count, "\(framer.bufferedBytes) bytes buffered") }
    }
    return events
}


/// Known open finding (Fuzz/README.md): a line of limit+1 or limit+2 bytes with its terminator
/// is taken whole but refused as too long when a read ends before its LF. With
/// MOAT_FUZZ_KNOWN=1 that one difference is tolerated so runs can look past it.
let knownLineLimit = toleratesKnownFindings

func sameUpToKnownLineLimit<E: Equatable>(_ a: [E], _ b: [E], limit: Int, isTooLong: (E) -> Bool, lineLength: (E) -> Int?) -> Bool {
    if a == b { return true }
    guard knownLineLimit else { return false }
    let i = zip(a, b).prefix(while: { $0 == $1 }).count
    guard i < a.count, i < b.count else { return false }
    let (x, y) = (a[i], b[i])
    let cut = isTooLong(x) ? y : isTooLong(y) ? x : nil
    guard let line = cut, let length = lineLength(line) else { return false }
    return length == limit + 1 || length == limit + 2
}

runFuzzer { input in
    var reader = FuzzInput(input)
    let choice = reader.byte()
    let direction: IMAPFramer.Direction = choice & 1 == 0 ? .fromServer : .fromClient
    let limit = Int(reader.byte()) + 1
    let splits = Splits(reader.rest())
    let whole = frame([splits.payload], direction: direction, limit: limit, bounded: false)
    let pieces = frame(splits.pieces, direction: direction, limit: limit, bounded: true)
    let segmentLength: (Event) -> Int? = { if case .segment(let b, _, _, _) = $0 { b.count } else { nil } }
    invariant(sameUpToKnownLineLimit(whole, pieces, limit: limit, isTooLong: { $0 == .tooLong }, lineLength: segmentLength),
              "split changes the IMAP events:\n\(whole)\nvs\n\(pieces)")
    var joined: [UInt8] = []
    var tracker = IMAPFetchTracker()
    for event in whole {
        switch event {
        case .segment(let bytes, let textLength, let literal, _):
            joined += bytes
            let tokens = IMAPTokenizer.tokenize(bytes.prefix(textLength))
            _ = tracker.consume(tokens, endsWithLiteral: literal != nil)
            if let literal { _ = literal.wireBytes }
            if let stripped = IMAPCapabilityFilter.strip(line: bytes) {
                invariant(stripped.count < bytes.count, "the capability filter made a line longer")
                invariant(IMAPCapabilityFilter.strip(line: stripped) == nil, "COMPRESS left after filtering: \(stripped)")
            }
        case .literal(let bytes): joined += bytes
        case .literalEnd, .tooLong: break
        }
    }
    invariant(splits.payload.starts(with: joined), "events do not concatenate back to the input")
}
