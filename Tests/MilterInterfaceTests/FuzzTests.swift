import Foundation
import NIOCore
import Testing
@testable import MilterInterface

/// The codec's fuzz target: deterministic mutations of a real Postfix packet stream go through
/// the decoder and the session; nothing may trap, and every input ends in commands, "need
/// more bytes" or a protocol error. (Run longer with MOAT_FUZZ_ITERATIONS.)
@Suite("Milter fuzz")
struct FuzzTests {
    typealias S = Support

    static let seed: [UInt8] = S.packet("O", S.u32(6) + S.u32(0x1FF) + S.u32(0x1FFFFF))
        + S.packet("D", [UInt8(ascii: "C")] + S.str0("j", "mx"))
        + S.packet("C", S.str0("client") + [UInt8(ascii: "4"), 0, 25] + S.str0("192.0.2.1"))
        + S.packet("H", S.str0("client")) + S.packet("M", S.str0("<a@b>", "SIZE=1")) + S.packet("R", S.str0("<c@d>"))
        + S.packet("L", S.str0("Subject", "x")) + S.packet("N") + S.packet("B", Array("body\r\n".utf8))
        + S.packet("E") + S.packet("A") + S.packet("K") + S.packet("Q")

    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func mutatedStreamsNeverTrap() throws {
        var rng = SplitMix64(state: 7357)
        let iterations = Int(ProcessInfo.processInfo.environment["MOAT_FUZZ_ITERATIONS"] ?? "") ?? 3000
        let profile = S.profile()
        var outcomes = [0, 0, 0]
        for _ in 0..<iterations {
            var data = Self.seed
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let pos = Int.random(in: 0..<data.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: data[pos] = UInt8.random(in: 0...255, using: &rng)
                case 1: data.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: pos)
                case 2: data.removeSubrange(pos..<min(data.count, pos + Int.random(in: 1...16, using: &rng)))
                default: data[pos] = [0, 0xFF, 0x7F, 0x80, UInt8(ascii: "B"), UInt8(ascii: "E")].randomElement(using: &rng)!
                }
                if data.isEmpty { data = [0] }
            }
            var buffer = ByteBuffer(bytes: data)
            var session = MilterSession(configuration: .init(maxMessageSize: 1 << 20, profile: { profile }))
            do {
                while let command = try MilterCommandDecoder.next(&buffer) {
                    if case .check(let request) = session.receive(command) {
                        _ = session.decided(id: request.id, S.decision(.pass))
                    }
                }
                outcomes[buffer.readableBytes == 0 ? 0 : 1] += 1
            } catch is MilterProtocolError {
                outcomes[2] += 1
            }
            session.closed()
        }
        #expect(outcomes.reduce(0, +) == iterations)
        #expect(outcomes[2] > 0)
    }
}
