import Foundation

/// Finds the messages in what an administrator points `moat-ctl scan` at: a message file, an
/// mbox, a Maildir, or a directory of any of these.
public enum MessageFiles {
    public struct Item: Sendable {
        /// `file`, or `mbox#3` for the third message of an mbox.
        public var name: String
        public var source: MessageSource
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "\(path): cannot be read" }
    }

    /// Items in a stable order (sorted paths, mbox order). mbox files are split in memory, so
    /// each message of a large mbox becomes a `.bytes` source.
    public static func items(at path: String) throws -> [Item] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw Unreadable(path: path) }
        if !isDirectory.boolValue { return try fileItems(path) }
        guard let walker = FileManager.default.enumerator(atPath: path) else { throw Unreadable(path: path) }
        var files: [String] = []
        for case let relative as String in walker {
            let full = (path as NSString).appendingPathComponent(relative)
            var dir: ObjCBool = false
            // Maildir's tmp/ holds messages still being delivered: not ours to read.
            if relative.split(separator: "/").contains("tmp") { continue }
            if FileManager.default.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue { files.append(full) }
        }
        return try files.sorted().flatMap(fileItems)
    }

    static func fileItems(_ path: String) throws -> [Item] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Unreadable(path: path) }
        let head = (try? handle.read(upToCount: 5)) ?? Data()
        try? handle.close()
        guard head == Data("From ".utf8) else { return [Item(name: path, source: .file(path: path))] }
        guard let data = FileManager.default.contents(atPath: path) else { throw Unreadable(path: path) }
        let messages = Mbox.split([UInt8](data))
        if messages.count == 1 { return [Item(name: path, source: .bytes(messages[0]))] }
        return messages.enumerated().map { Item(name: "\(path)#\($0.offset + 1)", source: .bytes($0.element)) }
    }
}

/// mboxrd/mboxo: messages start at a `From ` line; the line itself is the mbox's, not the
/// message's, and `>From ` quoting is undone.
enum Mbox {
    static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var current: [UInt8] = []
        var lineStart = 0
        var inMessage = false
        while lineStart < bytes.count {
            let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? (bytes.count - 1)
            let line = bytes[lineStart...newline]
            if line.starts(with: "From ".utf8) {
                if inMessage { messages.append(trimmingSeparator(current)) }
                current = []
                inMessage = true
            } else if inMessage {
                if let unquoted = unquoteFrom(line) { current += unquoted } else { current += line }
            }
            lineStart = newline + 1
        }
        if inMessage { messages.append(trimmingSeparator(current)) }
        return messages
    }

    /// `>From `, `>>From ` ... lose one `>`.
    static func unquoteFrom(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let quotes = line.prefix { $0 == UInt8(ascii: ">") }.count
        guard quotes > 0, line.dropFirst(quotes).starts(with: "From ".utf8) else { return nil }
        return line.dropFirst()
    }

    /// The empty line before the next `From ` belongs to the mbox.
    static func trimmingSeparator(_ message: [UInt8]) -> [UInt8] {
        if message.suffix(2) == [10, 10] { return Array(message.dropLast()) }
        if message.suffix(4) == [13, 10, 13, 10] { return Array(message.dropLast(2)) }
        return message
    }
}
