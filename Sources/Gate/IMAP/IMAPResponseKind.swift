import NIOCore

/// What a server response is, from its first line segment: what the relay learns from it and
/// whether its literals may hold message content (only FETCH responses' do).
enum IMAPResponseKind: Sendable {
    case continuation
    /// `* n FETCH (...)`; the tracker follows its items across segments.
    case fetch(IMAPFetchTracker)
    /// `<tag|*> OK|NO|BAD|BYE|PREAUTH ...`; `tag` nil for untagged.
    case status(tag: String?, status: String)
    case exists(UInt32)
    case expunge(UInt32)
    case vanished
    case other

    init(firstSegment text: ByteBuffer) {
        let words = text.readableBytesView.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: true)
            .map { String(decoding: $0, as: UTF8.self) }
        guard let first = words.first else {
            self = .other
            return
        }
        if first.hasPrefix("+") {
            self = .continuation
            return
        }
        let second = words.count > 1 ? words[1].uppercased() : ""
        if ["OK", "NO", "BAD", "BYE", "PREAUTH"].contains(second) {
            self = .status(tag: first == "*" ? nil : first, status: second)
            return
        }
        self = .other
        guard first == "*" else { return }
        if second == "VANISHED" {
            self = .vanished
            return
        }
        if words.count > 2, let number = UInt32(words[1]) {
            switch words[2].uppercased() {
            case "FETCH": self = .fetch(IMAPFetchTracker())
            case "EXISTS": self = .exists(number)
            case "EXPUNGE": self = .expunge(number)
            default: break
            }
        }
    }

    var isFetch: Bool {
        if case .fetch = self { return true }
        return false
    }

    /// The number in a response code (`[UIDVALIDITY 3857529045]`) of a status line.
    static func responseCodeNumber(_ name: String, in text: String?) -> UInt32? {
        guard let text else { return nil }
        let upper = Array(text.uppercased().utf8)
        let needle = Array(("[" + name.uppercased() + " ").utf8)
        guard upper.count >= needle.count else { return nil }
        for start in 0...(upper.count - needle.count) where upper[start..<(start + needle.count)].elementsEqual(needle) {
            let digits = upper[(start + needle.count)...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            return UInt32(String(decoding: digits, as: UTF8.self))
        }
        return nil
    }
}
