import Foundation

/// What the run user may do with a path, judged from the mode bits as the kernel would for
/// that user (owner, then its groups, then others; ACLs are not looked at).
struct FileAccess {
    let user: RunUser

    enum Right { case read, write, search }

    func allows(_ info: stat, _ right: Right) -> Bool {
        let shift: mode_t
        if info.st_uid == user.uid {
            shift = 6
        } else if user.groups.contains(info.st_gid) || info.st_gid == user.gid {
            shift = 3
        } else {
            shift = 0
        }
        let bit: mode_t = switch right {
        case .read: 4
        case .write: 2
        case .search: 1
        }
        return (info.st_mode >> shift) & bit != 0
    }

    /// The first directory above `path` the user cannot search, or nil when it reaches it.
    func closedAncestor(of path: String) -> String? {
        var ancestors: [String] = []
        var current = (path as NSString).deletingLastPathComponent
        while !current.isEmpty {
            ancestors.insert(current, at: 0)
            if current == "/" { break }
            current = (current as NSString).deletingLastPathComponent
        }
        for directory in ancestors {
            var info = stat()
            guard stat(directory, &info) == 0 else { return directory }
            if !allows(info, .search) { return directory }
        }
        return nil
    }

    func canRead(file path: String) -> Bool {
        var info = stat()
        return closedAncestor(of: path) == nil && stat(path, &info) == 0 && allows(info, .read)
    }

    func canWrite(directory path: String) -> Bool {
        var info = stat()
        return closedAncestor(of: path) == nil && stat(path, &info) == 0 && allows(info, .write) && allows(info, .search)
    }
}

/// Ownership of what root makes for the run user.
enum Ownership {
    /// A directory root may hand over to the user: root's, named for Moat (a component of its
    /// path begins with `moat`, as /var/lib/moat and /run/moat do) and outside the system's own
    /// trees and the configuration's directory, so that no system directory (/run, /root) and
    /// nothing moatd's configuration could be replaced through is ever given away.
    static func isHandedOver(_ path: String, _ info: stat, configDirectory: String) -> Bool {
        let components = path.split(separator: "/")
        let system = ["etc", "usr", "bin", "sbin", "lib", "lib32", "lib64", "boot", "root", "home", "proc", "sys", "dev"]
        guard info.st_uid == 0, let first = components.first, !system.contains(String(first)),
              components.contains(where: { $0.lowercased().hasPrefix("moat") })
        else { return false }
        let config = configDirectory.hasSuffix("/") ? configDirectory : configDirectory + "/"
        return !(config.hasPrefix(path + "/") || config == path + "/")
    }

    static func give(_ path: String, to user: RunUser) -> Bool {
        lchown(path, user.uid, user.gid) == 0
    }

    /// Owner, group and mode of `path`, e.g. `root:root 700`.
    static func describe(_ path: String) -> String {
        var info = stat()
        return stat(path, &info) == 0 ? describe(info) : "missing"
    }

    static func describe(_ info: stat) -> String {
        let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "\(info.st_uid)"
        let group = getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) } ?? "\(info.st_gid)"
        return "\(owner):\(group) \(String(info.st_mode & 0o7777, radix: 8))"
    }
}
