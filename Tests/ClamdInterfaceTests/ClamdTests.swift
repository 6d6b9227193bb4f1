import FilterTestSupport
import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import NIOCore
import NIOTestUtils
import Testing
@testable import ClamdInterface

struct ClamdServer {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    static func start(_ config: String = "", extraConfig: String = "", spoolDirectory: String = Support.temporaryPath("clamd-spool"),
                      coreSpool: String = Support.temporaryPath("spool"),
                      maxConnections: Int = InterfaceListener.defaultMaxConnections,
                      checkHook: (@Sendable () async -> Void)? = nil) async throws -> ClamdServer {
        var service = ClamdService(core: Support.core(spool: coreSpool), settings: try Support.settings(extraConfig + "\n[ClamD]\n" + config),
                                   spoolDirectory: spoolDirectory, logger: Logger(label: "test.clamd"))
        service.checkHook = checkHook
        return ClamdServer(channel: try await ClamdSocket.listener(address: .tcp(host: "127.0.0.1", port: 0), service: service,
                                                                   maxConnections: maxConnections).bind())
    }

    func stop() async { try? await channel.close() }
}

func instream(_ data: [UInt8], chunk: Int = 8188, style: String = "z") -> [UInt8] {
    var out = Array((style == "z" ? "zINSTREAM\0" : "nINSTREAM\n").utf8)
    var index = 0
    while index < data.count {
        let piece = data[index..<min(index + chunk, data.count)]
        out += withUnsafeBytes(of: UInt32(piece.count).bigEndian) { Array($0) } + piece
        index += chunk
    }
    return out + [0, 0, 0, 0]
}

@Suite struct ClamdDecoderTests {
    @Test func commandsAndStreamsOnEverySplit() throws {
        let data = Array("hello world, this is a stream".utf8)
        var input = ByteBuffer(bytes: Array("zIDSESSION\0nPING\n".utf8) + instream(data, chunk: 10) + Array("zEND\0".utf8))
        _ = input
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (ByteBuffer(bytes: Array("zIDSESSION\0nPING\nzSCAN /tmp/a b\0".utf8)),
                 [.command(ClamdCommand(.z, "IDSESSION")), .command(ClamdCommand(.n, "PING")), .command(ClamdCommand(.z, "SCAN", "/tmp/a b"))]),
                (ByteBuffer(bytes: instream(data, chunk: 10)),
                 [.command(ClamdCommand(.z, "INSTREAM")), .streamData(ByteBuffer(bytes: data[0..<8])), .streamData(ByteBuffer(bytes: data[8..<10])),
                  .streamData(ByteBuffer(bytes: data[10..<18])), .streamData(ByteBuffer(bytes: data[18..<20])),
                  .streamData(ByteBuffer(bytes: data[20..<28])), .streamData(ByteBuffer(bytes: data[28..<29])), .streamEnd]),
            ],
            decoderFactory: { ClamdRequestDecoder(maxStreamLength: 1 << 20, pieceSize: 8) })
        input = ByteBuffer()
    }

    @Test func streamQuotaIsEnforcedAtTheChunkHeader() {
        var decoder = ClamdRequestDecoder(maxStreamLength: 100)
        var buffer = ByteBuffer(bytes: Array("zINSTREAM\0".utf8) + [0, 0, 0, 60] + Array(repeating: 1, count: 60) + [0, 0, 0, 60])
        var parts: [ClamdRequestPart] = []
        while let part = decoder.step(&buffer) { parts.append(part) }
        #expect(parts.last == .streamTooLong)
    }

    @Test func bareCommandIsTheFirstRead() {
        var decoder = ClamdRequestDecoder(maxStreamLength: 100)
        var buffer = ByteBuffer(string: "PING")
        #expect(decoder.step(&buffer) == .command(ClamdCommand(.bare, "PING")))
    }

    @Test func fuzzDecoder() {
        for _ in 0..<3000 {
            var bytes = instream(Array("x".utf8), chunk: 1)
            for _ in 0..<Int.random(in: 1...5) { bytes[Int.random(in: 0..<bytes.count)] = UInt8.random(in: 0...255) }
            if Bool.random() { bytes = (0..<Int.random(in: 0...100)).map { _ in UInt8.random(in: 0...255) } }
            var decoder = ClamdRequestDecoder(maxStreamLength: 1000)
            var buffer = ByteBuffer(bytes: bytes)
            var count = 0
            while decoder.step(&buffer) != nil { count += 1; if count > 200 { Issue.record("runaway"); break } }
        }
    }
}

