#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One SMTP client connection over a blocking POSIX socket, for `moat-bench smtp-load`: a
/// load thread owns it alone. Every wait is bounded by the socket's send and receive time-outs,
/// every reply by `maxReplyLines` lines of `maxLineBytes`.
final class SmtpConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// An SMTP reply: its code and the text of its lines (a multi-line `250-` reply has several).
    struct Reply {
        let code: Int
        let lines: [String]
        var isPositive: Bool { (200..<400).contains(code) }
        var text: String { lines.joined(separator: " / ") }
    }

    static let maxLineBytes = 4096
    static let maxReplyLines = 200

    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 16384)
    private var start = 0
    private var end = 0

    /// Connects to `host:port` (a name or an address, IPv4 or IPv6), with `timeout` seconds on
    /// every later send and receive.
    init(host: String, port: Int, timeout: Int) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let entry = candidate {
            let s = socket(entry.pointee.ai_family, entry.pointee.ai_socktype, entry.pointee.ai_protocol)
            if s >= 0 {
                if connect(s, entry.pointee.ai_addr, entry.pointee.ai_addrlen) == 0 {
                    fd = s
                    Self.configure(fd, timeout: timeout)
                    return
                }
                lastError = errno
                close(s)
            } else {
                lastError = errno
            }
            candidate = entry.pointee.ai_next
        }
        throw Failure(description: "connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    deinit { close(fd) }

    private static func configure(_ fd: Int32, timeout: Int) {
        var interval = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        // Commands and the message's last piece are small writes answered before the next one:
        // Nagle's wait for an acknowledgement (delayed 40 ms by the peer) would be the latency.
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sends every byte of `bytes` (short writes resumed; EINTR retried).
    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(description: "send: \(Self.errorText())")
                }
                offset += n
            }
        }
    }

    func send(_ line: String) throws {
        try send(Array(line.utf8))
    }

    /// Reads one whole reply: lines `NNN-text` up to the last one, `NNN text` (or `NNN`).
    func readReply() throws -> Reply {
        var lines: [String] = []
        while lines.count < Self.maxReplyLines {
            let line = try readLine()
            guard line.count >= 3, let code = Int(String(decoding: line[0..<3], as: UTF8.self)),
                  line.count == 3 || line[3] == UInt8(ascii: " ") || line[3] == UInt8(ascii: "-")
            else {
                throw Failure(description: "not an SMTP reply line: \(String(decoding: line.prefix(80), as: UTF8.self))")
            }
            lines.append(String(decoding: line, as: UTF8.self))
            if line.count == 3 || line[3] == UInt8(ascii: " ") {
                return Reply(code: code, lines: lines)
            }
        }
        throw Failure(description: "a reply of more than \(Self.maxReplyLines) lines")
    }

    /// One line without its CRLF (a bare LF is accepted), at most `maxLineBytes` long.
    private func readLine() throws -> [UInt8] {
        var scanned = start
        while true {
            if let newline = buffer[scanned..<end].firstIndex(of: UInt8(ascii: "\n")) {
                var last = newline
                if last > start && buffer[last - 1] == UInt8(ascii: "\r") { last -= 1 }
                let line = Array(buffer[start..<last])
                start = newline + 1
                return line
            }
            scanned = end
            guard end - start < Self.maxLineBytes else {
                throw Failure(description: "a reply line longer than \(Self.maxLineBytes) bytes")
            }
            if start > 0 {  // room at the back: move what is unread to the front
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                scanned -= start
                end -= start
                start = 0
            }
            let n = buffer.withUnsafeMutableBytes { raw in
                recv(fd, raw.baseAddress! + end, raw.count - end, 0)
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Failure(description: "receive: \(Self.errorText())") }
            if n == 0 { throw Failure(description: "the server closed the connection") }
            end += n
        }
    }

    private static func errorText() -> String {
        errno == EAGAIN ? "timed out" : String(cString: strerror(errno))
    }
}
