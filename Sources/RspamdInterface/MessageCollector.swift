import Foundation
import MailD
import NIOCore

/// Collects the message of one request: in memory up to the spool threshold, then in a
/// private file (0600) so a large message never sits whole in memory. Lives on the event
/// loop of its connection. (A copy of this file serves each filter interface.)
final class MessageCollector {
    let threshold: Int
    let directory: String
    private(set) var count = 0
    private(set) var bytes: [UInt8] = []
    /// The first bytes, kept even when spooled (envelope lines of Exim's mbox form).
    private(set) var prefix: [UInt8] = []
    private var fd: Int32 = -1
    private(set) var path: String?
    private(set) var failed = false
    static let prefixSize = 8192

    init(threshold: Int, directory: String) {
        self.threshold = threshold
        self.directory = directory
    }

    deinit { discard() }

    func append(_ buffer: ByteBuffer) {
        count += buffer.readableBytes
        if prefix.count < Self.prefixSize {
            prefix += buffer.readableBytesView.prefix(Self.prefixSize - prefix.count)
        }
        if failed { return }
        if fd < 0 {
            bytes += buffer.readableBytesView
            if bytes.count > threshold { spool() }
            return
        }
        buffer.withUnsafeReadableBytes { write($0) }
    }

    /// Where the message is for the check; nil when the spool file could not be written.
    /// The caller owns the file afterwards and removes it with `MessageCollector.remove`.
    func finish() -> MessageSource? {
        if failed { return nil }
        if fd >= 0 {
            close(fd)
            fd = -1
            let path = self.path
            self.path = nil
            return path.map { .file(path: $0) }
        }
        defer { bytes = [] }
        return .bytes(bytes)
    }

    func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        if let path { unlink(path); self.path = nil }
        bytes = []
    }

    static func remove(_ source: MessageSource?) {
        if case .file(let path)? = source { unlink(path) }
    }

    private func spool() {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let path = directory + "/msg-" + UUID().uuidString
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { failed = true; bytes = []; return }
        self.path = path
        bytes.withUnsafeBytes { write($0) }
        bytes = []
    }

    private func write(_ raw: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { failed = true; discard(); return }
            offset += n
        }
    }
}

/// Reads a message the check saw, for replies that return it (PROCESS).
enum MessageBytes {
    static func read(_ source: MessageSource, limit: Int = .max) -> [UInt8]? {
        switch source {
        case .bytes(let b): return limit < b.count ? Array(b.prefix(limit)) : b
        case .file(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            return (try? handle.read(upToCount: limit == .max ? Int.max : limit)).map { [UInt8]($0 ?? Data()) }
        }
    }
}

/// The envelope Exim writes in front of the message it sends (`From <sender> <date>`,
/// `X-Envelope-From:`, `X-Envelope-To:`), for rules on senders and recipients.
enum MboxEnvelope {
    static func parse(_ prefix: [UInt8]) -> (sender: String?, recipients: [String]) {
        guard prefix.starts(with: Array("From ".utf8)) else { return (nil, []) }
        var sender: String?
        var recipients: [String] = []
        for rawLine in prefix.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).prefix(40) {
            var line = String(decoding: rawLine, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty { break }
            if line.lowercased().hasPrefix("x-envelope-from:") {
                sender = line.dropFirst(16).trimmingCharacters(in: .whitespaces)
            } else if line.lowercased().hasPrefix("x-envelope-to:") {
                recipients += line.dropFirst(14).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
            }
        }
        return (sender, recipients)
    }
}
