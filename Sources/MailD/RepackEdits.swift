import Foundation

/// A repacked message as edits of the original, for a front-end that can only change a
/// message in place (a milter): the MIME header fields that differ, the fields the repacked
/// message has and the original had not, and the new body.
public struct RepackEdits: Sendable, Equatable {
    public enum HeaderEdit: Sendable, Equatable {
        /// Replace the first field of this name (an empty value removes it).
        case change(name: String, value: String)
        case add(name: String, value: String)
    }

    /// Values as they follow the colon, folds kept as CRLF.
    public var headers: [HeaderEdit]
    public var body: [UInt8]

    static let mimeFields = ["MIME-Version", "Content-Type", "Content-Transfer-Encoding"]

    /// The edits that turn a message with `originalHeaders` into `repacked`.
    public init(repacked: [UInt8], originalHeaders: [(name: String, value: String)]) {
        let (fields, body) = Self.split(repacked)
        self.body = Array(body)
        func normal(_ v: String) -> String { v.trimmingCharacters(in: .whitespacesAndNewlines) }
        func original(_ name: String) -> String? {
            originalHeaders.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        var edits: [HeaderEdit] = []
        for name in Self.mimeFields {
            let new = fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            switch (original(name), new) {
            case let (old?, new?) where normal(old) != normal(new.value): edits.append(.change(name: name, value: new.value))
            case (nil, let new?): edits.append(.add(name: new.name, value: new.value))
            case (_?, nil): edits.append(.change(name: name, value: ""))
            default: break
            }
        }
        for field in fields where !Self.mimeFields.contains(where: { $0.caseInsensitiveCompare(field.name) == .orderedSame })
            && original(field.name) == nil {
            edits.append(.add(name: field.name, value: field.value))
        }
        headers = edits
    }

    /// Header fields (value = what follows the colon, folds kept as CRLF) and the body.
    static func split(_ message: [UInt8]) -> (fields: [(name: String, value: String)], body: ArraySlice<UInt8>) {
        var fields: [(name: String, value: String)] = []
        var index = 0
        while index < message.count {
            var end = index
            while end < message.count, message[end] != 0x0A { end += 1 }
            var line = message[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            index = min(end + 1, message.count)
            if line.isEmpty { break }
            if line.first == 0x20 || line.first == 0x09, !fields.isEmpty {
                fields[fields.count - 1].value += "\r\n" + String(decoding: line, as: UTF8.self)
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                fields.append((String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces),
                               String(decoding: line[(colon + 1)...], as: UTF8.self)))
            }
        }
        return (fields, message[index...])
    }
}
