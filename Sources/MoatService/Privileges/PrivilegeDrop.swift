import CPrivileges
import Foundation
import Logging

/// moatd's switch from root to `[Root] User`, once everything that needs root is open: every
/// thread takes the user's ids and keeps only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE (bounding
/// set too; ambient empty, so nothing moatd starts inherits them; no_new_privs set). The result is read back from /proc for every thread; anything more than intended
/// (uid 0 anywhere, one capability too many) stops moatd rather than let it run so.
public enum PrivilegeDrop {
    public enum Outcome: Sendable, Equatable {
        /// Switched to the user; `threads` switched, `kept` the capabilities kept.
        case switched(RunUser, threads: Int, kept: UInt64)
        /// `User` is root or empty: nothing changed.
        case keptRoot
        /// moatd was not started as root (a developer, `User=` in the systemd unit): its ids
        /// stay; capabilities beyond the two (ambient ones too) are dropped all the same.
        case notRoot(uid: uid_t, kept: UInt64)
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// Switches (or keeps root when `user` is nil) and verifies; throws when the process is not
    /// what it should be afterwards, and moatd must then stop.
    public static func apply(to user: RunUser?) throws(Refused) -> Outcome {
        let startedAsRoot = geteuid() == 0
        guard startedAsRoot else {
            let uid = getuid(), gid = getgid()
            try switchThreads(changeIds: false, uid: uid, gid: gid, groups: [])
            try verify(uid: UInt32(uid), gid: UInt32(gid), groups: nil, switched: false)
            return .notRoot(uid: uid, kept: currentEffective())
        }
        guard let user else { return .keptRoot }
        try switchThreads(changeIds: true, uid: user.uid, gid: user.gid, groups: user.groups)
        try verify(uid: UInt32(user.uid), gid: UInt32(user.gid), groups: user.groups.map { UInt32($0) }, switched: true)
        return .switched(user, threads: ThreadCredentials.threads().count, kept: currentEffective())
    }

    /// One log line for what happened (warnings when moatd keeps root or lacks a capability
    /// it would need).
    public static func report(_ outcome: Outcome, logger: Logger) {
        switch outcome {
        case .switched(let user, let threads, let kept):
            logger.notice("running as \(user.name) with \(Capabilities.text(kept))", metadata: [
                "uid": "\(user.uid)", "gid": "\(user.gid)", "threads": "\(threads)",
            ])
            warnMissing(kept, logger: logger)
        case .keptRoot:
            logger.warning("[Root] User is root: moatd keeps every privilege of root, so a flaw in any of its parsers is a flaw of root; set User = moat")
        case .notRoot(let uid, let kept):
            logger.notice("moatd was not started as root (uid \(uid)): it keeps its user; capabilities: \(Capabilities.text(kept))")
        }
    }

    private static func warnMissing(_ kept: UInt64, logger: Logger) {
        let missing = Capabilities.kept & ~kept
        guard missing != 0 else { return }
        logger.warning("moatd runs without \(Capabilities.text(missing)) (not in its bounding set): the firewall, the Gate's transparent sockets or ports below 1024 will fail")
    }

    private static func switchThreads(changeIds: Bool, uid: uid_t, gid: gid_t, groups: [gid_t]) throws(Refused) {
        let result = groups.withUnsafeBufferPointer { buffer in
            moat_switch_user(changeIds ? 1 : 0, uid, gid, buffer.baseAddress, buffer.count, Capabilities.kept, 2000)
        }
        guard result.error == 0 else {
            let step = result.step.map { String(cString: $0) } ?? "?"
            throw Refused(description: "cannot switch to uid \(uid): \(step): \(String(cString: strerror(result.error)))")
        }
    }

    private static func verify(uid: UInt32, gid: UInt32, groups: [UInt32]?, switched: Bool) throws(Refused) {
        let threads = ThreadCredentials.threads()
        guard !threads.isEmpty else { throw Refused(description: "cannot read /proc/self/task/*/status to verify the switch") }
        let problems = threads.flatMap {
            $0.problems(uid: uid, gid: gid, groups: groups, allowed: Capabilities.kept, switched: switched)
        }
        guard problems.isEmpty else {
            throw Refused(description: "after the switch the process still holds more than intended: \(problems.joined(separator: "; "))")
        }
    }

    private static func currentEffective() -> UInt64 {
        var effective: UInt64 = 0, permitted: UInt64 = 0, inheritable: UInt64 = 0
        _ = moat_thread_capabilities(&effective, &permitted, &inheritable)
        return effective
    }
}
