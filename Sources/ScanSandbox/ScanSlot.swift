import Foundation
import Logging
import Synchronization
import ThreatEngine

/// What every slot of one `SandboxedScanner` shares.
final class SandboxShared: Sendable {
    let queue: RemoteScanQueue
    let logger: Logger
    let current: Mutex<SignatureInfo>
    /// The worker each slot holds now (tests and appinfo).
    let workers: Mutex<[Int: pid_t]>
    /// Workers that have a scan in hand.
    let busy = Mutex<Set<pid_t>>([])
    private let sequence = Atomic<UInt64>(0)
    private let links: Mutex<(link: SupervisorLink, lastAttempt: ContinuousClock.Instant?)>
    /// Starts or connects to a supervisor again.
    private let establish: @Sendable () throws -> SupervisorLink.Started

    init(link: SupervisorLink, queue: RemoteScanQueue, info: SignatureInfo, logger: Logger,
         establish: @escaping @Sendable () throws -> SupervisorLink.Started) {
        self.links = Mutex((link, nil))
        self.establish = establish
        self.queue = queue
        self.logger = logger
        self.current = Mutex(info)
        self.workers = Mutex([:])
    }

    var generation: Int { current.withLock { $0.generation } }

    /// The supervisor in service now.
    var link: SupervisorLink { links.withLock { $0.link } }

    /// Replaces a supervisor that failed (moat-scan.service restarted, or a spawned one died):
    /// a new one is started or connected and loads the engine. Its workers die with it, so
    /// every slot forks again. At most one attempt a second; nil while there is none.
    func replace(_ failed: SupervisorLink) -> SupervisorLink? {
        links.withLock { state -> SupervisorLink? in
            guard state.link === failed else { return state.link }
            if let last = state.lastAttempt, ContinuousClock.now - last < .seconds(1) { return nil }
            state.lastAttempt = .now
            failed.shutdown()
            do {
                let started = try establish()
                state.link = started.link
                current.withLock { $0 = started.info }
                logger.warning("the scan supervisor was replaced", metadata: ["supervisor": "\(started.link.pid)"])
                return started.link
            } catch {
                logger.error("cannot replace the scan supervisor: \(error); parts stay unchecked until it is back")
                return nil
            }
        }
    }

    /// Runs one supervisor request, on a replacement supervisor if the current one failed.
    func request(_ request: SupervisorRequest, timeout: Duration) throws -> (SupervisorReply, Int32, SupervisorLink) {
        let current = link
        do {
            let (reply, descriptor) = try current.request(request, timeout: timeout)
            return (reply, descriptor, current)
        } catch {
            guard let replacement = replace(current) else { throw error }
            let (reply, descriptor) = try replacement.request(request, timeout: timeout)
            return (reply, descriptor, replacement)
        }
    }

    /// The first of `count` consecutive request ids (a worker answers span i with first + i).
    func nextIDs(_ count: Int) -> UInt64 {
        sequence.add(UInt64(max(1, count)), ordering: .relaxed).newValue - UInt64(max(1, count)) + 1
    }
}

/// One scan slot: a thread of moatd's and the worker process it feeds, one scan at a time.
/// The thread waits for the worker's answer with the job's deadline; past it the worker is
/// killed, the scan is unchecked and the next job gets a fresh worker forked from the loaded
/// engine. A worker that dies mid-scan costs only that scan. Workers that keep dying are
/// replaced with a growing back-off, so a poisoned message cannot make the slot spin.
struct ScanSlot {
    struct Worker {
        let pid: pid_t
        let channel: SandboxChannel
        let generation: Int
        /// The supervisor it was forked by.
        let supervisor: SupervisorLink
    }

    let index: Int
    let shared: SandboxShared
    private var worker: Worker?
    private var consecutiveDeaths = 0

    static let spawnTimeout = Duration.seconds(10)
    static let maximumBackOff = Duration.seconds(5)

    init(index: Int, shared: SandboxShared) {
        self.index = index
        self.shared = shared
    }

    mutating func run() {
        // Forked before the first job arrives: the first message does not wait for it.
        _ = try? readyWorker(before: .now + Self.spawnTimeout)
        while let job = shared.queue.take() { perform(job) }
        if let worker { retire(worker) }
    }

