import InterfaceSupport
import MailD
import NIOCore

/// The SMTP message being received: in memory up to the spool threshold, then in a private
/// spool file written off the event loop (InterfaceSupport's `MessageCollector`, which the
/// spamd, rspamd and clamd interfaces use too), every byte counted against the Gate's
/// `SpoolQuota`. Used on its relay's event loop only.
final class StoredMessage {
    private var collector: MessageCollector?
    private let quota: SpoolQuota
    /// Bytes taken from the quota, given back on `remove()`.
    private var reserved = 0
    private(set) var size = 0
    /// Where the checked message is, once `finish` completed.
    private(set) var source: MessageSource?

    /// Why the message could not be stored: nothing stored counts as the message after this.
    enum Failure: Equatable {
        /// The Gate's spool bound (MaxSpoolSize) is reached.
        case quota
        /// The spool file could not be made or written (disk full, permissions): Moat's fault.
        case io
    }
    private(set) var failure: Failure?

    init(threshold: Int, directory: String, quota: SpoolQuota, eventLoop: any EventLoop) {
        self.collector = MessageCollector(threshold: threshold, directory: directory, eventLoop: eventLoop)
        self.quota = quota
    }

    /// Adds a piece; a future when reading should pause until the spool writes catch up.
    func append(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        guard failure == nil, let collector else { return nil }
        guard quota.reserve(buffer.readableBytes) else {
            fail(.quota)
            return nil
        }
        reserved += buffer.readableBytes
        size += buffer.readableBytes
        return collector.append(buffer)
    }

    /// The message for the check, once every spool write is done; `failure` says why not.
    func finish(on eventLoop: any EventLoop) -> EventLoopFuture<MessageSource?> {
        guard failure == nil, let collector else { return eventLoop.makeSucceededFuture(nil) }
        self.collector = nil
        return collector.finish().assumeIsolated().map { [self] source in
            self.source = source
            if source == nil { fail(.io) }
            return source
        }.nonisolated()
    }

    /// Nothing more is stored: what was is dropped at once (a full disk or quota is not kept full).
    private func fail(_ failure: Failure) {
        self.failure = failure
        remove()
    }

    /// The message in memory, nil when it was spooled.
    var memory: [UInt8]? {
        if case .bytes(let bytes)? = source { return bytes }
        return nil
    }

    var path: String? {
        if case .file(let path)? = source { return path }
        return nil
    }

    /// Drops the message and its spool file; the quota is given back.
    func remove() {
        collector?.discard()
        collector = nil
        if let path { BlockingIO.unlink(path) }
        source = nil
        quota.release(reserved)
        reserved = 0
    }

    deinit { remove() }
}
