import Foundation
@testable import MailD
@testable import MilterInterface
import InterfaceSupport
import NIOCore
import NIOPosix
import Policy
import ThreatEngine

/// Shared test inputs and helpers.
enum Support {
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    static let scanner: ThreatScanner = try! ThreatScanner(signatureDirectory: "/nonexistent-moat-test-signatures")

    /// Loops for the live Milter servers, reserved for mail as moatd reserves its own: small
    /// messages are checked on them (`CheckPlacement`), as in production. Apart from the
    /// singleton, so other suites' channels (PostgreSQL, the console) never wait behind a check.
    static let mailLoops: MultiThreadedEventLoopGroup = {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        CheckPlacement.reserveForMail(group)
        return group
    }()

    static func temporaryDirectory(_ prefix: String = "moat-milter") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func core(spool: String) -> MailCore { MailCore(scanner: scanner, spoolDirectory: spool) }

    static let defaultRules = [
        #"threat_category in (KnownVirus, VirusModification, UnknownVirus, Adware, Dialer) : REJECT "The message contains a THREAT""#,
    ]

    static func profile(rules: [String] = defaultRules, blockUnchecked: Bool = false, spoolThreshold: Int = 16 << 20,
                        scanTimeout: Duration = .seconds(30)) -> CheckProfile {
        var limits = ScanLimits.default
        limits.scanTimeout = scanTimeout
        return CheckProfile(name: "Milter", limits: limits, blockUnchecked: blockUnchecked, rules: rules, spoolThreshold: spoolThreshold)
    }

    static func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }
    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// A packet as an MTA sends it.
    static func packet(_ command: Character, _ data: [UInt8] = []) -> [UInt8] {
        let length = UInt32(data.count + 1)
        return withUnsafeBytes(of: length.bigEndian, Array.init) + [command.asciiValue!] + data
    }

    static func str0(_ strings: String...) -> [UInt8] { strings.flatMap { Array($0.utf8) + [0] } }

    static func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

    static func decision(_ action: FinalAction, headers: [(String, String)] = [], repacked: [UInt8]? = nil) -> Decision {
        Decision(report: CheckReport(envelope: Envelope(source: .milter), profile: "Milter", size: 0, parts: [],
                                     messageUnchecked: [], elapsedMilliseconds: 0, engineGeneration: 0),
                 verdict: Verdict(action: action), action: action,
                 headersToAdd: headers.map { (name: $0.0, value: $0.1) }, repackedMessage: repacked, reason: "test")
    }

    static func encode(_ reply: MilterReply) -> [UInt8] {
        var buffer = ByteBuffer()
        reply.encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    static let cleanMessage = """
        From: Alice <alice@example.com>\r
        To: Bob <bob@example.org>\r
        Subject: lunch\r
        Message-ID: <clean-1@example.com>\r
        \r
        Shall we meet at noon?\r

        """

    static func eicarMessage(subject: String = "the file") -> String {
        """
        From: Alice <alice@example.com>\r
        To: Bob <bob@example.org>\r
        Subject: \(subject)\r
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
        \r
        \(eicar)\r
        --b1--\r

        """
    }
}
