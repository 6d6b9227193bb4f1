#if canImport(Glibc)
import Glibc
#endif

/// A failure to install or remove the divert: a code for scripts, a reason for people.
public struct FirewallError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// No CAP_NET_ADMIN, or the table belongs to another process's netlink socket.
        case notPermitted
        /// The kernel lacks a feature (nft_tproxy, nft_socket, owner flag, IPv6).
        case unsupported
        /// The netlink socket could not be opened or used.
        case socket
        /// The kernel refused a message for another reason.
        case rejected
    }

    public let code: Code
    /// Which part failed: "nftables", "ip rule", "ip route".
    public let subsystem: String
    public let errno: Int32
    public let reason: String

    public var description: String { "\(subsystem): \(reason)" }

    init(subsystem: String, errno: Int32, doing what: String) {
        self.subsystem = subsystem
        self.errno = errno
        let text = String(cString: strerror(errno))
        switch errno {
        case EPERM:
            code = .notPermitted
            reason = "\(text) (need CAP_NET_ADMIN) while \(what)"
        case EOPNOTSUPP, EAFNOSUPPORT, EPROTONOSUPPORT:
            code = .unsupported
            reason = "\(text) while \(what) (kernel without nf_tables tproxy/socket support or IPv6?)"
        case ENOENT where subsystem == "nftables":
            code = .unsupported
            reason = "\(text) while \(what) (kernel modules nft_tproxy, nft_socket loadable?)"
        case ENFILE where subsystem == "nftables":
            code = .rejected
            reason = "the set is full (\(text)) while \(what)"
        case ENETDOWN:
            code = .rejected
            reason = "\(text) while \(what) (is the loopback interface lo up?)"
        default:
            code = .rejected
            reason = "\(text) while \(what)"
        }
    }

    /// EPERM from nftables while the table exists and belongs to another netlink socket.
    static func ownedByAnother(port: UInt32?, doing what: String) -> FirewallError {
        FirewallError(code: .notPermitted, subsystem: "nftables", errno: EPERM,
                      reason: "table inet moat is owned by another process (netlink port \(port.map(String.init) ?? "?")): "
                          + "is another moatd running in this network namespace? (while \(what))")
    }

    private init(code: Code, subsystem: String, errno: Int32, reason: String) {
        self.code = code
        self.subsystem = subsystem
        self.errno = errno
        self.reason = reason
    }

    init(socket subsystem: String, errno: Int32, doing what: String) {
        self.subsystem = subsystem
        self.errno = errno
        code = errno == EPERM || errno == EACCES ? .notPermitted : .socket
        reason = "\(String(cString: strerror(errno))) while \(what)"
    }
}
