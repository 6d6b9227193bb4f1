import Foundation

/// The client side of the control socket, for `moat-ctl` and tests. Plain blocking POSIX:
/// a command-line tool sends one request and waits for one answer.
public enum ControlClient {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// No daemon listens there (no socket file, or nobody accepts).
        case notRunning(path: String)
        case permissionDenied(path: String)
        case io(String)
        case badAnswer

        public var description: String {
            switch self {
            case .notRunning(let p): return "moatd is not running (no answer on \(p))"
            case .permissionDenied(let p): return "permission denied on \(p): the control socket is for root only"
            case .io(let s): return "control socket error: \(s)"
            case .badAnswer: return "moatd sent an answer moat-ctl does not understand"
            }
        }
    }

    public static func send(_ request: ControlRequest, to path: String, timeoutSeconds: Int = 60) throws(Failure) -> ControlResponse {
        let fd = try connect(path)
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard var payload = try? JSONEncoder().encode(request) else { throw .badAnswer }
        payload.append(UInt8(ascii: "\n"))
        let sent = payload.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        guard sent else { throw .io(String(cString: strerror(errno))) }

        var answer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !answer.contains(UInt8(ascii: "\n")) {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(errno == EAGAIN ? "moatd did not answer within \(timeoutSeconds)s" : String(cString: strerror(errno)))
            }
            if n == 0 { break }
            answer += chunk[0..<n]
        }
        guard let end = answer.firstIndex(of: UInt8(ascii: "\n")),
              let response = try? JSONDecoder().decode(ControlResponse.self, from: Data(answer[..<end]))
        else { throw .badAnswer }
        if response.denied == true { throw .permissionDenied(path: path) }
        return response
    }

    /// True when something accepts connections on `path`.
    public static func isAnswering(_ path: String) -> Bool {
        guard let fd = try? connect(path) else { return false }
        close(fd)
        return true
    }

    private static func connect(_ path: String) throws(Failure) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .io("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .io(String(cString: strerror(errno))) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(fd)
            switch code {
            case ENOENT, ECONNREFUSED: throw .notRunning(path: path)
            case EACCES, EPERM: throw .permissionDenied(path: path)
            default: throw .io(String(cString: strerror(code)))
            }
        }
        return fd
    }
}
