#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// `moat-bench clamd-load --host 127.0.0.1 --port P --clients N --file-list F [--requests R]`:
/// requests/s of a clamd-protocol server (clamd, or Moat's clamd interface) under N clients,
/// each request one connection and one zINSTREAM of a file, as clamdscan --stream sends it,
/// without a process per request: the server's cost, not the client's start-up, is measured.
/// Files are read before the clock starts. Every reply must be `stream: OK` or `... FOUND`;
/// exit status 1 when one is not.
enum ClamdLoad {
    static func run(_ arguments: [String]) {
        var options: [String: String] = [:]
        var index = 0
        while index + 1 < arguments.count {
            options[arguments[index]] = arguments[index + 1]
            index += 2
        }
        guard let port = options["--port"].flatMap({ UInt16($0) }), let list = options["--file-list"],
              let names = try? String(contentsOfFile: list, encoding: .utf8) else {
            FileHandle.standardError.write(Data("usage: moat-bench clamd-load --port P --file-list F [--host 127.0.0.1] [--clients 8] [--requests N]\n".utf8))
            exit(64)
        }
        let host = options["--host"] ?? "127.0.0.1"
        let clients = max(1, Int(options["--clients"] ?? "") ?? 8)
        let files = names.split(whereSeparator: \.isNewline).compactMap { FileManager.default.contents(atPath: String($0)) }
            .map { [UInt8]($0) }.filter { !$0.isEmpty }
        guard !files.isEmpty else {
            FileHandle.standardError.write(Data("clamd-load: no readable file in \(list)\n".utf8))
            exit(66)
        }
        let total = Int(options["--requests"] ?? "") ?? files.count
        let next = Atomic<Int>(0)
        let failures = Mutex<(count: Int, first: String?)>((0, nil))
        let start = ContinuousClock.now
        let done = DispatchGroup()
        for _ in 0..<clients {
            done.enter()
            Thread {
                defer { done.leave() }
                while true {
                    let i = next.add(1, ordering: .relaxed).oldValue
                    guard i < total else { return }
                    let reply = request(host: host, port: port, data: files[i % files.count])
                    if !(reply.hasSuffix(" OK") || reply.hasSuffix(" FOUND")) {
                        failures.withLock { $0.count += 1; if $0.first == nil { $0.first = reply } }
                    }
                }
            }.start()
        }
        done.wait()
        let elapsed = start.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (failed, first) = failures.withLock { ($0.count, $0.first) }
        print(String(format: "%d requests, %d clients: %.1f req/s (%.2f s), %d failed%@", total, clients,
                     Double(total) / seconds, seconds, failed, first.map { "; first: \($0)" } ?? ""))
        print(String(format: "requests=%d rate=%.1f failed=%d", total, Double(total) / seconds, failed))
        exit(failed > 0 ? 1 : 0)
    }

    /// One connection, one zINSTREAM; the reply without its NUL, or why there is none.
    static func request(host: String, port: UInt16, data: [UInt8]) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "socket: \(errno)" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return "not an IPv4 address: \(host)" }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "connect: \(errno)" }
        var out: [UInt8] = Array("zINSTREAM".utf8) + [0]
        out.reserveCapacity(out.count + data.count + data.count / 65536 * 4 + 8)
        var offset = 0
        while offset < data.count {
            let count = min(65536, data.count - offset)
            out += withUnsafeBytes(of: UInt32(count).bigEndian, Array.init)
            out += data[offset..<offset + count]
            offset += count
        }
        out += [0, 0, 0, 0]
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return "send: \(errno)" }
            sent += n
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while reply.count < 4096 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            reply += buffer[..<n]
            if reply.contains(0) { break }
        }
        return String(decoding: reply.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
