import Foundation
import Logging
import MailD
import MoatConfig

/// At start, before anything listens: spool files a crash left (nothing in them was
/// acknowledged) are removed, and the log says how many and where. Only Moat's own spool
/// directories, only Moat's own file names (`<prefix><UUID>`).
public enum SpoolCleanup {
    /// The directories and names the interfaces and the core write, plus `others` (the
    /// Gate's, which only moatd's composition knows: MoatService sits beside the Gate).
    static func places(_ values: ConfigValues, others: [LeftoverSpool.Place]) -> [LeftoverSpool.Place] {
        let state = StateDirectories(values)
        return [
            // MailCore's decoded parts and the Milter interface's messages.
            LeftoverSpool.Place(directory: state.coreSpool, prefixes: ["part-", "milter-"]),
            // MessageCollector of the spamd, rspamd and clamd interfaces.
            LeftoverSpool.Place(directory: state.filterSpool("spamd"), prefixes: ["msg-"]),
            LeftoverSpool.Place(directory: state.filterSpool("rspamd"), prefixes: ["msg-"]),
            LeftoverSpool.Place(directory: state.filterSpool("clamd"), prefixes: ["msg-"]),
        ] + others
    }

    /// Held open for the life of the process, with a shared lock: "a moatd uses this VarDir".
    nonisolated(unsafe) private static var lockDescriptor: Int32 = -1

    public static func run(_ values: ConfigValues, others: [LeftoverSpool.Place] = [], logger: Logger) {
        let varDir = values.root.varDir
        // Another moatd running on the same VarDir (a second instance, test daemons side by
        // side) owns files in the spool that are not leftovers: then nothing is removed.
        guard claimAlone(varDir) else {
            logger.info("another moatd uses \(varDir): leftover spool files are not looked for")
            return
        }
        defer { shareClaim() }
        let removed = LeftoverSpool.remove(places(values, others: others))
        guard !removed.isEmpty else { return }
        let total = removed.reduce(0) { $0 + $1.count }
        logger.warning("removed \(total) leftover spool files (messages of a previous run, none acknowledged)", metadata: [
            "directories": "\(removed.map { "\($0.directory) (\($0.count))" }.joined(separator: ", "))",
        ])
    }

    /// Every moatd holds a shared lock on `VarDir/moatd.lock` while it runs; the exclusive
    /// lock is granted only when no other moatd holds one, so only then are spool files
    /// leftovers. True when this process is alone (it then holds the exclusive lock until
    /// `shareClaim`); false when another moatd runs (this one then holds a shared lock).
    static func claimAlone(_ varDir: String) -> Bool {
        try? FileManager.default.createDirectory(atPath: varDir, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let fd = open(varDir + "/moatd.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        lockDescriptor = fd
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        shareClaim()
        return false
    }

    /// Turns the claim into a shared lock (waits while another moatd is removing leftovers).
    static func shareClaim() {
        guard lockDescriptor >= 0 else { return }
        while flock(lockDescriptor, LOCK_SH) != 0, errno == EINTR {}
    }
}
