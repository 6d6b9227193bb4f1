import Foundation
import MailD
import NIOCore
import NIOPosix

/// Collects the message of one request for the spamd, rspamd and clamd interfaces: in memory
/// up to the spool threshold, then in a private file (0600) so a large message never sits
/// whole in memory.
///
/// Lives on the event loop of its connection, and never blocks it: the spool file is created
/// and written on a thread pool, one write after the other. When more than `highWater` bytes
/// wait to be written, `append` returns a future that completes once they are down to
/// `lowWater`: the caller stops reading from the client until then (TCP then slows it down).
public final class MessageCollector {
    public let threshold: Int
    public let directory: String
    /// The spool file's name is this and a UUID: the start-up cleanup knows each interface's
    /// prefix in its directory (`msg-` for spamd, rspamd and clamd; `milter-` beside the core's `part-`).
    public let namePrefix: String
    public let eventLoop: any EventLoop
    let pool: NIOThreadPool
    /// Bytes received.
    public private(set) var count = 0
    /// The first bytes, kept even when spooled (envelope lines of Exim's mbox form).
    public private(set) var prefix: [UInt8] = []
    public static let prefixSize = 8192
    public var highWater = 4 << 20
    public var lowWater = 1 << 20

    private var bytes: [UInt8] = []
    /// Once spooled: the path and the chain of writes (carrying the descriptor; failed once
    /// any step failed, and the descriptor is then closed).
    private var spool: (path: String, chain: EventLoopFuture<Int32>)?
    private var pending = 0
    private var drained: EventLoopPromise<Void>?
    private var done = false
    /// Why the spool file could not be written (for the log line of the local failure), once a
    /// spool step failed.
    public private(set) var failure: String?

    public init(threshold: Int, directory: String, namePrefix: String = "msg-", eventLoop: any EventLoop,
                pool: NIOThreadPool = .singleton) {
        self.threshold = threshold
        self.directory = directory
        self.namePrefix = namePrefix
        self.eventLoop = eventLoop
        self.pool = pool
    }

    deinit { discard() }

    /// Whether the message went to a spool file.
    public var isSpooled: Bool { spool != nil }

    /// Adds a piece. Returns a future when the caller should pause reading until it completes
    /// (spool writes are behind), nil otherwise.
    @discardableResult
    public func append(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        eventLoop.preconditionInEventLoop()
        precondition(!done, "append after finish or discard")
        count += buffer.readableBytes
        // Copied as one block of memory each: appending a ByteBufferView went byte by byte
        // (34 K instructions for a 2 KB Milter message).
        buffer.withUnsafeReadableBytes { raw in
            let piece = raw.bindMemory(to: UInt8.self)
            if prefix.count < Self.prefixSize {
                prefix += piece.prefix(Self.prefixSize - prefix.count)
            }
            if spool == nil { bytes += piece }
        }
        if spool == nil {
            guard bytes.count > threshold else { return nil }
            startSpool()
            return backpressure()
        }
        write(buffer)
        return backpressure()
    }

    /// Where the message is for the check, once every write is done; nil when the spool
    /// file could not be written. The caller owns the file afterwards and removes it with
    /// `MessageCollector.remove`.
    public func finish() -> EventLoopFuture<MessageSource?> {
        eventLoop.preconditionInEventLoop()
        precondition(!done, "finish twice")
        done = true
        guard let spool else {
            defer { bytes = [] }
            return eventLoop.makeSucceededFuture(.bytes(bytes))
        }
        self.spool = nil
        let pool = pool, eventLoop = eventLoop, path = spool.path
        return spool.chain.flatMap { fd in
            pool.runIfActive(eventLoop: eventLoop) { () -> MessageSource? in
                close(fd) == 0 ? .file(path: path) : nil
            }
        }.flatMapError { _ in
            pool.runIfActive(eventLoop: eventLoop) { () -> MessageSource? in
                unlink(path)
                return nil
            }
        }.recover { _ in nil }
    }

    /// Drops the message (connection gone, request refused); the spool file is removed once
    /// the writes under way are done.
    public func discard() {
        done = true
        bytes = []
        drained?.succeed()
        drained = nil
        guard let spool else { return }
        self.spool = nil
        let pool = pool, eventLoop = eventLoop, path = spool.path
        spool.chain.whenComplete { result in
            _ = pool.runIfActive(eventLoop: eventLoop) {
                if case .success(let fd) = result { close(fd) }
                unlink(path)
            }
        }
    }

    public static func remove(_ source: MessageSource?) {
        if case .file(let path)? = source { unlink(path) }
    }

