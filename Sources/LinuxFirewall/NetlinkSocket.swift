import CNetfilter
#if canImport(Glibc)
import Glibc
#endif

/// A libmnl netlink socket. The network namespace is the one of the thread that opens it,
/// whatever thread uses it later (the tests open theirs on a thread inside a test namespace).
final class NetlinkSocket {
    let subsystem: String
    private let socket: OpaquePointer
    let portID: UInt32
    private var sequence: UInt32

    init(bus: Int32, subsystem: String) throws(FirewallError) {
        self.subsystem = subsystem
        guard let socket = mnl_socket_open(bus) else {
            throw FirewallError(socket: subsystem, errno: errno, doing: "opening the netlink socket")
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let error = errno
            mnl_socket_close(socket)
            throw FirewallError(socket: subsystem, errno: error, doing: "binding the netlink socket")
        }
        self.socket = socket
        portID = mnl_socket_get_portid(socket)
        sequence = UInt32(truncatingIfNeeded: time(nil))
        // A netlink error then carries only the header of the failing message, not a copy of it.
        var on: Int32 = 1
        _ = mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { mnl_socket_close(socket) }

    func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// Sends a request (one message or an nfnetlink batch) and collects the kernel's answers.
    /// Netlink requests are processed inside sendmsg, so every acknowledgement is already
    /// queued when it returns: read until the queue is empty.
    func transact(_ bytes: UnsafeRawBufferPointer, expecting sequences: Set<UInt32>,
                  onMessage: ((UnsafePointer<nlmsghdr>) -> Void)? = nil) throws(FirewallError) -> [UInt32: Int32] {
        guard mnl_socket_sendto(socket, bytes.baseAddress, bytes.count) >= 0 else {
            throw FirewallError(socket: subsystem, errno: errno, doing: "sending to the kernel")
        }
        var results: [UInt32: Int32] = [:]
        let size = Int(cnetfilter_mnl_socket_buffer_size())
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        let fd = mnl_socket_get_fd(socket)
        var done = false
        while !done {
            // Dumps (onMessage) end with NLMSG_DONE; acknowledgements are all there already.
            let flags = onMessage == nil ? Int32(MSG_DONTWAIT) : 0
            let count = recv(fd, buffer, size, flags)
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                if errno == EINTR { continue }
                throw FirewallError(socket: subsystem, errno: errno, doing: "reading the kernel's answer")
            }
            if count == 0 { break }
            var remaining = Int32(count)
            var header = UnsafeMutablePointer<nlmsghdr>(OpaquePointer(buffer))
            while mnl_nlmsg_ok(header, remaining) {
                let message = header.pointee
                if message.nlmsg_pid == portID || message.nlmsg_pid == 0 {
                    switch Int32(message.nlmsg_type) {
                    case NLMSG_ERROR:
                        results[message.nlmsg_seq] = -cnetfilter_nlmsg_error_code(header)
                        if onMessage != nil { done = true }
                    case NLMSG_DONE:
                        done = true
                    default:
                        onMessage?(UnsafePointer(header))
                    }
                }
                header = mnl_nlmsg_next(header, &remaining)
            }
            if onMessage == nil, sequences.isSubset(of: results.keys) { break }
        }
        return results
    }
}
