import Foundation
import Testing

/// A moatd's console over HTTPS with curl, verifying its certificate with the daemon's CA;
/// the login session in a cookie jar, or none (`jar` nil).
struct Console {
    let sandbox: Sandbox
    let host: String
    let port: Int
    var jar: String?

    init(sandbox: Sandbox, host: String = "127.0.0.1", port: Int, jar: String? = nil) {
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.jar = jar ?? sandbox.root.path + "/cookies"
    }

    /// Without a cookie jar: each request on its own.
    func withoutSession() -> Console {
        var copy = self
        copy.jar = nil
        return copy
    }

    struct Answer {
        var status: Int
        var headers: String
        var body: String
    }

    func waitUntilListening(daemon: Daemon) throws {
        for _ in 0..<100 {
            if try ctl("appinfo", config: sandbox.config).stdout.contains("HTTPD: running") { return }
            usleep(100_000)
        }
        Issue.record("the console did not start; log:\n\(daemon.log)")
        throw CancellationError()
    }

    func logIn() throws {
        let initial = sandbox.root.path + "/var/console/initial-password"
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: initial) { usleep(100_000) }
        let password = try String(contentsOfFile: initial, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = try post("/login", ["user=admin", "password=\(password)"])
        guard answer.status == 303 else {
            Issue.record("login refused: \(answer.status) \(answer.body)")
            throw CancellationError()
        }
    }

    func get(_ path: String) throws -> Answer { try request(path) }
    func post(_ path: String, _ form: [String]) throws -> Answer { try request(path, form: form) }

    /// A GET, or a POST of `form` (url-encoded) when it is not empty.
    func request(_ path: String, form: [String] = []) throws -> Answer {
        var arguments = ["-sS", "-i", "--max-time", "60", "--cacert", sandbox.root.path + "/var/ca/ca.pem"]
        if let jar { arguments += ["-b", jar, "-c", jar] }
        for field in form { arguments += ["--data-urlencode", field] }
        arguments.append("https://\(host):\(port)\(path)")
        let result = try run("/usr/bin/curl", arguments)
        #expect(result.status == 0, "curl \(path): \(result.stderr)")
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        let status = Int(parts[0].split(separator: " ").dropFirst().first ?? "") ?? 0
        return Answer(status: status, headers: parts[0], body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}
