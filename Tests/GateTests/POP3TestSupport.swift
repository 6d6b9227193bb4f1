// Helpers shared by the POP3 and IMAP relay tests (same test target).
import NIOCore
import Testing
@testable import Gate

func buf(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
func buf(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// Deterministic generator so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Every way the tests cut an input: whole, every two-piece split, byte by byte, and random
/// multi-piece splits.
func everySplit(_ bytes: [UInt8], randomRuns: Int = 64, seed: UInt64 = 7) -> [[[UInt8]]] {
    var result: [[[UInt8]]] = [[bytes]]
    if bytes.count > 1 {
        for cut in 1..<bytes.count {
            result.append([Array(bytes[..<cut]), Array(bytes[cut...])])
        }
    }
    result.append(bytes.map { [$0] })
    var rng = SplitMix(seed: seed)
    for _ in 0..<randomRuns {
        var pieces: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let length = Int.random(in: 1...max(1, min(17, bytes.count - index)), using: &rng)
            pieces.append(Array(bytes[index..<(index + length)]))
            index += length
        }
        result.append(pieces)
    }
    return result
}

/// Polls `condition` until it holds or `limit` passes: for effects that happen off the event
/// loop shortly after the reply a client sees (a spool file removed on the thread pool).
func eventually(within limit: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
