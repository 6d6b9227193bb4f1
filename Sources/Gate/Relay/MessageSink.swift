import Foundation
import MailD
import NIOCore

/// The message being received: in memory up to `threshold` bytes, then in a private spool file
/// (0600, in a 0700 directory), so a large message never sits whole in memory.
/// Used on its relay's event loop only.
final class MessageSink: @unchecked Sendable {
    let threshold: Int
    let directory: String
    let quota: SpoolQuota?
    private(set) var size = 0
    private var bytes: [UInt8] = []
    private var fd: Int32 = -1
    private(set) var path: String?
    /// Why the message could not be stored: nothing stored counts as the message after this.
    enum Failure: Equatable {
        /// The Gate's spool bound (MaxSpoolSize) is reached.
        case quota
        /// The spool file could not be made or written (disk full, permissions): Moat's fault.
        case io(Int32)
    }
    private(set) var failure: Failure?
    var failed: Bool { failure != nil }
    /// Bytes taken from the quota, given back on `remove()`.
    private var reserved = 0

    init(threshold: Int, directory: String, quota: SpoolQuota? = nil) {
        self.threshold = threshold
        self.directory = directory
        self.quota = quota
    }

    func append(_ buffer: ByteBuffer) {
        guard !failed else { return }
        if let quota {
            guard quota.reserve(buffer.readableBytes) else { fail(.quota); return }
            reserved += buffer.readableBytes
        }
        size += buffer.readableBytes
        if fd < 0, bytes.count + buffer.readableBytes <= threshold {
            bytes.append(contentsOf: buffer.readableBytesView)
            return
        }
        if fd < 0 {
            guard spill() else { fail(.io(errno)); return }
        }
        let ok = buffer.withUnsafeReadableBytes { Self.writeAll(fd, $0) }
        if !ok { fail(.io(errno)) }
    }

    /// Nothing more is stored: what was is dropped at once (a full disk or quota is not kept full).
    private func fail(_ failure: Failure) {
        self.failure = failure
        remove()
    }

    private func spill() -> Bool {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let file = directory + "/smtp-" + UUID().uuidString
        fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        path = file
        let ok = bytes.withUnsafeBytes { Self.writeAll(fd, $0) }
        bytes = []
        return ok
    }

    static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0, errno == EINTR { continue }
            if n == 0 { errno = ENOSPC }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// The message for the core's check.
    var source: MessageSource {
        if let path { return .file(path: path) }
        return .bytes(bytes)
    }

    /// The message held in memory (nil when it was spooled).
    var memory: [UInt8]? { path == nil ? bytes : nil }

    /// Closes and deletes the spool file, if any.
    func remove() {
        if fd >= 0 { close(fd); fd = -1 }
        if let path { unlink(path) }
        path = nil
        bytes = []
        quota?.release(reserved)
        reserved = 0
    }

    deinit { remove() }
}
