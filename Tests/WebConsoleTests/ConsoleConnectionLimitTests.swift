import Foundation
import Testing
@testable import WebConsole

/// `[HTTPD] MaxConnections`: one connection more is answered 503 over TLS and closed; the
/// connections already open are served as before.
@Suite(.serialized) struct ConsoleConnectionLimitTests {
    /// A TLS connection held by `openssl s_client`, used later for one request.
    final class HeldTLS: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        let output = Pipe()

        init(port: Int, caFile: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_client", "-quiet", "-connect", "127.0.0.1:\(port)", "-CAfile", caFile]
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// Sends a request asking to close, returns everything the server wrote.
        func request(_ path: String) async -> String {
            input.fileHandleForWriting.write(Data("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
            return await withCheckedContinuation { continuation in
                DispatchQueue.global().async { [self] in
                    let killer = DispatchWorkItem { if self.process.isRunning { self.process.terminate() } }
                    DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: killer)
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    killer.cancel()
                    continuation.resume(returning: String(decoding: data, as: UTF8.self))
                }
            }
        }

        deinit {
            if process.isRunning { process.terminate() }
        }
    }

    @Test func overTheCapIs503AndOpenOnesStillWork() async throws {
        try await ConsoleFixture.with(httpd: "MaxConnections = 2") { console in
            // One idle TCP connection (no TLS yet) and one TLS connection: the cap is reached.
            let idle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(idle) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(console.port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(idle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            let held = try HeldTLS(port: console.port, caFile: console.caPath)
            try await Task.sleep(for: .seconds(1))

            let refused = try await console.request("/login")
            #expect(refused.status == 503, "\(refused.status) \(refused.body) \(refused.curlError)")
            #expect(refused.body.contains("too many connections"))
            #expect(refused.header("connection") == "close")

            let served = await held.request("/login")
            #expect(served.hasPrefix("HTTP/1.1 200 OK"), "\(served.prefix(300))")
        }
    }
}
