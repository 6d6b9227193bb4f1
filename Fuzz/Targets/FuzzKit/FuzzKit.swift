import CFuzzDriver
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

// What every Moat fuzz target shares: the libFuzzer driver, a reader for the choices the
// fuzzer makes inside one input, and the split points of the every-split property.

nonisolated(unsafe) private var oneInput: (([UInt8]) -> Void)?

/// Runs libFuzzer with `body` as the test of one input; never returns.
public func runFuzzer(_ body: @escaping ([UInt8]) -> Void) -> Never {
    oneInput = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        oneInput!(bytes)
        return 0
    }
    exit(status)
}

/// Fails the run: libFuzzer (through ASan's deadly-signal handler) writes the input out.
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// Reads the fuzzer's choices from the front of an input; the rest is payload.
public struct FuzzInput {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    public var isEmpty: Bool { bytes.isEmpty }

    public mutating func byte() -> UInt8 {
        guard let first = bytes.first else { return 0 }
        bytes = bytes.dropFirst()
        return first
    }

    public mutating func uint16() -> Int { Int(byte()) << 8 | Int(byte()) }

    /// `count` bytes (fewer at the end).
    public mutating func take(_ count: Int) -> [UInt8] {
        let taken = bytes.prefix(max(0, count))
        bytes = bytes.dropFirst(taken.count)
        return Array(taken)
    }

    /// Up to the next `separator` (not included); the rest when there is none.
    public mutating func take(until separator: UInt8) -> [UInt8] {
        guard let index = bytes.firstIndex(of: separator) else { return rest() }
        let taken = Array(bytes[..<index])
        bytes = bytes[(index + 1)...]
        return taken
    }

    public mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }
}

/// The pieces a byte stream arrives in: the first byte of the input says how many cuts (0-15,
/// low nibble) and whether to feed byte by byte instead (high bit); two bytes per cut give its
/// position. What is left is the payload.
public struct Splits {
    public let payload: [UInt8]
    public let pieces: [[UInt8]]

    public init(_ input: [UInt8]) {
        var reader = FuzzInput(input)
        let head = reader.byte()
        let cuts = Int(head & 0x0F)
        var positions: [Int] = []
        for _ in 0..<cuts { positions.append(reader.uint16()) }
        payload = reader.rest()
        let count = payload.count
        if head & 0x80 != 0, count <= 4096 {
            pieces = payload.map { [$0] }
        } else {
            let points = Set(positions.map { count == 0 ? 0 : $0 % (count + 1) }).sorted()
            var pieces: [[UInt8]] = []
            var start = 0
            for point in points + [count] where point >= start {
                pieces.append(Array(payload[start..<point]))
                start = point
            }
            self.pieces = pieces
        }
    }

    /// The payload whole, then in its pieces: the every-split property compares the two.
    public var feeds: [[[UInt8]]] { [[payload], pieces] }
}

extension ByteBuffer {
    public var bytes: [UInt8] { Array(readableBytesView) }
}

/// MOAT_FUZZ_TRACE=1: the session targets print every event and action (to read a finding).
nonisolated(unsafe) public let tracing = getenv("MOAT_FUZZ_TRACE").map { String(cString: $0) == "1" } ?? false

public func trace(_ text: @autoclosure () -> String) {
    if tracing { var line = text() + "\n"; line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) } }
}

/// MOAT_FUZZ_KNOWN=1: known open findings (Fuzz/README.md) are tolerated so that runs can look
/// past them; each target says which.
nonisolated(unsafe) public let toleratesKnownFindings = getenv("MOAT_FUZZ_KNOWN").map { String(cString: $0) == "1" } ?? false
