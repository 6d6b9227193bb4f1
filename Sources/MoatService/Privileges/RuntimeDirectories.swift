import Foundation
import Logging
import MoatConfig

/// What moatd prepares as root so that it can go on as `[Root] User`: the directories it
/// writes after the switch exist and are the user's, the files it reads later are readable
/// by it. Directories root made for moatd (in earlier versions, by hand, by a test: root's and
/// named for Moat) are handed over; anything else that is not usable is said, not changed.
public enum RuntimeDirectories {
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Before the engine starts. Throws for what moatd cannot run without (the control
    /// socket's directory, VarDir, a listening socket's directory, the configuration file it
    /// rereads on reload); logs a warning for the rest (TempDir, PidFile).
    public static func prepare(_ values: ConfigValues, configPath: String, for user: RunUser,
                               logger: Logger) throws(Unusable) {
        let root = values.root
        func ensure(_ path: String, mode: mode_t, role: String) -> String? {
            Self.ensure(path, mode: mode, for: user, role: role, configPath: configPath, logger: logger)
        }
        var problems: [String?] = []
        // The control socket's first: by default it is /run/moat, the parent of TempDir.
        problems.append(ensure((root.controlSocket as NSString).deletingLastPathComponent, mode: 0o700, role: "ControlSocket"))
        problems.append(ensure(root.varDir, mode: 0o700, role: "VarDir"))
        for path in unixSockets(values) {
            // 0755: the MTA (Postfix's smtpd, ...) must reach the socket.
            problems.append(ensure((path as NSString).deletingLastPathComponent, mode: 0o755, role: "the socket \(path)"))
        }
        let access = FileAccess(user: user)
        if !access.canRead(file: configPath) {
            problems.append("\(user.name) cannot read the configuration file \(configPath), which moatd rereads on reload: make it readable by \(user.name) (e.g. chgrp \(user.gid) and chmod 0640), keeping it writable by root only")
        }
        let fatal = problems.compactMap { $0 }
        guard fatal.isEmpty else {
            throw Unusable(description: "moatd would run as \(user.name) ([Root] User) and could not work: "
                + fatal.joined(separator: "; "))
        }
        if !root.tempDir.isEmpty, let problem = ensure(root.tempDir, mode: 0o700, role: "TempDir") {
            logger.warning("\(problem); libclamav works in $TMPDIR or /tmp instead")
        }
        if !root.pidFile.isEmpty {
            let directory = (root.pidFile as NSString).deletingLastPathComponent
            if !access.canWrite(directory: directory) {
                logger.warning("PidFile \(root.pidFile): \(user.name) cannot write \(directory), so the file stays after moatd stops; put it in a directory of \(user.name)'s such as /run/moat")
            }
        }
    }

    /// Every UNIX socket moatd listens on besides the control socket.
    static func unixSockets(_ values: ConfigValues) -> [String] {
        let addresses = values.filterInterfaceGroups.compactMap(\.socket) + [values.clamD.clamdSocket].compactMap { $0 }
            + values.httpd.adminListen
        return addresses.compactMap { address in
            if case .unix(let path) = address { return path }
            return nil
        }
    }

    /// Makes `path` a directory the user can write: created (each missing component the
    /// user's, `mode`), handed over when it is Moat's (`Ownership.isHandedOver`), or already
    /// writable by the user. Returns what is wrong, or nil; nothing is changed when the user
    /// could not reach the directory anyway (an upper directory closed to it).
    static func ensure(_ path: String, mode: mode_t, for user: RunUser, role: String, configPath: String,
                       logger: Logger) -> String? {
        var missing: [String] = []
        var existing = path
        while !existing.isEmpty, existing != "/", access(existing, F_OK) != 0 {
            missing.insert(existing, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        let fileAccess = FileAccess(user: user)
        var info = stat()
        guard stat(existing, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            return "\(role): \(existing) is not a directory"
        }
        if let closed = fileAccess.closedAncestor(of: existing) ?? (missing.isEmpty || fileAccess.allows(info, .search) ? nil : existing) {
            return "\(role): \(user.name) cannot reach \(path): \(closed) is closed to it (\(Ownership.describe(closed)))"
        }
        for directory in missing {
            guard mkdir(directory, mode) == 0 || errno == EEXIST else {
                return "\(role): cannot create \(directory): \(String(cString: strerror(errno)))"
            }
            _ = Ownership.give(directory, to: user)
            chmod(directory, mode)
        }
        guard missing.isEmpty else { return nil }
        if info.st_uid != user.uid, !fileAccess.allows(info, .write) || !fileAccess.allows(info, .search) {
            let configDirectory = (configPath as NSString).deletingLastPathComponent
            guard Ownership.isHandedOver(path, info, configDirectory: configDirectory), Ownership.give(path, to: user) else {
                return "\(role): \(user.name) cannot write \(path) (\(Ownership.describe(info))); chown it to \(user.name) or choose a directory of its own"
            }
            logger.info("\(path) handed over to \(user.name) (\(role))")
        }
        return nil
    }

    /// Just before the switch, after the engine, the CA, the console and the spool cleanup
    /// ran as root: what root made under VarDir (the CA, the console's files, the anti-spam
    /// model, the lock) becomes the user's. Symbolic links are not followed; files of other
    /// users (the scan workers') are left alone.
    public static func handOver(varDir: String, to user: RunUser, logger: Logger) {
        var given = 0, failed: [String] = []
        walk(varDir, depth: 0) { path, info in
            guard info.st_uid == 0 else { return }
            if Ownership.give(path, to: user) { given += 1 } else { failed.append(path) }
        }
        if given > 0 { logger.info("\(given) files and directories under \(varDir) handed over to \(user.name)") }
        if !failed.isEmpty { logger.warning("could not hand over to \(user.name): \(failed.prefix(5).joined(separator: ", "))") }
    }

    private static func walk(_ path: String, depth: Int, _ visit: (String, stat) -> Void) {
        var info = stat()
        guard depth < 32, lstat(path, &info) == 0 else { return }
        visit(path, info)
        guard info.st_mode & S_IFMT == S_IFDIR, let directory = opendir(path) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != ".." else { continue }
            walk(path + "/" + name, depth: depth + 1, visit)
        }
    }
}