@Suite struct ClamdSessionTests {
    @Test func singleCommandThenClose() {
        var session = ClamdSession(version: "ClamAV x")
        #expect(session.received(.command(ClamdCommand(.z, "PING"))) == [.reply("PONG\0"), .close])
        var unknown = ClamdSession(version: "ClamAV x")
        #expect(unknown.received(.command(ClamdCommand(.n, "STREAM"))) == [.reply("UNKNOWN COMMAND\n"), .close])
        var withArgument = ClamdSession(version: "ClamAV x")
        #expect(withArgument.received(.command(ClamdCommand(.n, "PING", "x"))) == [.reply("UNKNOWN COMMAND\n"), .close])
    }

    @Test func idSessionNumbersRepliesAndQueuesWhileBusy() {
        var session = ClamdSession(version: "V")
        #expect(session.received(.command(ClamdCommand(.z, "IDSESSION"))) == [])
        #expect(session.received(.command(ClamdCommand(.z, "INSTREAM"))) == [])
        #expect(session.received(.streamData(ByteBuffer(string: "a"))) == [.collect(ByteBuffer(string: "a"))])
        #expect(session.received(.streamEnd) == [.scanStream(.init(.z, 1))])
        #expect(session.received(.command(ClamdCommand(.z, "PING"))) == [], "queued while the scan runs")
        #expect(session.received(.command(ClamdCommand(.z, "END"))) == [])
        #expect(session.finished(["stream: OK"], tag: .init(.z, 1)) == [.reply("1: stream: OK\0"), .reply("2: PONG\0"), .close])
    }

    @Test func invalidInsideSessionAndTooLong() {
        var session = ClamdSession(version: "V")
        _ = session.received(.command(ClamdCommand(.z, "IDSESSION")))
        #expect(session.received(.command(ClamdCommand(.z, "RELOAD"))) == [.reply("1: Command invalid inside IDSESSION. ERROR\0"), .close])
        var stream = ClamdSession(version: "V")
        _ = stream.received(.command(ClamdCommand(.n, "INSTREAM")))
        #expect(stream.received(.streamTooLong) == [.reply("INSTREAM size limit exceeded. ERROR\n"), .close])
    }
}

@Suite(.serialized) struct ClamdSocketTests {
    @Test func instreamOverRawTCP() async throws {
        let server = try await ClamdServer.start()
        let eicar = try await Support.exchange(port: server.port, instream(Array(Support.eicarMail.utf8)))
        #expect(String(decoding: eicar, as: UTF8.self) == "stream: Moat.Test.EICAR FOUND\0")
        let raw = try await Support.exchange(port: server.port, instream(Array(Support.eicar.utf8), style: "n"))
        #expect(String(decoding: raw, as: UTF8.self) == "stream: Moat.Test.EICAR FOUND\n", "a bare file, as clamdscan streams it")
        let clean = try await Support.exchange(port: server.port, instream(Array(Support.clean.utf8)))
        #expect(String(decoding: clean, as: UTF8.self) == "stream: OK\0")
        let version = try await Support.exchange(port: server.port, Array("VERSION\n".utf8))
        #expect(String(decoding: version, as: UTF8.self).hasPrefix("ClamAV 1."))
        // clamd's shape, which clamdscan --version and monitoring scripts read: the engine, the
        // database version and its date ("Mon Dec  7 12:00:00 2026": when moatd started).
        let shape = #/ClamAV 1\.[0-9.]+/[0-9]+/[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4} \(Moat clamd interface\)\n/#
        #expect(String(decoding: version, as: UTF8.self).wholeMatch(of: shape) != nil, "\(String(decoding: version, as: UTF8.self))")
        await server.stop()
    }

