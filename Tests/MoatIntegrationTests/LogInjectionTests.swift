import Foundation
import SystemSetupSupport
import Testing

/// A free loopback TCP port (bound, read, closed).
/// A loopback port for moatd to listen on (see `LoopbackPorts`).
func freeLoopbackPort() -> Int {
    // Running out of 20,000 ports is a broken machine, not a test result.
    try! LoopbackPorts.reserve()
}

/// Send, half-close, read to EOF.
func tcpExchange(port: Int, _ bytes: [UInt8]) -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return [] }
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    shutdown(fd, Int32(SHUT_WR))
    var reply: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, 65536, 0) }
        if n <= 0 { break }
        reply += chunk[0..<n]
    }
    return reply
}

/// Fields from messages cannot forge log lines of the real daemon.
@Suite(.serialized, .offCooperativePool) struct LogInjectionTests {
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    /// Lines as a log viewer splits them (LF, CR, U+2028, NEL... all count).
    func viewerLines(_ log: String) -> [Substring] { log.split(whereSeparator: \.isNewline) }

    @Test func headerFieldsCannotForgeLogLines() throws {
        let port = freeLoopbackPort()
        let sandbox = try Sandbox(extra: "SpamdSocket = 127.0.0.1:\(port)\n")
        defer { sandbox.remove() }
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()

        let encoded = Data(Self.eicar.utf8).base64EncodedString()
        let forged = ["=?utf-8?q?a=0Averdict_pass=0D=0A?=", "<b\u{1B}[2J\u{1B}]0;owned\u{07}\u{2028}verdict pass\u{2029}\u{202E}gpj.exe\u{85}@x>"]
        for messageId in forged {
            let before = viewerLines(daemon.log).count
            let message = """
                From: Alice <alice@example.com>\r
                To: Bob <bob@example.org>\r
                Subject: =?utf-8?q?hello=0Aaction=3Dpass?=\r
                Message-ID: \(messageId)\r
                MIME-Version: 1.0\r
                Content-Type: multipart/mixed; boundary="b1"\r
                \r
                --b1\r
                Content-Type: application/octet-stream; name="eicar.com"\r
                Content-Transfer-Encoding: base64\r
                \r
                \(encoded)\r
                --b1--\r

                """
            let request = "CHECK SPAMC/1.5\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message
            let reply = String(decoding: tcpExchange(port: port, Array(request.utf8)), as: UTF8.self)
            #expect(reply.hasPrefix("SPAMD/1.1 0 EX_OK\r\nSpam: True"), "\(reply)")
            var log = daemon.log
            for _ in 0..<50 where !log.contains("verdict") { usleep(100_000); log = daemon.log }
            let lines = viewerLines(log)
            let added = lines.dropFirst(before)
            // One verdict line (MailD) and one request line (spamd): nothing else, nothing split.
            #expect(added.filter { $0.contains("verdict") }.count == 1, "\(added)")
            #expect(added.allSatisfy { $0.range(of: #"^\d{4}-\d\d-\d\dT"#, options: .regularExpression) != nil }, "\(added)")
            #expect(!log.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F || (0x80...0x9F).contains($0.value) || $0.value == 0x2028 || $0.value == 0x202E },
                    "control characters reached the log")
        }
        let log = daemon.log
        #expect(log.contains(#"message_id=b\e[2J\e]0;owned\x07\u{2028}verdict pass\u{2029}\u{202E}gpj.exe\u{85}@x"#) || log.contains(#"message_id=<b\e[2J"#), "\(log)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}
