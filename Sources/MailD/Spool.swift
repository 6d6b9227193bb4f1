import Foundation
import MIME

/// Decodes parts of large messages to private files, chunk by chunk, so a 50 MB attachment
/// is never held decoded in memory next to the message.
struct Spool: Sendable {
    let directory: String
    static let chunkSize = 1 << 20

    func decode(_ part: Part, of message: MIMEMessage, problems: inout [MIMEProblem]) -> ScanInput? {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let path = directory + "/part-" + UUID().uuidString
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        defer { close(fd) }

        var decoder = BodyDecoder(encoding: part.transferEncoding)
        let body = message.rawBody(of: part)
        var size = 0
        var output: [UInt8] = []
        output.reserveCapacity(Self.chunkSize)
        var start = body.startIndex
        func flush() -> Bool {
            defer { output.removeAll(keepingCapacity: true) }
            return output.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n <= 0 { return false }
                    offset += n
                }
                size += raw.count
                return true
            }
        }
        while start < body.endIndex {
            let end = min(start + Self.chunkSize, body.endIndex)
            if part.isLeaf {
                decoder.decode(body[start..<end], into: &output)
            } else {
                output += body[start..<end]
            }
            guard flush() else { unlink(path); return nil }
            start = end
        }
        decoder.finish(into: &output)
        guard flush() else { unlink(path); return nil }
        problems += decoder.problems
        return .file(path: path, size: size)
    }
}

/// Reads a spooled message straight into one array: going through `Data` would hold the
/// message twice at the peak.
enum SpoolFile {
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let size = Int(info.st_size)
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var offset = 0
            while offset < size {
                let n = Foundation.read(fd, buffer.baseAddress! + offset, size - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                offset += n
            }
            failed = offset != size
            count = offset
        }
        return failed ? nil : bytes
    }
}
