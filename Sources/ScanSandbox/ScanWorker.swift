import CSandbox
import Foundation
import ThreatEngine

/// A forked worker: one scan at a time from moatd over its own socket, until moatd closes it.
/// It inherits the supervisor's sandbox and adds an address-space limit; it dies with the
/// supervisor. A worker that crashes or is killed costs only the scan it was running.
struct ScanWorker {
    let channel: SandboxChannel
    let engine: ScanEngine
    let memoryLimit: UInt64
    let configuration: SandboxConfiguration

    func run() -> Never {
        _ = moat_die_with_parent()
        _ = moat_limit_memory(memoryLimit)
        Self.reseedTemporaryNames()
        while true {
            let request: WorkerRequest
            let descriptor: Int32
            do {
                (request, descriptor) = try channel.receive(WorkerRequest.init(wire:))
            } catch {
                _exit(0)
            }
            answer(request, descriptor: descriptor) { reply in
                do {
                    try channel.send(bytes: try reply.encoded())
                } catch {
                    _exit(0)
                }
            }
            if descriptor >= 0 { close(descriptor) }
        }
    }

    /// libclamav names each scan's temporary directory from the time (to the second) and a
    /// salt stirred with libc's `rand()`. Forked workers inherit the supervisor's generator,
    /// so sibling workers drew the same names and, scanning in the same second in the shared
    /// scratch directory, one failed ("Can't create temporary directory for scan", the part
    /// unchecked). Each worker's generator starts from its own pid and the clock.
    static func reseedTemporaryNames() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let pid = UInt32(bitPattern: getpid())
        srand(pid &* 2_654_435_761 ^ UInt32(truncatingIfNeeded: now.tv_nsec) ^ UInt32(truncatingIfNeeded: now.tv_sec))
    }

    /// Answers a scan span by span, each reply sent as soon as its scan ends.
    private func answer(_ request: WorkerRequest, descriptor: Int32, send: (WorkerReply) -> Void) {
        switch request {
        case .scan(let id, let spans, let limits):
            guard descriptor >= 0 else {
                for index in spans.indices {
                    send(.result(id: id &+ UInt64(index), result: .unchecked(.engineError("no file to scan")), messages: []))
                }
                return
            }
            TestScanDelay.apply(configuration)
            _ = EngineMessages.take()
            var index: UInt64 = 0
            engine.scan(descriptor: descriptor, spans: spans, limits: limits,
                        willScan: { TestCrash.apply(configuration, descriptor: descriptor, at: $0.offset) }) { result in
                send(.result(id: id &+ index, result: result, messages: EngineMessages.take()))
                index += 1
            }
        #if DEBUG
        case .probe(let readPaths, let writePaths):
            send(.probed(SandboxProbe.run(readPaths: readPaths, writePaths: writePaths)))
        #endif
        }
    }
}

/// A delay before every scan, for tests that must catch a worker mid-scan or past its
/// deadline. It exists only in debug builds: release builds (what is packaged and run in
/// production) have no way to switch it on.
enum TestScanDelay {
    static func apply(_ configuration: SandboxConfiguration) {
        #if DEBUG
        if configuration.testScanDelayMilliseconds > 0 { usleep(configuration.testScanDelayMilliseconds * 1000) }
        #endif
    }
}

/// A crash on chosen content, for tests of what a worker crash costs. Debug builds only.
enum TestCrash {
    static func apply(_ configuration: SandboxConfiguration, descriptor: Int32, at offset: Int) {
        #if DEBUG
        let prefix = configuration.testCrashPrefix
        guard !prefix.isEmpty else { return }
        var head = [UInt8](repeating: 0, count: prefix.count)
        let count = pread(descriptor, &head, head.count, off_t(offset))
        if count == prefix.count, head == prefix { raise(SIGSEGV) }
        #endif
    }
}
