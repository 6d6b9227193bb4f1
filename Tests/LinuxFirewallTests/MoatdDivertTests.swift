import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real `moatd` inside a test namespace (`ip netns exec`): it installs the divert, a clean
/// stop removes it, kill -9 removes it too unless FailClosed = Yes.
@Suite(.serialized, .enabled(if: Kernel.available && MoatdInNamespace.binary != nil, "needs root, ip/nft and the built moatd"))
struct MoatdDivertTests {
    @Test func stopRemovesTheDivert() throws {
        let ns = try Namespace("stop")
        let moatd = try MoatdInNamespace(ns)
        try moatd.waitForTable()
        #expect(ns.run("-4", "rule").out.contains("fwmark 0x1 lookup 100"))
        moatd.signal(SIGTERM)
        #expect(moatd.waitForExit() == 0, "log:\n\(moatd.log)")
        #expect(ns.moatTable == nil, "log:\n\(moatd.log)")
        #expect(!ns.run("-4", "rule").out.contains("fwmark"), "routing rules removed at stop")
        #expect(ns.run("-6", "route", "show", "table", "100").out.isEmpty)
        #expect(moatd.log.contains("divert removed"))
    }

    @Test func killedMoatdTakesTheDivertWithIt() throws {
        let ns = try Namespace("kill")
        let moatd = try MoatdInNamespace(ns)
        try moatd.waitForTable()
        moatd.signal(SIGKILL)
        _ = moatd.waitForExit()
        var gone = false
        for _ in 0..<50 where !gone {
            gone = ns.moatTable == nil
            if !gone { usleep(100_000) }
        }
        #expect(gone, "fail-open: the owned table goes with the process")
    }

    @Test func failClosedDivertSurvivesAKill() throws {
        let ns = try Namespace("failclosed")
        let moatd = try MoatdInNamespace(ns, extra: "FailClosed = Yes\n")
        try moatd.waitForTable()
        moatd.signal(SIGKILL)
        _ = moatd.waitForExit()
        usleep(300_000)
        let listed = try #require(ns.moatTable, "fail-closed: the table stays")
        #expect(!listed.contains("flags owner"))
        // A restarted moatd takes over and removes it at its stop.
        let again = try MoatdInNamespace(ns, extra: "FailClosed = Yes\n")
        try again.waitForTable()
        again.signal(SIGTERM)
        #expect(again.waitForExit() == 0)
        #expect(ns.moatTable == nil)
    }

    @Test func withoutCapNetAdminMoatdStopsWithAClearError() throws {
        let ns = try Namespace("nocap")
        let moatd = try MoatdInNamespace(ns, wrapper: ["/usr/bin/setpriv", "--bounding-set", "-net_admin"])
        let status = moatd.waitForExit(seconds: 60)
        #expect(status != nil && status != 0, "log:\n\(moatd.log)")
        #expect(moatd.log.contains("nftables: Operation not permitted (need CAP_NET_ADMIN)"), "log:\n\(moatd.log)")
        #expect(ns.moatTable == nil)
    }

