import Foundation
import Logging
import MailD
import MoatConfig
import NIOCore
import NIOPosix
import SystemSetupSupport
import ThreatEngine

/// Test inputs and helpers shared by the filter-interface tests.
public enum Support {
    public static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    public static let rules = """
        [MailD]
        SpamdRuleSet = threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT "The message contains a THREAT"
        SpamdRuleSet = body match (".*buy.*") : REJECT "This is a SPAM message"
        SpamdRuleSet = body match (".*later.*") : TEMPFAIL "Try again later, please"
        RspamdRuleSet = threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT "The message contains a THREAT"
        RspamdRuleSet = body match (".*buy.*") : REJECT "This is a SPAM message"
        RspamdRuleSet = body match (".*later.*") : TEMPFAIL "Try again later, please"
        """

    public static func settings(_ extra: String = "") throws -> SettingsStore {
        SettingsStore(try ConfigLoader().load(text: rules + "\n" + extra))
    }

    /// One engine for the whole test process: loading signatures is the slow part.
    /// Tests share the engine and run in parallel; time in its queue counts against the scan
    /// time-out, so the engine gets a generous one.
    public static let scanner: ThreatScanner = {
        try! ThreatScanner(signatureDirectory: "/nonexistent-moat-test-signatures", limits: ScanLimits(scanTimeout: .seconds(900)))
    }()

    public static func core(spool: String = temporaryPath("spool")) -> MailCore {
        MailCore(scanner: scanner, spoolDirectory: spool)
    }

    /// A spool directory that cannot exist: its parent is a regular file (ENOTDIR), which fails
    /// for root as well as for anybody else, like a full or read-only disk would.
    public static func brokenSpoolDirectory() -> String {
        let file = temporaryPath("not-a-directory")
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        return file + "/spool"
    }

    public static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("moat-filters-\(name)-\(UUID().uuidString)").path
    }

    /// A message with the header fields mail programs write (Date and Message-ID included, so
    /// the anti-spam rules find nothing to hold against it but what the test puts in).
    public static func message(subject: String, body: String) -> String {
        "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: \(subject)\r\nDate: \(dateNow)\r\n"
            + "Message-ID: <\(UUID().uuidString)@example.com>\r\n\r\n\(body)\r\n"
    }

    /// An RFC 5322 Date of now.
    public static var dateNow: String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 0)
        f.dateFormat = "EEE, d MMM yyyy HH:mm:ss Z"
        return f.string(from: Date())
    }

    /// The GTUBE test string: spam to every anti-spam engine.
    public static let gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

    public static var clean: String { message(subject: "lunch", body: "Noon at the usual place?") }
    public static var spam: String { message(subject: "offer", body: "Please buy our pills today.") }
    public static var tempfail: String { message(subject: "retry", body: "Check this later.") }

    public static var eicarMail: String {
        let encoded = Data(eicar.utf8).base64EncodedString()
        return """
            From: Alice <alice@example.com>\r
            To: Bob <bob@example.org>\r
            Subject: the file\r
            Date: \(dateNow)\r
            Message-ID: <\(UUID().uuidString)@example.com>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain\r
            \r
            Here it is.\r
            --b1\r
            Content-Type: application/octet-stream; name="eicar.com"\r
            Content-Disposition: attachment; filename="eicar.com"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(encoded)\r
            --b1--\r

            """
    }

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program off the cooperative pool (the server under test needs it).
    public static func run(_ executable: String, _ arguments: [String], stdin: String = "", environment: [String: String]? = nil,
                    timeout: TimeInterval = 60) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    if let environment { process.environment = environment }
                    let input = Pipe()
                    let outPath = Support.temporaryPath("out"), errPath = Support.temporaryPath("err")
                    FileManager.default.createFile(atPath: outPath, contents: nil)
                    FileManager.default.createFile(atPath: errPath, contents: nil)
                    defer { unlink(outPath); unlink(errPath) }
                    process.standardInput = input
                    process.standardOutput = FileHandle(forWritingAtPath: outPath)
                    process.standardError = FileHandle(forWritingAtPath: errPath)
                    try process.run()
                    let stdinData = Data(stdin.utf8)
                    DispatchQueue.global().async {
                        try? input.fileHandleForWriting.write(contentsOf: stdinData)
                        try? input.fileHandleForWriting.close()
                    }
                    let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
                    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
                    process.waitUntilExit()
                    killer.cancel()
                    let outData = FileManager.default.contents(atPath: outPath) ?? Data()
                    let errData = FileManager.default.contents(atPath: errPath) ?? Data()
                    continuation.resume(returning: Output(status: process.terminationStatus,
                                                          stdout: String(decoding: outData, as: UTF8.self),
                                                          stderr: String(decoding: errData, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// The path of a peer program, or an error that says which package provides it.
    public static func tool(_ path: String, package: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(description: "\(path) is missing: install the Debian package \(package) (scripts/install-deps.sh)")
        }
        return path
    }

    /// Raw TCP exchange: send, half-close, read to EOF.
    public static func exchange(port: Int, _ bytes: [UInt8], halfClose: Bool = true) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { close(fd); continuation.resume(throwing: Missing(description: "connect failed")); return }
                var timeout = timeval(tv_sec: 300, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    offset += n
                }
                if halfClose { shutdown(fd, Int32(SHUT_WR)) }
                var reply: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, 65536, 0) }
                    if n <= 0 { break }
                    reply += chunk[0..<n]
                }
                close(fd)
                continuation.resume(returning: reply)
            }
        }
    }
}

