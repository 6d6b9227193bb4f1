import Foundation

/// Sends a released message to `QuarantineReleaseRelay` over plain SMTP: EHLO, MAIL FROM
/// with the original envelope sender, RCPT TO for each original recipient, DATA with the
/// original bytes (lines ending in CRLF, dot-stuffed) behind one added header saying who
/// released it. Blocking, on a thread of its own; every read and write has a deadline.
struct ReleaseSender: Sendable {
    var host: String
    var port: Int
    var heloName: String
    var timeout: TimeInterval = 30

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Outcome: Sendable, Equatable {
        var accepted: [String]
        var refused: [String]
        /// The relay's answer to the message (its queue id, for the log).
        var finalReply: String
    }

    func send(_ message: [UInt8], sender: String?, recipients: [String], header: String) throws -> Outcome {
        guard !recipients.isEmpty else { throw Failure(description: "the message has no recipients to release it to") }
        let connection = try SMTPConnection(host: host, port: port, timeout: timeout)
        defer { connection.close() }
        try expect(connection.reply(), 220, "greeting")
        try expect(connection.command("EHLO \(heloName)"), 250, "EHLO")
        try expect(connection.command("MAIL FROM:<\(Self.clean(sender ?? ""))>"), 250, "MAIL FROM")
        var accepted: [String] = [], refused: [String] = []
        for recipient in recipients {
            let reply = try connection.command("RCPT TO:<\(Self.clean(recipient))>")
            if reply.code == 250 || reply.code == 251 { accepted.append(recipient) } else { refused.append(recipient) }
        }
        guard !accepted.isEmpty else {
            _ = try? connection.command("QUIT")
            throw Failure(description: "the relay \(host):\(port) refused every recipient")
        }
        try expect(connection.command("DATA"), 354, "DATA")
        try connection.write(Self.dataBody(message, header: header))
        let final = try connection.reply()
        try expect(final, 250, "the message")
        _ = try? connection.command("QUIT")
        return Outcome(accepted: accepted, refused: refused, finalReply: final.text)
    }

    private func expect(_ reply: SMTPReply, _ code: Int, _ step: String) throws {
        guard reply.code == code else {
            throw Failure(description: "the relay \(host):\(port) answered \(step) with \(reply.text)")
        }
    }

    /// An address inside <>: no line breaks, no angle brackets (it came from a peer once).
    static func clean(_ address: String) -> String {
        String(address.unicodeScalars.filter { $0.value >= 0x21 && $0 != "<" && $0 != ">" && $0.value != 0x7F }.map(Character.init))
    }

    /// The header, then the message with every line ending in CRLF and lines starting with
    /// "." doubled, then the end mark.
    static func dataBody(_ message: [UInt8], header: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + header.utf8.count + message.count / 40 + 8)
        out += Array(header.utf8)
        if !header.hasSuffix("\r\n") { out += [0x0D, 0x0A] }
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            if atLineStart && byte == 0x2E { out.append(0x2E) }
            if byte == 0x0A {
                if !(index > 0 && message[index - 1] == 0x0D) { out.append(0x0D) }
                out.append(0x0A)
                atLineStart = true
            } else {
                out.append(byte)
                atLineStart = false
            }
            index += 1
        }
        if !atLineStart { out += [0x0D, 0x0A] }
        out += Array(".\r\n".utf8)
        return out
    }
}

/// One TCP connection with deadlines on every read and write.
final class SMTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(host: String, port: Int, timeout: TimeInterval) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ReleaseSender.Failure(description: "cannot resolve the relay \(host)")
        }
        defer { freeaddrinfo(list) }
        var connected: Int32 = -1
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        var lastError: Int32 = 0
        while let entry = cursor, connected < 0 {
            let s = socket(entry.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if s >= 0 {
                var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
                setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if connect(s, entry.pointee.ai_addr, entry.pointee.ai_addrlen) == 0 { connected = s } else {
                    lastError = errno
                    Glibc.close(s)
                }
            }
            cursor = entry.pointee.ai_next
        }
        guard connected >= 0 else {
            throw ReleaseSender.Failure(description: "cannot connect to the relay \(host):\(port): \(String(cString: strerror(lastError)))")
        }
        fd = connected
    }

    func reply() throws -> SMTPReply {
        while true {
            if let (reply, used) = try SMTPReply.parse(buffer) {
                buffer.removeFirst(used)
                return reply
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                throw ReleaseSender.Failure(description: n == 0 ? "the relay closed the connection" : "reading from the relay: \(String(cString: strerror(errno)))")
            }
            buffer += chunk[0..<n]
        }
    }

    func command(_ line: String) throws -> SMTPReply {
        try write(Array((line + "\r\n").utf8))
        return try reply()
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw ReleaseSender.Failure(description: "writing to the relay: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    func close() { Glibc.close(fd) }
}
