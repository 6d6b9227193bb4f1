import CSandbox
import Foundation
import Synchronization
import ThreatEngine

/// moatd's side of the scan supervisor: starts the `moat-scan` process and asks it, one
/// request at a time, to fork, kill and reap workers and to reload signatures.
final class SupervisorLink: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    /// moatd's child (spawned) or moat-scan.service's process (connected).
    let spawned: Bool
    private let channel: Mutex<SandboxChannel?>

    typealias Started = (link: SupervisorLink, info: SignatureInfo, measures: [String], warnings: [String])

    /// Starts the supervisor and waits until it has sandboxed itself and loaded the engine
    /// (seconds with the full database). Returns what it reports.
    static func start(executable: String, configuration: SandboxConfiguration,
                      loadTimeout: Duration) throws -> Started {
        let (ours, theirs) = try SandboxChannel.pair()
        defer { theirs.close() }
        let pid: pid_t
        do {
            pid = try spawn(executable, giving: theirs.descriptor)
        } catch {
            ours.close()
            throw error
        }
        return try open(SupervisorLink(pid: pid, spawned: true, channel: ours), configuration, loadTimeout)
    }

    /// Connects to moat-scan.service (`moat-scan --listen`) and has it load the engine.
    static func connect(to path: String, configuration: SandboxConfiguration,
                        loadTimeout: Duration) throws -> Started {
        let descriptor = moat_connect_seqpacket(path)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot reach the moat-scan service at \(path): \(String(cString: strerror(-descriptor)))")
        }
        var uid: uid_t = 0, pid: pid_t = 0
        _ = moat_peer(descriptor, &uid, &pid)
        return try open(SupervisorLink(pid: pid, spawned: false, channel: SandboxChannel(descriptor: descriptor)),
                        configuration, loadTimeout)
    }

    private static func open(_ link: SupervisorLink, _ configuration: SandboxConfiguration,
                             _ loadTimeout: Duration) throws -> Started {
        do {
            switch try link.request(.start(configuration), timeout: loadTimeout).0 {
            case .ready(let info, let measures, let warnings, let messages):
                return (link, info, measures, warnings + messages.filter { $0.level >= .warning }.map { "libclamav: \($0.text)" })
            case .failed(let reason):
                throw Failure(description: "the scan sandbox did not start: \(reason)")
            default:
                throw Failure(description: "the scan sandbox answered its start out of turn")
            }
        } catch {
            link.shutdown()
            throw error
        }
    }

    private init(pid: pid_t, spawned: Bool, channel: SandboxChannel) {
        self.pid = pid
        self.spawned = spawned
        self.channel = Mutex(channel)
    }

    /// Sends one request and waits for its answer; the supervisor answers strictly in order.
    func request(_ request: SupervisorRequest, timeout: Duration) throws -> (SupervisorReply, Int32) {
        try channel.withLock { channel throws -> (SupervisorReply, Int32) in
            guard let open = channel else { throw Failure(description: "the scan supervisor is gone") }
            do {
                try open.send(request)
                return try open.receive(SupervisorReply.self, timeout: timeout)
            } catch {
                // A supervisor that failed one exchange cannot be trusted with the next: its
                // answers would be out of step. Closing makes it kill its workers and exit.
                open.close()
                channel = nil
                throw Failure(description: "the scan supervisor failed: \(error)")
            }
        }
    }

    /// Closes the channel: the supervisor kills its workers and exits; moatd reaps it.
    func shutdown() {
        channel.withLock { channel in
            channel?.close()
            channel = nil
        }
        guard spawned else { return }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    private static func spawn(_ executable: String, giving descriptor: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copy: descriptor 3 is the only one it inherits on purpose.
        posix_spawn_file_actions_adddup2(&actions, descriptor, ScanSupervisor.controlDescriptor)
        // The spawning thread may block signals or have handlers (NIO, the runtime): the
        // supervisor starts with none blocked and every disposition at its default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let arguments = [executable, "--supervisor"]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }
}

/// Where the `moat-scan` executable is: `MOAT_SCAN_WORKER` if set, else beside the running
/// executable (a build directory, /usr/sbin), else Debian's package location.
public enum ScanWorkerExecutable {
    public static func locate() -> String? {
        var candidates: [String] = []
        if let given = ProcessInfo.processInfo.environment["MOAT_SCAN_WORKER"], !given.isEmpty { candidates.append(given) }
        if let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append((own as NSString).deletingLastPathComponent + "/moat-scan")
        }
        candidates += ["/usr/lib/moat/moat-scan", "/usr/local/lib/moat/moat-scan"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
