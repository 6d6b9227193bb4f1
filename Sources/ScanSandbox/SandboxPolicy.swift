import CSandbox
import Foundation

/// Confines the scan supervisor (and so every worker it forks) before any signature or message
/// is parsed. Started by root: its own network, mount and IPC namespaces, a read-only view of
/// the file system apart from its scratch directory (seen as /tmp), moatd's state and
/// configuration masked, the unprivileged sandbox user, then no_new_privs and a seccomp filter
/// without network calls. Started by another user (a developer, a unit without root): the same
/// namespaces inside a user namespace where the kernel allows one, and the seccomp filter.
enum SandboxPolicy {
    struct Applied {
        /// Human-readable measures in force, for moatd's log and appinfo.
        var measures: [String] = []
        /// Measures that could not be taken: the sandbox is weaker than it should be.
        var warnings: [String] = []
        /// libclamav's scratch directory as the sandboxed process sees it.
        var scratchDirectory: String
        /// Where the signatures are read from inside the sandbox: the directory opened before
        /// the mounts changed (`/proc/self/fd/N`), so neither the scratch mount on /tmp nor a
        /// masked directory can hide it, and freshclam's later updates are seen.
        var signatureDirectory: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func apply(_ configuration: SandboxConfiguration) throws -> Applied {
        var applied = Applied(scratchDirectory: configuration.scratchDirectory,
                              signatureDirectory: configuration.signatureDirectory)
        let signatures = open(configuration.signatureDirectory, O_RDONLY | O_DIRECTORY)
        if signatures >= 0 { applied.signatureDirectory = "/proc/self/fd/\(signatures)" }
        let root = geteuid() == 0
        let account = root ? try sandboxUser(configuration.user) : nil
        try prepareScratch(configuration.scratchDirectory, owner: account)

        let namespaces = root ? moat_unshare_system() : moat_unshare_as_user()
        if namespaces == 0 {
            applied.measures.append("own network, mount and IPC namespaces (no network interface)")
            let masked = configuration.maskedPaths.filter { !$0.isEmpty && $0 != "/" }
            let restricted = withCStrings(masked) { pointers in
                moat_restrict_filesystem(configuration.scratchDirectory, pointers, Int32(masked.count))
            }
            guard restricted == 0 else { throw failure("cannot restrict the file system view", restricted) }
            applied.scratchDirectory = "/tmp"
            applied.measures.append("read-only file system except its scratch directory \(configuration.scratchDirectory)")
            if !masked.isEmpty { applied.measures.append("hidden: \(masked.joined(separator: ", "))") }
        } else {
            // A container may forbid namespaces; the user and the seccomp filter still hold.
            applied.warnings.append("no network or mount namespace (\(String(cString: strerror(-namespaces)))): "
                + "workers rely on the seccomp filter for the network and on file permissions for the file system")
            if account != nil {
                // The scratch directory's parent may be private to moatd: let the user reach it.
                chmod((configuration.scratchDirectory as NSString).deletingLastPathComponent, 0o711)
            }
        }

        if let account {
            let became = moat_become(account.uid, account.gid)
            guard became == 0 else { throw failure("cannot become \(configuration.user)", became) }
            applied.measures.append("user \(configuration.user) (uid \(account.uid))")
        } else {
            let name = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(geteuid())"
            applied.warnings.append("workers run as \(name), moatd's own user: moatd was not started as root")
        }
        let filtered = moat_apply_seccomp(0)
        guard filtered == 0 else { throw failure("cannot install the seccomp filter", filtered) }
        applied.measures.append("seccomp: no network sockets, mounts or namespace changes; no_new_privs")
        return applied
    }

    private static func sandboxUser(_ name: String) throws -> (uid: uid_t, gid: gid_t) {
        guard let entry = getpwnam(name) else {
            throw Failure(description: "the sandbox user \(name) does not exist (scripts/create-users.sh creates it)")
        }
        guard entry.pointee.pw_uid != 0 else { throw Failure(description: "the sandbox user \(name) is root") }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// The scratch directory belongs to the sandbox user alone (libclamav writes extracted
    /// attachments there); whatever an earlier run left is removed.
    private static func prepareScratch(_ path: String, owner: (uid: uid_t, gid: gid_t)?) throws {
        try? FileManager.default.removeItem(atPath: path)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure(description: "cannot create the scratch directory \(path): \(error)")
        }
        if let owner, chown(path, owner.uid, owner.gid) != 0 {
            throw failure("cannot give \(path) to the sandbox user", -errno)
        }
    }

    private static func failure(_ what: String, _ code: Int32) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(-code)))")
    }

    private static func withCStrings<Result>(_ strings: [String],
                                             _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> Result) -> Result {
        let duplicates = strings.map { UnsafePointer(strdup($0)) }
        defer { duplicates.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        return duplicates.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
