import CSandbox
import Foundation
import ThreatEngine

/// The `moat-scan` process: started by moatd with its end of a socketpair as descriptor 3, it
/// sandboxes itself (`SandboxPolicy`), loads the signatures once and forks one worker per scan
/// slot from that engine, so workers share its memory copy-on-write and a replacement is ready
/// in milliseconds. It parses no mail itself: only workers do, one scan at a time, each with an
/// address-space limit. It stays single-threaded, which is what makes forking it safe.
public enum ScanSupervisor {
    /// The descriptor moatd hands over.
    public static let controlDescriptor: Int32 = 3

    /// Runs until moatd closes the channel (or dies), then kills its workers and exits.
    public static func main() -> Never {
        _ = moat_close_from(controlDescriptor + 1)
        signal(SIGPIPE, SIG_IGN)
        // The Swift runtime catches crash signals to print a backtrace (by starting another
        // program, which the sandbox forbids). A worker that crashes must simply die, at once,
        // without a core file: moatd sees the signal and answers for its part.
        for crash in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS] { signal(crash, SIG_DFL) }
        let channel = SandboxChannel(descriptor: controlDescriptor)
        var state: State
        do {
            state = try start(channel)
        } catch {
            try? channel.send(SupervisorReply.failed("\(error)"))
            exit(1)
        }
        while true {
            let request: SupervisorRequest
            do {
                request = try channel.receive(SupervisorRequest.self).0
            } catch {
                // moatd is gone or spoke nonsense: nobody is left to give verdicts to.
                state.killAll()
                exit(0)
            }
            let reply = state.handle(request, channel: channel)
            do {
                try channel.send(reply.message, attaching: reply.descriptor)
            } catch {
                state.killAll()
                exit(0)
            }
            if reply.descriptor >= 0 { close(reply.descriptor) }
        }
    }

    private static func start(_ channel: SandboxChannel) throws -> State {
        guard case (.start(let configuration), _) = try channel.receive(SupervisorRequest.self) else {
            throw SandboxPolicy.Failure(description: "the first request must be start")
        }
        EngineMessages.capture()
        let applied = try SandboxPolicy.apply(configuration)
        let state = try State(configuration: configuration, applied: applied)
        let engine = state.engine
        var measures = applied.measures
        measures.append("memory limit per worker: the engine plus \(configuration.memoryHeadroom >> 20) MiB")
        try channel.send(SupervisorReply.ready(info: engine.info, measures: measures, warnings: applied.warnings,
                                               messages: EngineMessages.take()))
        return state
    }

    struct State {
        let configuration: SandboxConfiguration
        let scratchDirectory: String
        let signatureDirectory: String
        var engine: ScanEngine
        var workers: Set<pid_t> = []
        /// Exit statuses collected before moatd asked for them.
        var collected: [pid_t: WorkerExit] = [:]

        init(configuration: SandboxConfiguration, applied: SandboxPolicy.Applied) throws {
            self.configuration = configuration
            scratchDirectory = applied.scratchDirectory
            signatureDirectory = applied.signatureDirectory
            engine = try Self.load(configuration, from: applied.signatureDirectory, limits: configuration.limits,
                                   generation: 1, scratch: applied.scratchDirectory)
        }

        /// Loads from the sandbox's view of the directory, and reports it by its real name.
        static func load(_ configuration: SandboxConfiguration, from directory: String, limits: ScanLimits,
                         generation: Int, scratch: String) throws -> ScanEngine {
            let engine = try ScanEngine.load(from: directory, limits: limits, generation: generation,
                                             temporaryDirectory: scratch)
            return engine.describing(directory: configuration.signatureDirectory, insteadOf: directory)
        }

        mutating func handle(_ request: SupervisorRequest,
                             channel: SandboxChannel) -> (message: SupervisorReply, descriptor: Int32) {
            collectExited()
            switch request {
            case .start:
                return (.failed("already started"), -1)
            case .spawn:
                return spawn(control: channel)
            case .kill(let pid), .reap(let pid):
                guard workers.contains(pid) || collected[pid] != nil else { return (.exited(pid: pid, status: .unknown), -1) }
                // A worker moatd reaps has closed its socket or died; one that lingers is killed
                // too, so waiting for it can never hang the supervisor.
                if workers.contains(pid) { kill(pid, SIGKILL) }
                return (.exited(pid: pid, status: waitFor(pid)), -1)
            case .reload(let limits):
                do {
                    engine = try Self.load(configuration, from: signatureDirectory, limits: limits ?? engine.limits,
                                           generation: engine.info.generation + 1, scratch: scratchDirectory)
                    return (.reloaded(info: engine.info, messages: EngineMessages.take()), -1)
                } catch {
                    let said = EngineMessages.take().map(\.text).joined(separator: "; ")
                    return (.failed("\(error)" + (said.isEmpty ? "" : " (libclamav: \(said))")), -1)
                }
            }
        }

        private mutating func spawn(control: SandboxChannel) -> (message: SupervisorReply, descriptor: Int32) {
            let ends: (SandboxChannel, SandboxChannel)
            do {
                ends = try SandboxChannel.pair()
            } catch {
                return (.failed("\(error)"), -1)
            }
            let limit = ProcessMemory.addressSpace() + configuration.memoryHeadroom
            let pid = fork()
            if pid == 0 {
                control.close()
                ends.0.close()
                ScanWorker(channel: ends.1, engine: engine, memoryLimit: limit, configuration: configuration).run()
            }
            ends.1.close()
            guard pid > 0 else {
                ends.0.close()
                return (.failed("fork: \(String(cString: strerror(errno)))"), -1)
            }
            workers.insert(pid)
            return (.spawned(pid: pid, generation: engine.info.generation), ends.0.descriptor)
        }

        private mutating func waitFor(_ pid: pid_t) -> WorkerExit {
            if let status = collected.removeValue(forKey: pid) { return status }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { return .unknown }
            }
            workers.remove(pid)
            return WorkerExit(waitStatus: status)
        }

        /// Reaps workers that ended on their own, so none lingers as a zombie.
        private mutating func collectExited() {
            var status: Int32 = 0
            while true {
                let pid = waitpid(-1, &status, WNOHANG)
                guard pid > 0 else { return }
                workers.remove(pid)
                collected[pid] = WorkerExit(waitStatus: status)
            }
        }

        func killAll() {
            for pid in workers { kill(pid, SIGKILL) }
        }
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
