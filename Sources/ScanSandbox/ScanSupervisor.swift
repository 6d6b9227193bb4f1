import CSandbox
import Foundation
import ThreatEngine

/// The `moat-scan` process. It loads the signatures once and forks one worker per scan slot
/// from that engine, so workers share its memory copy-on-write and a replacement is ready in
/// milliseconds. It parses no mail itself: only workers do, one scan at a time, each with an
/// address-space limit. It stays single-threaded, which is what makes forking it safe.
///
/// Two ways to run it:
/// - **spawned** (`--supervisor`): moatd, started as root, starts it with its end of a
///   socketpair as descriptor 3; it confines itself (`SandboxPolicy`: namespaces, the
///   `moat-scan` user, seccomp) and serves that one moatd until it goes away.
/// - **service** (`--listen PATH`): systemd starts it as `moat-scan.service`, already confined
///   by the unit (its own user, no network, a read-only file system); it adds its seccomp
///   filter and serves the moatd that connects (`moat` or root only), one at a time.
public enum ScanSupervisor {
    /// The descriptor a spawning moatd hands over.
    public static let controlDescriptor: Int32 = 3

    /// Spawned mode: serves the moatd on descriptor 3 until it goes away.
    public static func main() -> Never {
        _ = moat_close_from(controlDescriptor + 1)
        prepareSignals()
        serve(SandboxChannel(descriptor: controlDescriptor), confine: SandboxPolicy.apply)
        exit(0)
    }

    /// The Swift runtime catches crash signals to print a backtrace (by starting another
    /// program, which the sandbox forbids). A worker that crashes must simply die, at once,
    /// without a core file: moatd sees the signal and answers for its part.
    /// Signals blocked by whoever started it (a thread of a test runner, a shell) are unblocked:
    /// SIGTERM must stop the service.
    static func prepareSignals() {
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        signal(SIGPIPE, SIG_IGN)
        for crash in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS] { signal(crash, SIG_DFL) }
    }

    /// One moatd's session: its start, then its requests until it closes the channel (or
    /// dies, or speaks nonsense); its workers are killed then, nobody is left to answer to.
    static func serve(_ channel: SandboxChannel,
                      confine: (SandboxConfiguration) throws -> SandboxPolicy.Applied) {
        defer { channel.close() }
        var state: State
        do {
            state = try start(channel, confine: confine)
        } catch {
            try? channel.send(SupervisorReply.failed("\(error)"))
            return
        }
        defer { state.killAll() }
        while true {
            guard let request = try? channel.receive(SupervisorRequest.self).0 else { return }
            let reply = state.handle(request, channel: channel)
            defer { if reply.descriptor >= 0 { close(reply.descriptor) } }
            guard (try? channel.send(reply.message, attaching: reply.descriptor)) != nil else { return }
        }
    }

    private static func start(_ channel: SandboxChannel,
                              confine: (SandboxConfiguration) throws -> SandboxPolicy.Applied) throws -> State {
        guard case (.start(let configuration), _) = try channel.receive(SupervisorRequest.self) else {
            throw SandboxPolicy.Failure(description: "the first request must be start")
        }
        EngineMessages.capture()
        let applied = try confine(configuration)
        let state = try State(configuration: configuration, applied: applied)
        let engine = state.engine
        var measures = applied.measures
        measures.append("memory limit per worker: the engine plus \(configuration.memoryHeadroom >> 20) MiB")
        try channel.send(SupervisorReply.ready(info: engine.info, measures: measures, warnings: applied.warnings,
                                               messages: EngineMessages.take()))
        return state
    }
}

/// The supervisor's own address space: a worker's limit is what it inherits plus headroom.
enum ProcessMemory {
    static func addressSpace() -> UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmSize:") {
            let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first
            return (kilobytes.flatMap { UInt64($0) } ?? 0) * 1024
        }
        return 0
    }
}
