import Foundation
import Logging
import ServiceLifecycle

/// Reloads the signatures by itself when freshclam has changed `[Root] SignatureDir`, as
/// clamd's SelfCheck does: no SIGHUP needed after an update. Every `SignatureCheckInterval`
/// it compares the directory's files (names, sizes, modification times); a change is acted on
/// once the directory has stayed still for a moment, so a half-written update is not loaded.
public struct SignatureSelfCheck: Service {
    let daemon: Daemon

    public init(daemon: Daemon) {
        self.daemon = daemon
    }

    /// How long the directory must stay unchanged before a reload.
    static let settleTime = Duration.seconds(2)

    public func run() async throws {
        var known = SignatureFingerprint(directory: daemon.settings.current.values.root.signatureDir)
        while !Task.isShuttingDownGracefully {
            let interval = daemon.settings.current.values.root.signatureCheckInterval.duration
            // Off (0s) is rechecked each minute, so turning it on needs only a reload.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval > .zero ? interval : .seconds(60)) }
            guard interval > .zero, !Task.isShuttingDownGracefully else { continue }
            let directory = daemon.settings.current.values.root.signatureDir
            var current = SignatureFingerprint(directory: directory)
            guard current != known else { continue }
            // Wait until freshclam is done: the same picture twice in a row.
            while true {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.settleTime) }
                let again = SignatureFingerprint(directory: directory)
                if again == current || Task.isShuttingDownGracefully { break }
                current = again
            }
            daemon.logger.notice("the signatures in \(directory) changed: reloading them")
            known = current
            await daemon.reloadSignaturesNow()
        }
    }
}

/// What a reload would read: every file of the signature directory with its size and time.
struct SignatureFingerprint: Equatable {
    struct Entry: Equatable {
        var name: String
        var size: Int64
        var modified: Int64
        var inode: UInt64
    }

    let entries: [Entry]

    init(directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        entries = names.sorted().compactMap { name in
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Entry(name: name, size: Int64(info.st_size),
                         modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                         inode: UInt64(info.st_ino))
        }
    }
}
