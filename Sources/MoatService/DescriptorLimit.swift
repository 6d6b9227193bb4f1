import Foundation
import Logging
import MoatConfig

/// Outside systemd (scripts/run.sh with nohup, a shell) the soft descriptor limit is often
/// 1024, below what the connection caps need; moatd raises its soft limit towards the hard
/// one (as LimitNOFILE does under systemd; up to 65536 or what the caps need) and warns when
/// even that is short.
public enum DescriptorLimit {
    /// Descriptors the configured caps can take: socket + spool file per filter connection,
    /// the console's, the Gate's (client, server, spool), and a margin for the rest.
    static func needed(_ values: ConfigValues) -> Int {
        var filters = 0
        for family in values.filterInterfaceGroups where family.socket != nil {
            filters += family.maxConnections
        }
        if values.clamD.clamdSocket != nil { filters += values.clamD.maxConnections }
        let consoles = values.httpd.adminListen.count * (values.httpd.maxConnections + 32)
        let gate = values.linuxFirewall.inputDivert != .off ? 3 * 4096 : 0
        return 2 * filters + consoles + gate + 512
    }

    public static func raise(_ values: ConfigValues, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let before = limit.rlim_cur
        let needed = needed(values)
        // Up to the hard limit, but not past what is useful (a huge table slows down code
        // that walks every descriptor).
        let wanted = min(limit.rlim_max, rlim_t(max(needed, 65536)))
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) != 0 { limit.rlim_cur = before }
        }
        if limit.rlim_cur != before {
            logger.info("descriptor limit raised from \(before) to \(limit.rlim_cur)")
        }
        if limit.rlim_cur < rlim_t(needed) {
            logger.warning("descriptor limit \(limit.rlim_cur) is below the \(needed) the connection caps can take; raise LimitNOFILE (ulimit -n) or lower the *MaxConnections settings")
        }
    }
}
