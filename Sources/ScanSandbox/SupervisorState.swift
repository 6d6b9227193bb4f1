import Foundation
import ThreatEngine

extension ScanSupervisor {
    /// One moatd's session with the supervisor: the loaded engine and the workers forked from it.
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

        /// Kills and collects every worker (a service outlives its moatd: no zombies left).
        mutating func killAll() {
            for pid in workers {
                kill(pid, SIGKILL)
                _ = waitFor(pid)
            }
            collected = [:]
        }
    }
}