    /// Runs a job's spans in its worker, which answers span by span. Answers kept before a
    /// deadline or a crash stand; at the deadline the rest are unchecked(timeout); after a
    /// crash the span that killed the worker is unchecked and the spans after it are scanned
    /// again by a fresh worker, so one hostile part costs only its own verdict.
    private mutating func perform(_ job: RemoteScanJob) {
        guard let descriptor = job.takeDescriptor() else { return }
        defer { close(descriptor) }
        var results: [ScanResult] = []
        results.reserveCapacity(job.spans.count)
        while results.count < job.spans.count {
            if !results.isEmpty, ContinuousClock.now >= job.deadline {
                results += Array(repeating: .unchecked(.timeout), count: job.spans.count - results.count)
                break
            }
            let worker: Worker
            do {
                worker = try readyWorker(before: job.deadline)
            } catch {
                results += Array(repeating: .unchecked(.engineError("no scan worker: \(error)")), count: job.spans.count - results.count)
                break
            }
            let spans = Array(job.spans[results.count...])
            switch run(spans, of: job, from: descriptor, in: worker, into: &results) {
            case .done:
                consecutiveDeaths = 0
            case .timedOut:
                results += Array(repeating: .unchecked(.timeout), count: job.spans.count - results.count)
            case .died(let status):
                consecutiveDeaths += 1
                results.append(.unchecked(.engineError("scan worker died: \(status)")))
            case .outOfTurn:
                results += Array(repeating: .unchecked(.engineError("the scan worker answered out of turn")),
                                 count: job.spans.count - results.count)
            }
        }
        job.finish(results)
    }

    private enum Outcome {
        case done, timedOut, outOfTurn
        case died(WorkerExit)
    }

    /// One request to the worker: `spans` of the descriptor, answers appended to `results`.
    private mutating func run(_ spans: [PartSpan], of job: RemoteScanJob, from descriptor: Int32, in worker: Worker,
                              into results: inout [ScanResult]) -> Outcome {
        let id = shared.nextIDs(spans.count)
        do {
            try worker.channel.send(bytes: try WorkerRequest.scan(id: id, spans: spans, limits: job.limits).encoded(),
                                    attaching: descriptor)
            shared.busy.withLock { _ = $0.insert(worker.pid) }
            defer { shared.busy.withLock { _ = $0.remove(worker.pid) } }
            for index in spans.indices {
                let left = ContinuousClock.now.duration(to: job.deadline)
                let (reply, extra) = try worker.channel.receive(timeout: max(left, .milliseconds(1)), WorkerReply.init(wire:))
                if extra >= 0 { close(extra) }
                guard case .result(let answered, let result, let messages) = reply, answered == id &+ UInt64(index) else {
                    end(worker, kill: true, because: "answered out of turn")
                    return .outOfTurn
                }
                for message in messages { shared.logger.log(level: message.level, "libclamav: \(message.text)") }
                results.append(result)
            }
            return .done
        } catch SandboxChannel.Failure.timedOut {
            let status = end(worker, kill: true, because: nil)
            shared.logger.warning("scan worker \(worker.pid) killed: the scan exceeded its time limit (\(job.limits.scanTimeout))",
                                  metadata: ["worker": "\(worker.pid)", "status": "\(status)"])
            return .timedOut
        } catch {
            let status = end(worker, kill: false, because: nil)
            shared.logger.error("scan worker \(worker.pid) died during a scan: \(status); the part is unchecked",
                                metadata: ["worker": "\(worker.pid)", "status": "\(status)", "error": "\(error)"])
            return .died(status)
        }
    }

    /// The slot's worker, forked now if it has none or an older engine's.
    private mutating func readyWorker(before deadline: ContinuousClock.Instant) throws -> Worker {
        if let worker, worker.supervisor !== shared.link || worker.generation < shared.generation {
            retire(worker)
            self.worker = nil
        }
        if let worker { return worker }
        if consecutiveDeaths >= 3 {
            let backOff = min(Self.maximumBackOff, .milliseconds(100) * (1 << min(consecutiveDeaths - 3, 6)))
            let pause = min(backOff, ContinuousClock.now.duration(to: deadline))
            if pause > .zero { Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18) }
        }
        let (reply, descriptor, supervisor) = try shared.request(.spawn, timeout: Self.spawnTimeout)
        guard case .spawned(let pid, let generation) = reply, descriptor >= 0 else {
            if descriptor >= 0 { close(descriptor) }
            if case .failed(let reason) = reply { throw SupervisorLink.Failure(description: reason) }
            throw SupervisorLink.Failure(description: "the supervisor answered a spawn out of turn")
        }
        let fresh = Worker(pid: pid, channel: SandboxChannel(descriptor: descriptor), generation: generation,
                           supervisor: supervisor)
        worker = fresh
        shared.workers.withLock { $0[index] = pid }
        return fresh
    }

    /// Closes an idle worker's socket (it exits) and collects it.
    private mutating func retire(_ worker: Worker) {
        end(worker, kill: false, because: nil)
    }

    @discardableResult
    private mutating func end(_ worker: Worker, kill: Bool, because reason: String?) -> WorkerExit {
        if let reason { shared.logger.error("scan worker \(worker.pid) \(reason): killed") }
        worker.channel.close()
        self.worker = nil
        shared.workers.withLock { _ = $0.removeValue(forKey: index) }
        // A worker of a supervisor that is gone went with it.
        guard worker.supervisor === shared.link else { return .unknown }
        let request: SupervisorRequest = kill ? .kill(pid: worker.pid) : .reap(pid: worker.pid)
        guard case (.exited(_, let status), _)? = try? worker.supervisor.request(request, timeout: Self.spawnTimeout) else {
            return .unknown
        }
        return status
    }
}
