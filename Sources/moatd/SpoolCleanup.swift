import Foundation
import Gate
import Logging
import MailD
import MoatConfig

/// At start, before anything listens: spool files a crash left (nothing in them was
/// acknowledged) are removed, and the log says how many and where. Only Moat's own spool
/// directories, only Moat's own file names (`<prefix><UUID>`).
enum SpoolCleanup {
    /// The directories and names the interfaces, the core and the Gate write.
    static func places(_ values: ConfigValues) -> [LeftoverSpool.Place] {
        let varDir = values.value("Root", "VarDir").text ?? "/var/lib/moat"
        return [
            // MailCore's decoded parts and the Milter interface's messages.
            LeftoverSpool.Place(directory: varDir + "/spool", prefixes: ["part-", "milter-"]),
            // MessageCollector of the spamd, rspamd and clamd interfaces.
            LeftoverSpool.Place(directory: InterfaceServices.filterSpoolDirectory(values, "spamd"), prefixes: ["msg-"]),
            LeftoverSpool.Place(directory: InterfaceServices.filterSpoolDirectory(values, "rspamd"), prefixes: ["msg-"]),
            LeftoverSpool.Place(directory: InterfaceServices.filterSpoolDirectory(values, "clamd"), prefixes: ["msg-"]),
            // The Gate's relayed messages, where the Gate's own settings put them.
            LeftoverSpool.Place(directory: GateSettings(values).spoolDirectory, prefixes: ["smtp-"]),
        ]
    }

    /// Held open for the life of the process, with a shared lock: "a moatd uses this VarDir".
    nonisolated(unsafe) private static var lockDescriptor: Int32 = -1

    static func run(_ values: ConfigValues, logger: Logger) {
        let varDir = values.value("Root", "VarDir").text ?? "/var/lib/moat"
        // Another moatd running on the same VarDir (a second instance, test daemons side by
        // side) owns files in the spool that are not leftovers: then nothing is removed.
        guard claimAlone(varDir) else {
            logger.info("another moatd uses \(varDir): leftover spool files are not looked for")
            return
        }
        defer { shareClaim() }
        let removed = LeftoverSpool.remove(places(values))
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
