import Foundation

/// A PostgreSQL server of the test's own: Debian's binaries, a data directory under /tmp,
/// listening on a free loopback port, run as `nobody` (PostgreSQL refuses root; tests run as
/// root), trust authentication for the user `moat`. fsync is off (the machine does not crash
/// in a test) but commits are synchronous: an immediate shutdown keeps every committed row.
/// `stop` and `crash` end it by its PID; `start` again reuses the data directory and port
/// (the database was "down" meanwhile).
public final class PrivatePostgres: @unchecked Sendable {
    public let root: String
    public let port: Int
    public let user = "moat"
    private let binDir: String
    private let lock = NSLock()
    private var process: Process?

    /// Addresses besides 127.0.0.1 the server listens on (a test network's, made before).
    public let extraListen: [String]

    public var dataDirectory: String { root + "/data" }
    public var logFile: String { root + "/postgres.log" }
    public var pid: Int32? { lock.withLock { process?.processIdentifier } }

    /// Initialises a cluster and starts it; blocking (call from a thread of its own).
    /// `listen`: more addresses to listen on; `clients`: networks (CIDR) whose connections
    /// are trusted besides loopback's, such as the other end of a test's veth.
    public init(listen: [String] = [], clients: [String] = []) throws {
        guard let bin = Self.binDirectory() else {
            throw SystemSetup.Failure("PostgreSQL is not installed: install the packages in scripts/deps/storage.txt")
        }
        binDir = bin
        let root = NSTemporaryDirectory() + "moat-pg-\(UUID().uuidString.prefix(8))"
        let dataDirectory = root + "/data"
        self.root = root
        extraListen = listen
        port = try Self.freePort()
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        chmod(root, 0o755)
        guard let nobody = getpwnam("nobody") else { throw SystemSetup.Failure("no user nobody") }
        let uid = nobody.pointee.pw_uid, gid = nobody.pointee.pw_gid
        chown(root, uid, gid)
        chown(dataDirectory, uid, gid)
        chmod(dataDirectory, 0o700)
        let initdb = Self.asNobody(bin + "/initdb", ["-D", dataDirectory, "-U", user, "--auth=trust", "-E", "UTF8",
                                                     "--no-sync", "--locale=C"])
        guard initdb.status == 0 else { throw SystemSetup.Failure("initdb failed: \(initdb.output)") }
        if !clients.isEmpty {
            let hba = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/pg_hba.conf"))
            hba.seekToEndOfFile()
            hba.write(Data(clients.map { "host all all \($0) trust\n" }.joined().utf8))
            try hba.close()
        }
        try start()
    }

    public static func binDirectory() -> String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.compactMap(Int.init).sorted().last.map { "/usr/lib/postgresql/\($0)/bin" }
            .flatMap { FileManager.default.isExecutableFile(atPath: $0 + "/postgres") ? $0 : nil }
    }

    /// Starts the server (again) and waits until it accepts connections.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", binDir + "/postgres",
                             "-D", dataDirectory, "-p", "\(port)", "-k", root, "-c", "listen_addresses=" + (["127.0.0.1"] + extraListen).joined(separator: ","),
                             "-c", "fsync=off", "-c", "full_page_writes=off",
                             // Suites run side by side, each store with a pool of up to 4: 50
                             // could run out in a full parallel test run.
                             "-c", "max_connections=200", "-c", "log_connections=on"]
        FileManager.default.createFile(atPath: logFile, contents: nil)
        if let nobody = getpwnam("nobody") { chown(logFile, nobody.pointee.pw_uid, nobody.pointee.pw_gid) }
        let log = FileHandle(forWritingAtPath: logFile)
        log?.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let deadline = Date().addingTimeInterval(30)
        while !Self.canConnect(port: port) || !ready() {
            guard process.isRunning, Date() < deadline else {
                throw SystemSetup.Failure("postgres did not start on 127.0.0.1:\(port); log: \(log_())")
            }
            usleep(100_000)
        }
    }

    private func ready() -> Bool {
        SystemSetup.run(binDir + "/pg_isready", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", "postgres"]).status == 0
    }

    private func log_() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "none" }

    /// The server log's last `lines` lines, for a failing test to show what PostgreSQL saw.
    public func logTail(_ lines: Int = 40) -> String {
        log_().split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// A fresh database; returns its `[Root] Database` URL.
    public func createDatabase(_ name: String = "moat_\(UUID().uuidString.prefix(8).lowercased())") throws -> String {
        let result = SystemSetup.run(binDir + "/createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, name])
        guard result.status == 0 else { throw SystemSetup.Failure("createdb \(name) failed: \(result.output)") }
        return "postgresql://\(user)@127.0.0.1:\(port)/\(name)"
    }

    /// Runs SQL with psql (for checks from outside Moat).
    public func psql(_ database: String, _ sql: String) -> (status: Int32, output: String) {
        SystemSetup.run(binDir + "/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-At", "-c", sql])
    }

    /// A clean stop (SIGTERM, smart shutdown) and wait.
    public func stop() { end(SIGTERM) }

    /// An immediate shutdown (SIGQUIT): connections cut, no checkpoint, as after a crash.
    public func crash() { end(SIGQUIT) }

    private func end(_ signal: Int32) {
        guard let process = lock.withLock({ self.process }) else { return }
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        lock.withLock { self.process = nil }
    }

    /// Stops the server and removes its directory.
    public func remove() {
        stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    static func asNobody(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        SystemSetup.run("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", executable] + arguments)
    }

    /// A loopback port for a server to listen on (see `LoopbackPorts`).
    public static func freePort() throws -> Int { try LoopbackPorts.reserve() }

    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// The shared server of this test process, started on first use (on a thread of its own).
    public static func shared() async throws -> PrivatePostgres {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try sharedLock.withLock {
                    if let server = sharedServer { return server }
                    let server = try PrivatePostgres()
                    sharedServer = server
                    atexit { PrivatePostgres.sharedServer?.remove() }
                    return server
                } })
            }
        }
    }

    /// Starts a server of the caller's own (which may stop and crash it).
    public static func started() async throws -> PrivatePostgres {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try PrivatePostgres() }) }
        }
    }

    nonisolated(unsafe) static var sharedServer: PrivatePostgres?
    static let sharedLock = NSLock()
}
