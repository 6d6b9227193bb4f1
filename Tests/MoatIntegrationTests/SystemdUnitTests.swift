import Foundation
import Testing

/// The shipped unit, judged by systemd itself: `systemd-analyze security` works on the file
/// offline (PID 1 need not be systemd), and its exposure must stay at 2.0 or below.
@Suite(.offCooperativePool) struct SystemdUnitTests {
    static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("etc/systemd/moatd.service").path

    @Test(.enabled(if: analyze != nil, "systemd-analyze is not installed (apt-get install systemd)"))
    func exposureIsTwoOrLower() throws {
        // --threshold=20 (tenths): systemd-analyze itself fails above 2.0.
        let result = try run(Self.analyze!, ["security", "--offline=true", "--threshold=20", "--no-pager", Self.unit])
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").first { $0.contains("Overall exposure level for moatd.service") })
        let figure = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) })
        #expect(figure <= 2.0, "\(line)")
    }

    @Test func theUnitRunsAsMoatWithTheTwoCapabilitiesOnly() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in ["User=moat", "Group=moat", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                         "PrivateTmp=yes", "PrivateDevices=yes",
                         "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
                         "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
                         "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
                         "ReadWritePaths=/var/lib/moat /run/moat /var/log/moat"] {
            #expect(lines.contains(expected), "the unit lacks \(expected)")
        }
        #expect(lines.contains { $0.hasPrefix("SystemCallFilter=@system-service") })
        // moat-ctl must talk to moatd as root: the control socket answers root only.
        #expect(lines.contains("ExecReload=+/usr/local/bin/moat-ctl reload"))
    }
}