/// A client connection the test keeps open (idle, or used later), blocking calls.
public final class HeldConnection: @unchecked Sendable {
    public let fd: Int32

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Support.Missing(description: "connect to 127.0.0.1:\(port) failed")
        }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends, optionally half-closes, reads to EOF (or the 30 s receive time-out).
    public func exchange(_ bytes: [UInt8], halfClose: Bool = true) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [self] in
                var offset = 0
                while offset < bytes.count {
                    let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    offset += n
                }
                if halfClose { shutdown(fd, Int32(SHUT_WR)) }
                continuation.resume(returning: read().bytes)
            }
        }
    }

    /// Reads until EOF (`closed`) or until the receive time-out passes (the peer kept it open).
    public func read(timeout seconds: Int = 30) -> (bytes: [UInt8], closed: Bool) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, 65536, 0) }
            if n == 0 { return (reply, true) }
            if n < 0 { return (reply, !(errno == EAGAIN || errno == EWOULDBLOCK)) }
            reply += chunk[0..<n]
        }
    }
}

/// Debian's Exim with content scanning (exim4-daemon-heavy), extracted with `dpkg -x` (it
/// conflicts with Postfix as a package) and run as `exim -bs` on a private configuration,
/// driven by swaks.
public struct EximPeer {
    public static let cache = "/tmp/moat-test-exim"
    public let directory: String
    public let exim: String

