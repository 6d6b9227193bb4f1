import Foundation
import SystemSetupSupport
import Testing

/// The real moatd serving the console on the configured address, spoken to with curl
/// (verifying the certificate with Moat's CA), next to the real moat-ctl.
@Suite(.serialized, .offCooperativePool) struct ConsoleDaemonTests {
    /// A port nobody listens on right now.
    static func freePort() throws -> Int { try LoopbackPorts.reserve() }

    /// One request to the sandbox's console; `jar` keeps a login session.
    func curl(_ sandbox: Sandbox, _ path: String, form: [String] = [], jar: String? = nil) throws -> Console.Answer {
        let console = Console(sandbox: sandbox, port: sandbox.consolePort!, jar: jar)
        return try (jar == nil ? console.withoutSession() : console).request(path, form: form)
    }

    func csrf(in page: String) throws -> String {
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return String(page[start...].prefix { $0 != "\"" })
    }

    @Test func moatdServesTheConsoleOnTheConfiguredAddress() throws {
        let port = try Self.freePort()
        let sandbox = try Sandbox(consolePort: port)
        defer { sandbox.remove() }
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        var info = ""
        for _ in 0..<50 {
            info = try ctl("appinfo", config: sandbox.config).stdout
            if info.contains("HTTPD: running") { break }
            usleep(100_000)
        }
        #expect(info.contains("HTTPD: running on 127.0.0.1:\(port)\n"), "\(info)")

        let initial = sandbox.root.path + "/var/console/initial-password"
        let mode = try FileManager.default.attributesOfItem(atPath: initial)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(daemon.log.contains("the password in \(initial)"))

        let login = try curl(sandbox, "/login")
        #expect(login.status == 200)
        #expect(login.body.contains("Moat console"))
        #expect(try curl(sandbox, "/").headers.contains("Location: /login"))

        // Log in. moatd runs as moat and the file is root's: the configuration is shown, and a
        // change through the form is refused with what to do instead; the file stays as it was.
        let jar = sandbox.root.path + "/cookies"
        let password = try String(contentsOfFile: initial, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let session = try curl(sandbox, "/login", form: ["user=admin", "password=\(password)"], jar: jar)
        #expect(session.status == 303)
        let status = try curl(sandbox, "/", jar: jar)
        #expect(status.body.contains("<td>HTTPD</td><td class=\"state-running\">running</td><td>127.0.0.1:\(port)</td>"))
        let token = try csrf(in: status.body)
        let page = try curl(sandbox, "/configuration", jar: jar)
        #expect(page.body.contains("writable by root only") && !page.body.contains("<form method=\"post\" action=\"/configuration\""))
        let before = try sandbox.read()
        let change = try curl(sandbox, "/configuration", form: ["csrf=\(token)", "parameter=MailD.ReportLanguages",
                                                                 "action=set", "value=en, ru"], jar: jar)
        #expect(change.status == 400)
        #expect(change.body.contains("run `moat-ctl cfset MailD.ReportLanguages ...` as root"), "\(change.body)")
        #expect(try sandbox.read() == before)
        #expect(try daemon.generation() == 0)

        // moat-ctl console-password: the next login needs the new password, at once.
        let set = try runWithInput(Binaries.path("moat-ctl"), ["console-password", "--config", sandbox.config],
                                   input: "the new console password\n")
        #expect(set.status == 0, "\(set.stderr)")
        #expect(!FileManager.default.fileExists(atPath: initial))
        let hashMode = try FileManager.default.attributesOfItem(atPath: sandbox.root.path + "/var/console/passwd")[.posixPermissions] as? Int
        #expect(hashMode == 0o600)
        #expect(try curl(sandbox, "/login", form: ["user=admin", "password=\(password)"]).status == 401)
        #expect(try curl(sandbox, "/login", form: ["user=admin", "password=the new console password"]).status == 303)

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// With `User = root` moatd may write the file: a change through the form is written as
    /// cfset writes it and the daemon reloads.
    @Test func aMoatdThatMayWriteTheFileChangesItFromTheConsole() throws {
        let port = try Self.freePort()
        let sandbox = try Sandbox(consolePort: port)
        defer { sandbox.remove() }
        try sandbox.write(try sandbox.read().replacingOccurrences(of: "[Root]\n", with: "[Root]\nUser = root\n"))
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let initial = sandbox.root.path + "/var/console/initial-password"
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: initial) { usleep(100_000) }
        let jar = sandbox.root.path + "/cookies"
        let password = try String(contentsOfFile: initial, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try curl(sandbox, "/login", form: ["user=admin", "password=\(password)"], jar: jar).status == 303)
        let token = try csrf(in: try curl(sandbox, "/configuration", jar: jar).body)
        let change = try curl(sandbox, "/configuration", form: ["csrf=\(token)", "parameter=MailD.ReportLanguages",
                                                                 "action=set", "value=en, ru"], jar: jar)
        #expect(change.status == 200)
        #expect(change.body.contains("settings generation 1"))
        #expect(try sandbox.read().contains("# languages of reports\nReportLanguages = en, ru\n"))
        #expect(try daemon.generation() == 1)
        #expect(daemon.log.contains("changed=MailD.ReportLanguages"))
    }

    @Test func aConsoleThatCannotListenDoesNotStopMoatd() throws {
        // Something else already holds the port.
        let port = try Self.freePort()
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let listening = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        } && listen(holder, 1) == 0
        #expect(listening)

        let sandbox = try Sandbox(consolePort: port)
        defer { sandbox.remove() }
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        var info = ""
        for _ in 0..<50 {
            info = try ctl("appinfo", config: sandbox.config).stdout
            if info.contains("HTTPD: failed") { break }
            usleep(100_000)
        }
        #expect(info.contains("HTTPD: failed (127.0.0.1:\(port): "), "\(info)")
        #expect(daemon.process.isRunning)
        #expect(daemon.log.contains("console cannot listen on 127.0.0.1:\(port)"))
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}

func runWithInput(_ executable: String, _ arguments: [String], input: String) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let inPipe = Pipe(), out = Pipe(), err = Pipe()
    process.standardInput = inPipe
    process.standardOutput = out
    process.standardError = err
    try process.run()
    inPipe.fileHandleForWriting.write(Data(input.utf8))
    try inPipe.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                     stderr: String(decoding: stderr, as: UTF8.self))
}
