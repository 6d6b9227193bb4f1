import Foundation
import ThreatEngine

/// What moatd asks its scan supervisor, one JSON datagram each. The supervisor answers every
/// request with exactly one `SupervisorReply`, in order.
enum SupervisorRequest: Codable {
    /// The first message: how to sandbox itself and which signatures to load.
    case start(SandboxConfiguration)
    /// Fork a worker from the loaded engine; the reply carries moatd's end of its socket.
    case spawn
    /// SIGKILL a worker (past its deadline) and collect its exit status.
    case kill(pid: Int32)
    /// Collect the exit status of a worker that closed its socket (killed first if it lingers).
    case reap(pid: Int32)
    /// Load the signatures again; workers forked afterwards use the new engine.
    case reload(limits: ScanLimits?)
}

enum SupervisorReply: Codable {
    case ready(info: SignatureInfo, measures: [String], warnings: [String], messages: [EngineMessage])
    case spawned(pid: Int32, generation: Int)
    case exited(pid: Int32, status: WorkerExit)
    case reloaded(info: SignatureInfo, messages: [EngineMessage])
    case failed(String)
}

/// What moatd asks a worker, and what it answers.
enum WorkerRequest: Codable {
    /// Scan each span of the descriptor sent with this message, answering one `result` per
    /// span, in order, the i-th with `id + i`.
    case scan(id: UInt64, spans: [PartSpan], limits: ScanLimits)
    #if DEBUG
    /// Test builds only: try from inside the sandbox what it must forbid.
    case probe(readPaths: [String], writePaths: [String])
    #endif
}

enum WorkerReply: Codable {
    /// `messages`: what libclamav logged during the scan, for moatd's log.
    case result(id: UInt64, result: ScanResult, messages: [EngineMessage])
    #if DEBUG
    case probed(SandboxProbe)
    #endif
}

/// How a worker process ended, as waitpid(2) told the supervisor.
public enum WorkerExit: Codable, Sendable, Hashable, CustomStringConvertible {
    case exited(code: Int32)
    case signalled(signal: Int32)
    /// The supervisor had already collected it, or never knew it.
    case unknown

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let signal): "killed by signal \(signal) (\(Self.signalName(signal)))"
        case .unknown: "exit status unknown"
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGSYS: "SIGSYS"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    /// Decodes a waitpid(2) status word.
    init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            self = .exited(code: (status >> 8) & 0xff)
        } else {
            self = .signalled(signal: status & 0x7f)
        }
    }
}