    /// Downloads and extracts the packages once per machine; every failure names its cause.
    public static func prepare(spamdAddress: String, extraACL: String = "") async throws -> EximPeer {
        let exim = cache + "/root/usr/sbin/exim4"
        // Suites (here and in other test processes) prepare Exim at the same time: the
        // download and extraction happen once, under the machine-wide set-up lock, into a
        // scratch directory renamed into place, so nobody runs a half-extracted Exim; the
        // user Exim looks up is made the same way ("already exists" is fine).
        try await SystemSetup.locked {
            if !FileManager.default.isExecutableFile(atPath: exim) {
                let work = cache + "/work-\(UUID().uuidString)"
                defer { try? FileManager.default.removeItem(atPath: work) }
                try FileManager.default.createDirectory(atPath: work + "/debs", withIntermediateDirectories: true)
                let download = SystemSetup.run("/bin/sh", ["-c", "cd \(work)/debs && apt-get download exim4-daemon-heavy exim4-base exim4-config"])
                guard download.status == 0 else {
                    throw Support.Missing(description: "apt-get download exim4-daemon-heavy failed: \(download.output)")
                }
                let extract = SystemSetup.run("/bin/sh", ["-c", "for f in \(work)/debs/*.deb; do dpkg -x \"$f\" \(work)/root || exit 1; done"])
                guard extract.status == 0 else { throw Support.Missing(description: "dpkg -x failed: \(extract.output)") }
                // A partial tree left by an older, unlocked preparation goes first.
                try? FileManager.default.removeItem(atPath: cache + "/root")
                guard rename(work + "/root", cache + "/root") == 0 else {
                    throw Support.Missing(description: "cannot move the extracted Exim to \(cache)/root: \(String(cString: strerror(errno)))")
                }
            }
            // Exim looks its compiled-in user up at start even when told to run as root.
            try SystemSetup.ensureSystemUserLocked("Debian-exim")
        }
        let version = try await Support.run(exim, ["-bV"])
        guard version.stdout.contains("Content_Scanning") else {
            throw Support.Missing(description: "\(exim) -bV failed (libraries from scripts/deps/filters.txt missing?): \(version.stdout) \(version.stderr)")
        }
        let directory = Support.temporaryPath("exim")
        for sub in ["spool", "log"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        // The seed's acl_check_data (README), unchanged.
        let config = """
            primary_hostname = moat.test
            spool_directory = \(directory)/spool
            log_file_path = \(directory)/log/%slog
            exim_user = root
            exim_group = root
            never_users =
            trusted_users = root
            keep_environment =
            spamd_address = \(spamdAddress)
            acl_smtp_rcpt = acl_check_rcpt
            acl_smtp_data = acl_check_data
            begin acl
            acl_check_rcpt:
              accept
            acl_check_data:
              deny    message   = $spam_report
                      spam      = nobody:true
                      condition = ${if match{$spam_report}{THREAT}}
              warn    spam      = nobody:true
                      condition = ${if match{$spam_report}{SPAM}}
                      add_header = X-Spam-Flag: YES
                      add_header = X-Spam-Report: $spam_report
            \(extraACL)
              accept
            begin routers
            all:
              driver = accept
              transport = null
            begin transports
            null:
              driver = appendfile
              file = /dev/null

            """
        try config.write(toFile: directory + "/exim.conf", atomically: true, encoding: .utf8)
        return EximPeer(directory: directory, exim: exim)
    }

    public struct Result {
        public var transcript: String
        /// The spool header file of the accepted message (with the headers the ACL added).
        public var spooledHeaders: String?
        public var accepted: Bool { spooledHeaders != nil }
    }

    /// One SMTP transaction through `exim -bs` (queue only: nothing is delivered).
    public func send(_ message: String) async throws -> Result {
        let swaks = try Support.tool("/usr/bin/swaks", package: "swaks")
        let file = directory + "/message-\(UUID().uuidString).eml"
        try message.write(toFile: file, atomically: true, encoding: .utf8)
        let output = try await Support.run(swaks, ["--pipe", "\(exim) -bs -odq -C \(directory)/exim.conf",
                                                   "--from", "alice@example.com", "--to", "bob@example.org",
                                                   "--data", "@" + file, "--timeout", "60"])
        let transcript = output.stdout + output.stderr
        var headers: String?
        if let range = transcript.range(of: #"250 OK id=([0-9A-Za-z-]+)"#, options: .regularExpression) {
            let id = transcript[range].dropFirst("250 OK id=".count)
            headers = try? String(contentsOfFile: "\(directory)/spool/input/\(id)-H", encoding: .utf8)
        }
        return Result(transcript: transcript, spooledHeaders: headers)
    }
}
