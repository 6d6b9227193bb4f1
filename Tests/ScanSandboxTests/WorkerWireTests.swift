import Foundation
import Testing
@testable import ScanSandbox
import ThreatEngine

/// The binary form of the scan request and answer. Answers come from the untrusted side (a
/// worker that parsed a hostile file), so every cut and every corruption must be an error.
@Suite("Worker wire format")
struct WorkerWireTests {
    static let results: [ScanResult] = [
        .clean,
        .threats([Threat(name: "Win.Test.EICAR_HDB-1", category: .knownVirus), Threat(name: "Heuristics.Phishing", category: .unknownVirus)]),
        .unchecked(.timeout), .unchecked(.encrypted), .unchecked(.limitExceeded("MaxScanSize")),
        .unchecked(.malformed("CL_EFORMAT")), .unchecked(.engineError("Can't create temporary directory ✗")),
    ]

    @Test func requestsAndRepliesRoundTrip() throws {
        var limits = ScanLimits.default
        limits.scanTimeout = .milliseconds(2500)
        limits.heuristicAnalysis = false
        limits.maxScanSize = 123_456_789
        let batches: [[PartSpan]] = [
            [PartSpan(name: nil)],
            [PartSpan(name: "invoice.zip", offset: 0, length: 10), PartSpan(name: "имя.doc", offset: 10, length: 0),
             PartSpan(name: nil, offset: 10, length: 5_000_000)],
        ]
        for spans in batches {
            let request = WorkerRequest.scan(id: 42, spans: spans, limits: limits)
            guard case .scan(let id, let decodedSpans, let decodedLimits) = try WorkerRequest(wire: try request.encoded()) else {
                Issue.record("not a scan request")
                continue
            }
            #expect(id == 42 && decodedSpans == spans && decodedLimits == limits)
        }
        for result in Self.results {
            let messages = [EngineMessage(severity: "error", text: "LibClamAV Error: x")]
            let reply = WorkerReply.result(id: 7, result: result, messages: messages)
            guard case .result(let id, let decoded, let decodedMessages) = try WorkerReply(wire: try reply.encoded()) else {
                Issue.record("not a result")
                continue
            }
            #expect(id == 7 && decoded == result && decodedMessages.map(\.text) == ["LibClamAV Error: x"])
        }
    }

    @Test func everyCutAndCorruptionIsAnError() throws {
        for result in Self.results {
            let bytes = try WorkerReply.result(id: 1, result: result, messages: []).encoded()
            for length in 0..<bytes.count {
                #expect(throws: (any Error).self) { try WorkerReply(wire: Array(bytes[..<length])) }
            }
            #expect(throws: (any Error).self) { try WorkerReply(wire: bytes + [0]) }
        }
        // Huge counts and lengths do not allocate or crash.
        var huge = WireWriter()
        huge.byte(1)
        huge.unsigned(1)
        huge.byte(1)
        huge.integer(Int64.max)
        #expect(throws: (any Error).self) { try WorkerReply(wire: huge.bytes) }
        // A request's span cannot start before the file or have a negative length.
        for (offset, length) in [(-1, 5), (0, -2)] {
            var request = WireWriter()
            request.byte(3)
            request.unsigned(1)
            ScanLimits.default.write(to: &request)
            request.integer(1)
            request.optionalString(nil)
            request.integer(offset)
            request.integer(length)
            #expect(throws: (any Error).self) { try WorkerRequest(wire: request.bytes) }
        }
        let request = try WorkerRequest.scan(id: 3, spans: [PartSpan(name: "a", offset: 1, length: 2)], limits: .default).encoded()
        for length in 0..<request.count {
            #expect(throws: (any Error).self) { try WorkerRequest(wire: Array(request[..<length])) }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let noise = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? WorkerReply(wire: noise)
            _ = try? WorkerRequest(wire: noise)
        }
    }
}
