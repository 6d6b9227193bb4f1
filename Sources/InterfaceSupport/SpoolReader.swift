import Foundation
import NIOCore
import NIOPosix

/// Reads a spool file back off the event loop, one chunk at a time: opening, reading and
/// closing run on the thread pool, so a slow disk never stalls the connections of a loop.
public struct SpoolReader: Sendable {
    public struct ReadError: Error, CustomStringConvertible {
        public var errno: Int32
        public var description: String { errno == 0 ? "unexpected end of file" : String(cString: strerror(errno)) }
    }

    let fd: Int32
    /// The file's size when it was opened.
    public let size: Int
    let pool: NIOThreadPool
    let eventLoop: any EventLoop

    public static func open(_ path: String, eventLoop: any EventLoop, pool: NIOThreadPool = .singleton) -> EventLoopFuture<SpoolReader> {
        pool.runIfActive(eventLoop: eventLoop) {
            BlockingIO.offEventLoop()
            let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ReadError(errno: errno) }
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let code = errno
                Foundation.close(fd)
                throw ReadError(errno: code)
            }
            return SpoolReader(fd: fd, size: Int(info.st_size), pool: pool, eventLoop: eventLoop)
        }
    }

    /// Exactly `count` bytes from `offset`; a file that ends sooner is an error (it shrank
    /// under its reader: what was read is not the message).
    public func read(at offset: Int, count: Int) -> EventLoopFuture<ByteBuffer> {
        Self.read(fd: fd, at: offset, count: count, eventLoop: eventLoop, pool: pool)
    }

    static func read(fd: Int32, at offset: Int, count: Int, eventLoop: any EventLoop, pool: NIOThreadPool) -> EventLoopFuture<ByteBuffer> {
        pool.runIfActive(eventLoop: eventLoop) { () throws -> ByteBuffer in
            BlockingIO.offEventLoop()
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            var got = 0
            while got < count {
                var failure: Int32 = 0
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - got) { raw in
                    let n = pread(fd, raw.baseAddress!, count - got, off_t(offset + got))
                    if n < 0 { failure = errno }
                    return max(n, 0)
                }
                if failure == EINTR { continue }
                if n == 0 { throw ReadError(errno: failure) }
                got += n
            }
            return buffer
        }
    }

    /// The size now: compared with `size` at the end, a file that grew is not the message either.
    public func currentSize() -> EventLoopFuture<Int> {
        pool.runIfActive(eventLoop: eventLoop) { [fd] in
            BlockingIO.offEventLoop()
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw ReadError(errno: errno) }
            return Int(info.st_size)
        }
    }

    public func close() {
        let fd = fd
        pool.submit { _ in Foundation.close(fd) }
    }
}

/// File I/O must never run on an event loop: one slow disk would stall every connection of
/// the loop. Debug builds stop at the first violation, so the test suite proves it.
public enum BlockingIO {
    @inline(__always)
    public static func offEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(MultiThreadedEventLoopGroup.currentEventLoop == nil, "blocking file I/O on an event loop", file: file, line: line)
    }

    /// Removes a spool file on the thread pool.
    public static func unlink(_ path: String, pool: NIOThreadPool = .singleton) {
        pool.submit { _ in
            offEventLoop()
            _ = Foundation.unlink(path)
        }
    }
}