    @Test func sizeLimitAndScanDirectories() async throws {
        let allowed = Support.temporaryPath("clamd-allowed")
        try FileManager.default.createDirectory(atPath: allowed, withIntermediateDirectories: true)
        try Support.eicar.write(toFile: allowed + "/eicar.com", atomically: true, encoding: .utf8)
        try "hello".write(toFile: allowed + "/clean.txt", atomically: true, encoding: .utf8)
        let server = try await ClamdServer.start("StreamMaxLength = 1kb\nScanDirectories = \(allowed)")
        let big = try await Support.exchange(port: server.port, instream(Array(repeating: 65, count: 5000), chunk: 2000))
        #expect(String(decoding: big, as: UTF8.self) == "INSTREAM size limit exceeded. ERROR\0")
        let found = try await Support.exchange(port: server.port, Array("zSCAN \(allowed)/eicar.com\0".utf8))
        #expect(String(decoding: found, as: UTF8.self) == "\(allowed)/eicar.com: Moat.Test.EICAR FOUND\0")
        let dir = try await Support.exchange(port: server.port, Array("nCONTSCAN \(allowed)\n".utf8))
        #expect(String(decoding: dir, as: UTF8.self) == "\(allowed)/eicar.com: Moat.Test.EICAR FOUND\n")
        let outside = try await Support.exchange(port: server.port, Array("zSCAN /etc/passwd\0".utf8))
        #expect(String(decoding: outside, as: UTF8.self) == "/etc/passwd: Access denied (outside [ClamD] ScanDirectories). ERROR\0")
        let escape = try await Support.exchange(port: server.port, Array("zSCAN \(allowed)/../../etc/passwd\0".utf8))
        #expect(String(decoding: escape, as: UTF8.self).hasSuffix("Access denied (outside [ClamD] ScanDirectories). ERROR\0"))
        await server.stop()
    }

    @Test func silentClientIsDisconnected() async throws {
        let server = try await ClamdServer.start("ReadTimeout = 1s")
        let started = ContinuousClock.now
        let reply = try await Support.exchange(port: server.port, Array("zINST".utf8), halfClose: false)
        #expect(String(decoding: reply, as: UTF8.self) == "COMMAND READ TIMED OUT\n")
        #expect(ContinuousClock.now - started < .seconds(10))
        await server.stop()
    }

    // MARK: clamdscan (Debian clamdscan 1.4)

    func clamdscan(_ server: ClamdServer, _ arguments: [String]) async throws -> Support.Output {
        let tool = try Support.tool("/usr/bin/clamdscan", package: "clamdscan")
        let config = Support.temporaryPath("clamd.conf")
        try "TCPSocket \(server.port)\nTCPAddr 127.0.0.1\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }
        return try await Support.run(tool, ["--config-file=\(config)", "--no-summary"] + arguments)
    }

    @Test func clamdscanStreamVersionPingAndMultiscan() async throws {
        let server = try await ClamdServer.start()
        let dir = Support.temporaryPath("clamdscan")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Support.eicar.write(toFile: dir + "/eicar.com", atomically: true, encoding: .utf8)
        try Support.eicarMail.write(toFile: dir + "/eicar.eml", atomically: true, encoding: .utf8)
        try Support.clean.write(toFile: dir + "/clean.eml", atomically: true, encoding: .utf8)

        let infected = try await clamdscan(server, ["--stream", dir + "/eicar.com"])
        #expect(infected.stdout == "\(dir)/eicar.com: Moat.Test.EICAR FOUND\n", "\(infected)")
        #expect(infected.status == 1)
        let clean = try await clamdscan(server, ["--stream", dir + "/clean.eml"])
        #expect(clean.stdout == "\(dir)/clean.eml: OK\n")
        #expect(clean.status == 0)
        let many = try await clamdscan(server, ["--stream", "-m", dir])
        #expect(many.stdout.contains("\(dir)/eicar.eml: Moat.Test.EICAR FOUND"), "\(many)")
        #expect(many.stdout.contains("\(dir)/eicar.com: Moat.Test.EICAR FOUND"))
        #expect(many.status == 1)
        let version = try await clamdscan(server, ["--version"])
        #expect(version.stdout.hasPrefix("ClamAV 1."), "\(version)")
        #expect(version.stdout.contains("Moat"))
        let ping = try await clamdscan(server, ["--ping", "1"])
        #expect(ping.status == 0, "\(ping)")
        await server.stop()
    }

    @Test func clamavTestFilesAreFound() async throws {
        let server = try await ClamdServer.start()
        let samples = ["/usr/share/clamav-testfiles/clam.exe", "/usr/share/clamav-testfiles/clam.zip"]
        for sample in samples {
            guard FileManager.default.fileExists(atPath: sample) else {
                Issue.record("\(sample) is missing: install clamav-testfiles"); continue
            }
            let result = try await clamdscan(server, ["--stream", sample])
            #expect(result.stdout.contains("FOUND"), "\(sample): \(result)")
        }
        await server.stop()
    }
}