    private func startSpool() {
        let directory = directory
        let path = directory + "/" + namePrefix + UUID().uuidString
        let first = bytes
        bytes = []
        pending += first.count
        let opened = pool.runIfActive(eventLoop: eventLoop) { () throws -> Int32 in
            BlockingIO.offEventLoop()
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SpoolError(errno: errno, what: "cannot create \(path)") }
            try first.withUnsafeBytes { try Self.writeAll(fd, $0, path: path) }
            return fd
        }
        spool = (path, opened)
        settle(opened, count: first.count)
    }

    private func write(_ buffer: ByteBuffer) {
        guard let current = spool else { return }
        let pool = pool, eventLoop = eventLoop, path = current.path
        let next = current.chain.flatMap { fd in
            pool.runIfActive(eventLoop: eventLoop) { () throws -> Int32 in
                BlockingIO.offEventLoop()
                try buffer.withUnsafeReadableBytes { try Self.writeAll(fd, $0, path: path) }
                return fd
            }
        }
        spool = (current.path, next)
        pending += buffer.readableBytes
        settle(next, count: buffer.readableBytes)
    }

    private func settle(_ future: EventLoopFuture<Int32>, count: Int) {
        future.assumeIsolated().whenComplete { [self] result in
            if case .failure(let error) = result, failure == nil { failure = "\(error)" }
            pending -= count
            if pending <= lowWater, let drained {
                self.drained = nil
                drained.succeed()
            }
        }
    }

    private func backpressure() -> EventLoopFuture<Void>? {
        guard pending > highWater else { return nil }
        if let drained { return drained.futureResult }
        let promise = eventLoop.makePromise(of: Void.self)
        drained = promise
        return promise.futureResult
    }

    struct SpoolError: Error, CustomStringConvertible {
        var errno: Int32
        /// "cannot create PATH" or "cannot write to PATH".
        var what: String
        var description: String { "\(what): \(String(cString: strerror(errno)))" }
    }

    /// Writes everything; on failure closes `fd` (the chain then carries the error).
    static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0, errno == EINTR { continue }
            if n <= 0 {
                let error = SpoolError(errno: errno, what: "cannot write to \(path)")
                close(fd)
                throw error
            }
            offset += n
        }
    }
}

/// Reads a message the check saw back, for replies that return it.
public enum MessageBytes {
    public static func read(_ source: MessageSource, limit: Int = .max) -> [UInt8]? {
        switch source {
        case .bytes(let b): return limit < b.count ? Array(b.prefix(limit)) : b
        case .file(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            do {
                return [UInt8](try handle.read(upToCount: limit == .max ? Int.max : limit) ?? Data())
            } catch {
                return nil
            }
        }
    }
}

/// Writes part of an open file to a channel a chunk at a time, off the event loop, each
/// chunk once the previous one is written (the client's pace bounds the memory).
public enum FileStreamer {
    /// Sends `count` bytes of `fd` from `offset`; closes `fd` at the end, in any case.
    public static func send(fd: Int32, offset: Int64, count: Int, to channel: any Channel,
                            pool: NIOThreadPool = .singleton, chunkSize: Int = 64 << 10) -> EventLoopFuture<Void> {
        let eventLoop = channel.eventLoop
        @Sendable func step(_ offset: Int64, _ remaining: Int) -> EventLoopFuture<Void> {
            guard remaining > 0 else { return eventLoop.makeSucceededVoidFuture() }
            return SpoolReader.read(fd: fd, at: Int(offset), count: min(chunkSize, remaining), eventLoop: eventLoop, pool: pool)
                .flatMap { buffer in
                    let read = buffer.readableBytes
                    return channel.writeAndFlush(buffer).flatMap { step(offset + Int64(read), remaining - read) }
                }
        }
        let done = step(offset, count)
        done.whenComplete { _ in pool.submit { _ in close(fd) } }
        return done
    }
}

/// The envelope Exim writes in front of the message it sends (`From <sender> <date>`,
/// `X-Envelope-From:`, `X-Envelope-To:`), for rules on senders and recipients.
public enum MboxEnvelope {
    public static func parse(_ prefix: [UInt8]) -> (sender: String?, recipients: [String]) {
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

/// Stops reading from a connection while its spool file catches up.
public enum ReadPause {
    /// Turns reading off until `drained` completes, then on again if `resume` still agrees
    /// (a handler that paused reading for its own reason keeps it paused).
    public static func pause(_ context: ChannelHandlerContext, until drained: EventLoopFuture<Void>,
                             resume: @escaping () -> Bool = { true }) {
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        drained.assumeIsolated().whenComplete { _ in
            guard resume(), context.channel.isActive else { return }
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            context.read()
        }
    }
}
