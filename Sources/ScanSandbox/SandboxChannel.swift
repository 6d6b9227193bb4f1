import CSandbox
import Foundation

/// One end of a SOCK_SEQPACKET socketpair: each message is one JSON datagram, optionally with a
/// descriptor attached. Datagrams keep their boundaries, so no framing can be split or merged.
struct SandboxChannel: Sendable {
    enum Failure: Error, CustomStringConvertible {
        /// The peer closed its end (or died).
        case closed
        case system(String, Int32)
        case tooLarge
        case undecodable(String)
        case timedOut

        var description: String {
            switch self {
            case .closed: "the other side closed the channel"
            case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
            case .tooLarge: "message larger than \(SandboxChannel.maximumMessage) bytes"
            case .undecodable(let detail): "undecodable message: \(detail)"
            case .timedOut: "no answer in time"
            }
        }
    }

    /// Requests and replies are small (names, limits, verdicts); content travels as descriptors.
    static let maximumMessage = 64 * 1024

    let descriptor: Int32

    /// A connected pair, both ends close-on-exec.
    static func pair() throws(Failure) -> (SandboxChannel, SandboxChannel) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw .system("socketpair", errno)
        }
        return (SandboxChannel(descriptor: ends[0]), SandboxChannel(descriptor: ends[1]))
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    /// Sends a JSON message (the supervisor's requests and replies).
    func send<Message: Encodable>(_ message: Message, attaching fd: Int32 = -1) throws(Failure) {
        let data: Data
        do {
            data = try JSONEncoder().encode(message)
        } catch {
            throw .undecodable("\(error)")
        }
        try send(bytes: Array(data), attaching: fd)
    }

    /// Waits for one JSON message. `timeout`: nil waits for ever.
    func receive<Message: Decodable>(_ type: Message.Type, timeout: Duration? = nil) throws(Failure) -> (Message, Int32) {
        try receive(timeout: timeout) { bytes throws in try JSONDecoder().decode(Message.self, from: Data(bytes)) }
    }

    /// Sends one datagram as it is.
    func send(bytes: [UInt8], attaching fd: Int32 = -1) throws(Failure) {
        guard bytes.count <= Self.maximumMessage else { throw .tooLarge }
        let sent = bytes.withUnsafeBytes { moat_send_message(descriptor, $0.baseAddress, $0.count, fd) }
        if sent == -Int(EPIPE) || sent == -Int(ECONNRESET) { throw .closed }
        guard sent >= 0 else { throw .system("sendmsg", Int32(-sent)) }
    }

    /// Waits for one datagram and decodes it with `decode`; the attached descriptor is closed
    /// when it cannot be decoded.
    func receive<Message>(timeout: Duration? = nil,
                          _ decode: ([UInt8]) throws -> Message) throws(Failure) -> (Message, Int32) {
        if let timeout { try wait(timeout) }
        var fd: Int32 = -1
        var length = 0
        // Not zeroed first: recvmsg writes what is read, and only that much is kept.
        let buffer = [UInt8](unsafeUninitializedCapacity: Self.maximumMessage) { storage, initialized in
            length = moat_receive_message(descriptor, storage.baseAddress, storage.count, &fd)
            initialized = max(0, length)
        }
        if length == 0 { throw .closed }
        if length == -Int(EMSGSIZE) { throw .tooLarge }
        if length == -Int(ECONNRESET) { throw .closed }
        guard length > 0 else { throw .system("recvmsg", Int32(-length)) }
        do {
            return (try decode(buffer), fd)
        } catch {
            if fd >= 0 { _ = Glibc.close(fd) }
            throw .undecodable("\(error)")
        }
    }

    /// Blocks until a message (or the end) is readable, or the time is up.
    private func wait(_ timeout: Duration) throws(Failure) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw .timedOut }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .system("poll", errno) }
        }
    }
}
