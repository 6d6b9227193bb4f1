import Foundation
import MoatConfig

/// `[Root] User`: the account moatd runs as once it has opened what needs root. Empty or
/// `root` keeps root (the behaviour of earlier versions, not advised).
public struct RunUser: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t
    /// Its primary group and every group /etc/group lists it in (as initgroups(3) sets them),
    /// so an administrator can let moatd reach, say, a Postfix socket directory by a group.
    public let groups: [gid_t]

    public var description: String { "\(name) (uid \(uid), gid \(gid))" }

    public struct Unknown: Error, CustomStringConvertible {
        public let name: String
        public var description: String {
            "[Root] User = \(name): no such user; create it (scripts/create-users.sh, the moat package does) or set User = root to keep root (not advised)"
        }
    }

    /// The configured user, or nil when moatd is to keep root.
    public static func configured(_ values: ConfigValues) throws(Unknown) -> RunUser? {
        let name = values.root.user.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name != "root" else { return nil }
        guard let user = lookUp(name) else { throw Unknown(name: name) }
        return user
    }

    /// The account database's entry for `name` (a number is taken as a uid), or nil.
    public static func lookUp(_ name: String) -> RunUser? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        var status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        if result == nil, let number = uid_t(name) {
            status = getpwuid_r(number, &entry, &buffer, buffer.count, &result)
        }
        guard status == 0, result != nil else { return nil }
        let userName = String(cString: entry.pw_name)
        return RunUser(name: userName, uid: entry.pw_uid, gid: entry.pw_gid,
                       groups: groupList(userName, primary: entry.pw_gid))
    }

    static func groupList(_ name: String, primary: gid_t) -> [gid_t] {
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, primary, &groups, &count) >= 0 else { return [primary] }
        }
        return Array(groups.prefix(Int(count)))
    }

    /// The owner files moatd writes as root should have: the run user, or nil to leave
    /// them root's (User root or empty, or an unknown user: start refuses that anyway).
    public static func owner(_ values: ConfigValues) -> RunUser? {
        (try? configured(values)) ?? nil
    }
}
