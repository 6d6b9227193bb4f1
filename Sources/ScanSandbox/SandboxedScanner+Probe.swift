#if DEBUG
import Foundation

extension SandboxedScanner {
    /// Test builds only: forks a worker of its own, asks it what it can reach from inside the
    /// sandbox, and ends it.
    func probe(readPaths: [String], writePaths: [String]) throws -> SandboxProbe {
        let link = sharedLink
        let (reply, descriptor) = try link.request(.spawn, timeout: .seconds(10))
        guard case .spawned(let pid, _) = reply, descriptor >= 0 else {
            throw SupervisorLink.Failure(description: "no worker for the probe: \(reply)")
        }
        let channel = SandboxChannel(descriptor: descriptor)
        defer {
            channel.close()
            _ = try? link.request(.reap(pid: pid), timeout: .seconds(10))
        }
        try channel.send(bytes: try WorkerRequest.probe(readPaths: readPaths, writePaths: writePaths).encoded())
        guard case (.probed(let probe), _) = try channel.receive(timeout: .seconds(10), WorkerReply.init(wire:)) else {
            throw SupervisorLink.Failure(description: "the worker did not answer the probe")
        }
        return probe
    }
}
#endif
