import CertificateStore
import Foundation
import Logging
import MailD
import MoatConfig
import MoatService
import Policy
import Prometheus
import ServiceLifecycle
import Storage
import Synchronization
import Testing
@testable import WebConsole

/// What moatd's `Daemon` does for the console, on a test file: the configuration file read and
/// changed with the same calls (`ConfigLoader`, `ConfigFileChange`), reloads counted.
final class FileBackedService: ConsoleService {
    let path: String
    let loader = ConfigLoader(ruleValidator: Policy.ruleValidator)
    let settings: SettingsStore
    let authority: CertificateAuthority
    let threats: [ThreatEvent]
    let status: ConsoleStatus
    /// The quarantine, message log and statistics (nil: none, as a daemon without storage).
    let storage: GatewayStorage?
    private let reloads = Mutex(0)

    init(path: String, authority: CertificateAuthority, threats: [ThreatEvent], status: ConsoleStatus,
         storage: GatewayStorage? = nil) throws {
        self.storage = storage
        self.path = path
        self.authority = authority
        self.threats = threats
        self.status = status
        settings = SettingsStore(try ConfigLoader(ruleValidator: Policy.ruleValidator).load(path: path))
    }

    var reloadCount: Int { reloads.withLock { $0 } }

    func appInfo() async -> AppInfo {
        let snapshot = settings.current
        return AppInfo(version: "0.1.0", pid: getpid(), configFile: path, startedAt: 1_700_000_000, lastReloadAt: nil,
                       settingsGeneration: snapshot.generation,
                       components: [ComponentInfo(name: "Control", state: .running, listening: ["/run/test.sock"]),
                                    ComponentInfo(name: "MailD.Milter", state: .off, detail: "socket not set"),
                                    ComponentInfo(name: "HTTPD", state: .running, listening: status.snapshot.listening)])
    }

    func reload() async -> ReloadOutcome {
        do throws(ConfigErrors) {
            let loaded = try loader.load(path: path)
            let changed = settings.replace(with: loaded)
            reloads.withLock { $0 += 1 }
            return .reloaded(changed: changed.map(\.description))
        } catch {
            return .refused(reason: error.description)
        }
    }

    func scan(paths: [String], profile: String?, spam: Bool) async -> [NamedReport] { [] }

    func configurationFile() throws(ConfigErrors) -> LoadedConfig { try loader.load(path: path) }

    func change(_ edit: ConfigEdit, parameter: String) async -> SettingChange {
        let result: EditResult
        do throws(ConfigFileChange.Failure) {
            result = try ConfigFileChange.apply(edit, to: parameter, inFileAt: path, loader: loader)
        } catch {
            return .refused(error.description)
        }
        guard result.changed else { return .unchanged(result.key) }
        let outcome = await reload()
        return .applied(result.key, reload: outcome, generation: settings.current.generation)
    }

    func recentThreats() -> [ThreatEvent] { threats }

    func archivePassword(archiveId: String) throws(ArchivePassword.RecoveryFailure) -> String {
        try ArchivePassword.recover(archiveId: archiveId, values: settings.current.values)
    }

    func caCertificatePEM() throws -> String { authority.pem }

    // The storage calls, as `Daemon` makes them (DaemonService+Storage.swift).
    func store() throws -> GatewayStorage {
        guard let storage else { throw StorageUnavailable() }
        return storage
    }
    func quarantineList(_ query: QuarantineQuery) async throws -> [QuarantineRecord] { try await store().quarantine.list(query) }
    func quarantineShow(id: String) async throws -> QuarantineDetail { try await store().quarantine.show(id: id) }
    func quarantineRelease(id: String, by: String) async throws -> ReleaseOutcome { try await store().quarantine.release(id: id, by: by) }
    func quarantineDelete(id: String, by: String) async throws { try await store().quarantine.delete(id: id, by: by) }
    func logSearch(_ query: LogQuery) async throws -> [MessageLogEntry] { try await store().searchLog(query) }
    func statistics(since: Date, until: Date) async throws -> [HourlyCount] { try await store().hourlyCounts(since: since, until: until) }
}

/// One answer as curl got it.
struct HTTPResult {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String
    var curlStatus: Int32
    var curlError: String

    func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }
    func all(_ name: String) -> [String] { headers.filter { $0.name == name.lowercased() }.map(\.value) }
}

/// The console started in-process on 127.0.0.1 (a port the kernel picks), with its own
/// VarDir, configuration file, Moat CA and console certificate; spoken to with curl, which
/// verifies the certificate with the CA.
final class ConsoleFixture: @unchecked Sendable {
    static let secret = "fixture secret"
    static let configText = """
        # test configuration
        [Root]
        VarDir = %VAR%

        [MailD]
        # languages of reports
        ReportLanguages = en
        RepackPassword = HMAC(\(secret))

        [HTTPD]
        %HTTPD%
        """

    let root: String
    var config: String { root + "/moat.ini" }
    var varDir: String { root + "/var" }
    var caPath: String { varDir + "/ca/ca.pem" }
    let service: FileBackedService
    let credentials: ConsoleCredentials
    let initialPassword: String
    /// The console's own certificate (PEM), for clients that pin it (the browser test).
    let certificateChainPEM: String
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int