    /// moatd runs as moat with CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only, and SIGHUP still
    /// re-applies the divert over netlink.
    @Test func reloadChangesThePorts() throws {
        let ns = try Namespace("hup")
        let moatd = try MoatdInNamespace(ns)
        try moatd.waitForTable()
        let status = (try? String(contentsOfFile: "/proc/\(moatd.process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let fields = Dictionary(status.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }, uniquingKeysWith: { first, _ in first })
        if let moat = getpwnam("moat") {
            let uid = moat.pointee.pw_uid
            #expect(fields["Uid"] == "\(uid)\t\(uid)\t\(uid)\t\(uid)", "\(status)")
            #expect(fields["CapEff"] == "0000000000001400" && fields["CapPrm"] == "0000000000001400", "\(status)")
        }
        try moatd.config(protected: "25,587")
        moatd.signal(SIGHUP)
        var listed = ""
        for _ in 0..<50 {
            listed = ns.moatTable ?? ""
            if listed.contains("elements = { 25, 587 }") { break }
            usleep(100_000)
        }
        #expect(listed.contains("elements = { 25, 587 }"), "kernel:\n\(listed)\nlog:\n\(moatd.log)")
        moatd.signal(SIGTERM)
        #expect(moatd.waitForExit() == 0)
        #expect(ns.moatTable == nil)
    }

    /// Ports the Gate would only relay blindly are not diverted, moatd says which and why, and
    /// a reload that changes the settings behind it re-installs the divert.
    @Test func portsRelayedBlindlyAreNotDiverted() throws {
        let ns = try Namespace("blind")
        let moatd = try MoatdInNamespace(ns, extra: "InspectPop3 = Off\n")
        try moatd.waitForTable()
        #expect(ns.moatTable?.contains("elements = { 25, 143 }") == true, "\(ns.moatTable ?? "")")
        try moatd.config(protected: "25,110,143,993")
        moatd.signal(SIGHUP)
        // The diverted ports stay 25 and 143: the log says when the reload was applied.
        for _ in 0..<100 where !moatd.log.contains("port 993 not diverted") { usleep(100_000) }
        var listed = ns.moatTable ?? ""
        #expect(listed.contains("elements = { 25, 143 }"), "kernel:\n\(listed)\nlog:\n\(moatd.log)")
        #expect(moatd.log.contains("port 110 not diverted") && moatd.log.contains("InspectPop3 = Off"), "\(moatd.log)")
        #expect(moatd.log.contains("port 993 not diverted") && moatd.log.contains("UnwrapSsl = No"), "\(moatd.log)")
        #expect(listed.contains("set passthrough_v4 {") && listed.contains("size 65536"), "kernel:\n\(listed)")

        // InspectPop3 back On and UnwrapSsl = Yes: 110 and 993 are diverted again.
        try moatd.config(protected: "25,110,143,993", extra: "UnwrapSsl = Yes\n")
        moatd.signal(SIGHUP)
        for _ in 0..<100 {
            listed = ns.moatTable ?? ""
            if listed.contains("elements = { 25, 110, 143, 993 }") { break }
            usleep(100_000)
        }
        #expect(listed.contains("elements = { 25, 110, 143, 993 }"), "kernel:\n\(listed)\nlog:\n\(moatd.log)")
        moatd.signal(SIGTERM)
        #expect(moatd.waitForExit() == 0)
    }
}

/// `ip netns exec <ns> moatd --config <sandbox>/moat.ini` with the divert on.
final class MoatdInNamespace {
    static let binary: String? = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("moatd").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    let process = Process()
    let root: URL
    var configPath: String { root.appendingPathComponent("moat.ini").path }
    var logPath: String { root.appendingPathComponent("moatd.log").path }
    let ns: Namespace
    let extra: String

    init(_ ns: Namespace, extra: String = "", wrapper: [String] = []) throws {
        self.ns = ns
        self.extra = extra
        root = FileManager.default.temporaryDirectory.appendingPathComponent("moatfw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try config(protected: "25,110,143")
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", ns.name] + wrapper + [Self.binary!, "--config", configPath]
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    func config(protected ports: String, extra: String? = nil) throws {
        let extra = extra ?? self.extra
        let text = """
            [Root]
            ControlSocket = \(root.appendingPathComponent("run/moat-ctl.sock").path)
            VarDir = \(root.appendingPathComponent("var").path)
            TempDir = \(root.appendingPathComponent("tmp").path)
            LogLevel = Info

            [LinuxFirewall]
            InputDivert = Auto(interface:eth0 protected:\(ports))
            \(extra)
            """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// `ip netns exec` (and setpriv) exec moatd, so the pid is moatd's.
    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    func waitForTable(seconds: Double = 60) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            // The log line, not only the table: a fail-closed table may be the previous moatd's.
            if log.contains("divert installed"), ns.moatTable != nil { return }
            if !process.isRunning { break }
            usleep(200_000)
        }
        Issue.record("moatd did not install the divert; log:\n\(log)")
        throw TestFailure("no divert")
    }

    func waitForExit(seconds: Double = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }
}
