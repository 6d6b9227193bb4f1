import CZlib
import NIOCore

/// `Compress: zlib` (spamc -z): the body is one zlib stream, inflated here piece by piece
/// between the decoder and the session, so the session and the check see the message as
/// sent. `maxSize` bounds the inflated message (a small stream can inflate a lot).
struct SpamdDecompression {
    let maxSize: Int
    private var inflater: ZlibInflater?
    private var failed = false

    init(maxSize: Int) { self.maxSize = maxSize }

    mutating func process(_ part: SpamdRequestPart) -> SpamdRequestPart {
        if failed { return part }
        switch part {
        case .head(let head):
            guard head.header("Compress")?.lowercased() == "zlib" else { return part }
            inflater = ZlibInflater()
            if inflater == nil { return fail(SpamdError(.software, "EX_SOFTWARE cannot start zlib")) }
            return part
        case .body(let piece):
            guard let inflater else { return part }
            do {
                return .body(try inflater.inflate(piece, limit: maxSize))
            } catch let error as ZlibInflater.Failure {
                return fail(error.spamd(maxSize))
            } catch {
                return fail(SpamdError(.dataError, "EX_DATAERR bad zlib stream"))
            }
        case .end:
            guard let inflater else { return part }
            self.inflater = nil
            return inflater.ended ? part : fail(SpamdError(.dataError, "EX_DATAERR truncated zlib stream"))
        case .error:
            return part
        }
    }

    private mutating func fail(_ error: SpamdError) -> SpamdRequestPart {
        failed = true
        inflater = nil
        return .error(error)
    }
}

/// One zlib stream (RFC 1950), inflated incrementally.
final class ZlibInflater {
    enum Failure: Error {
        case data, tooBig, trailing
        func spamd(_ maxSize: Int) -> SpamdError {
            switch self {
            case .data: SpamdError(.dataError, "EX_DATAERR bad zlib stream")
            case .tooBig: SpamdError(.dataError, "Message too big: more than \(maxSize) bytes once inflated")
            case .trailing: SpamdError(.dataError, "EX_DATAERR bytes after the end of the zlib stream")
            }
        }
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private(set) var ended = false
    private(set) var total = 0

    init?() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard inflateInit_(stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func inflate(_ input: ByteBuffer, limit: Int) throws -> ByteBuffer {
        var output = ByteBufferAllocator().buffer(capacity: min(max(input.readableBytes * 4, 4096), 1 << 20))
        try input.withUnsafeReadableBytes { raw in
            guard raw.count > 0 else { return }
            if ended { throw Failure.trailing }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: Bytef.self).baseAddress)
            stream.pointee.avail_in = uInt(raw.count)
            defer { stream.pointee.next_in = nil; stream.pointee.avail_in = 0 }
            while true {
                var status: Int32 = Z_OK
                var full = false
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 << 10) { out in
                    stream.pointee.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    status = CZlib.inflate(stream, Z_NO_FLUSH)
                    full = stream.pointee.avail_out == 0
                    let written = out.count - Int(stream.pointee.avail_out)
                    stream.pointee.next_out = nil
                    stream.pointee.avail_out = 0
                    return written
                }
                guard output.readableBytes + total <= limit else { throw Failure.tooBig }
                switch status {
                case Z_STREAM_END:
                    ended = true
                    if stream.pointee.avail_in > 0 { throw Failure.trailing }
                    total += output.readableBytes
                    return
                case Z_OK, Z_BUF_ERROR:
                    // More input needed, or more room: go on while there is either.
                    if stream.pointee.avail_in == 0 && !full {
                        total += output.readableBytes
                        return
                    }
                    if status == Z_BUF_ERROR && !full { throw Failure.data }
                default:
                    throw Failure.data
                }
            }
        }
        return output
    }
}