    init(httpd: String = "", threats: [ThreatEvent] = [], loginPolicy: LoginThrottle.Policy = .init(),
         metrics: PrometheusCollectorRegistry? = nil, storage: GatewayStorage? = nil) async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("moat-console-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let text = Self.configText.replacingOccurrences(of: "%VAR%", with: root + "/var")
            .replacingOccurrences(of: "%HTTPD%", with: httpd)
        try text.write(toFile: root + "/moat.ini", atomically: true, encoding: .utf8)
        let values = try ConfigLoader().load(path: root + "/moat.ini").values
        let authority = try CertificateAuthority.loadOrCreate(CertificateAuthority.Settings(values))
        let identity = try ServerIdentity.loadOrIssue(authority: authority, directory: root + "/var/console", name: "console",
                                                      hosts: ["localhost", "127.0.0.1", "::1"])
        credentials = ConsoleCredentials(directory: root + "/var/console")
        certificateChainPEM = identity.certificateChainPEM.first ?? ""
        let file = try #require(try credentials.prepareInitialPassword())
        initialPassword = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

        let status = ConsoleStatus()
        service = try FileBackedService(path: root + "/moat.ini", authority: authority, threats: threats, status: status,
                                        storage: storage)
        var configuration = ConsoleServer.Configuration(
            addresses: [.tcp(host: "127.0.0.1", port: 0)],
            certificate: ConsoleCertificate(chainPEM: identity.certificateChainPEM, privateKeyPEM: identity.privateKeyPEM),
            credentials: credentials, settings: service.settings, metrics: metrics)
        configuration.loginPolicy = loginPolicy
        var logger = Logger(label: "HTTPD")
        logger.logLevel = .warning
        let server = ConsoleServer(configuration: configuration, service: service, status: status, logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        self.group = group
        task = Task { try await group.run() }
        var found: Int?
        for _ in 0..<200 {
            if let address = status.snapshot.listening.first, let port = Int(address.split(separator: ":").last ?? "") {
                found = port
                break
            }
            if !status.snapshot.failures.isEmpty { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        port = try #require(found, "the console did not listen: \(status.snapshot.failures)")
    }

    /// Runs `body` with a started console and stops it afterwards, whatever `body` did.
    static func with(httpd: String = "", threats: [ThreatEvent] = [], metrics: PrometheusCollectorRegistry? = nil,
                     storage: GatewayStorage? = nil, _ body: (ConsoleFixture) async throws -> Void) async throws {
        let console = try await ConsoleFixture(httpd: httpd, threats: threats, metrics: metrics, storage: storage)
        do {
            try await body(console)
        } catch {
            await console.stop()
            throw error
        }
        await console.stop()
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        try? FileManager.default.removeItem(atPath: root)
    }

    func fileText() throws -> String { try String(contentsOfFile: config, encoding: .utf8) }

    /// One request with curl. `form` makes it a POST of those fields (url-encoded);
    /// `method: "POST"` with no form posts an empty body.
    func request(_ path: String, method: String = "GET", form: [(String, String)] = [], token: String? = nil,
                 headers: [String] = [], host: String = "127.0.0.1", caFile: String? = nil, extra: [String] = []) async throws -> HTTPResult {
        var arguments = ["-sS", "-i", "--max-time", "30", "--cacert", caFile ?? caPath]
        if method != "GET", form.isEmpty { arguments += ["-X", method, "--data", ""] }
        for (name, value) in form { arguments += ["--data-urlencode", "\(name)=\(value)"] }
        if let token { arguments += ["-H", "Cookie: \(ConsoleSessions.cookieName)=\(token)"] }
        for header in headers { arguments += ["-H", header] }
        arguments += extra
        arguments.append("https://\(host):\(port)\(path)")
        let result = try await Tool.run("/usr/bin/curl", arguments)
        var http = HTTPResult(status: 0, headers: [], body: "", curlStatus: result.status, curlError: result.err)
        guard result.status == 0, let split = result.out.range(of: "\r\n\r\n") else { return http }
        let head = result.out[..<split.lowerBound].components(separatedBy: "\r\n")
        http.status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            http.headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        http.body = String(result.out[split.upperBound...])
        return http
    }

    /// Logs in with the initial password and returns the session token.
    func login(password: String? = nil) async throws -> String {
        let answer = try await request("/login", form: [("user", "admin"), ("password", password ?? initialPassword)])
        #expect(answer.status == 303, "login: \(answer.status) \(answer.body)")
        let cookie = try #require(answer.header("set-cookie"))
        let token = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)[1]
        return String(token)
    }

    /// The CSRF token the pages of this session carry.
    func csrf(_ token: String) async throws -> String {
        let page = try await request("/configuration", token: token)
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.body.range(of: marker)).upperBound
        return String(page.body[start...].prefix { $0 != "\"" })
    }
}

/// Runs a tool without blocking Swift's cooperative threads (the console under test needs
/// them): output goes to files, the end is awaited.
enum Tool {
    static func run(_ path: String, _ arguments: [String], input: String? = nil) async throws -> (status: Int32, out: String, err: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("moat-tool-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer { unlink(base + ".out"); unlink(base + ".err"); unlink(base + ".in") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        if let input {
            _ = FileManager.default.createFile(atPath: base + ".in", contents: Data(input.utf8))
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: base + ".in"))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        return (status, out, err)
    }
}
