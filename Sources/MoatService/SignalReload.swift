import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP rereads the configuration, as for every Unix daemon.
public struct SignalReload: Service {
    let daemon: Daemon

    public init(daemon: Daemon) {
        self.daemon = daemon
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            daemon.logger.notice("SIGHUP received: reloading the configuration")
            _ = await daemon.reload()
        }
    }
}
