import Foundation

/// A compact binary form for the messages of every scan (moatd ↔ worker): JSON cost more than
/// the scan of a small part. Integers are little-endian, strings and arrays length-prefixed.
/// Reading is bounded by the datagram: a field past its end, an unknown tag or a count larger
/// than what is left is an error, never a crash; the worker is the untrusted side.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(256)
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func integer(_ value: Int64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func integer(_ value: Int) { integer(Int64(value)) }

    mutating func unsigned(_ value: UInt64) { integer(Int64(bitPattern: value)) }

    mutating func bool(_ value: Bool) { byte(value ? 1 : 0) }

    mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        integer(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    mutating func optionalString(_ value: String?) {
        bool(value != nil)
        if let value { string(value) }
    }
}

struct WireReader {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw Malformed(description: "message ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer() throws -> Int64 {
        guard bytes.count - offset >= 8 else { throw Malformed(description: "message ends early") }
        var value: Int64 = 0
        for index in (0..<8).reversed() { value = value << 8 | Int64(bytes[offset + index]) }
        offset += 8
        return value
    }

    mutating func int() throws -> Int {
        let value = try integer()
        guard let int = Int(exactly: value) else { throw Malformed(description: "integer out of range") }
        return int
    }

    mutating func unsigned() throws -> UInt64 { UInt64(bitPattern: try integer()) }

    mutating func bool() throws -> Bool {
        switch try byte() {
        case 0: false
        case 1: true
        case let other: throw Malformed(description: "not a boolean: \(other)")
        }
    }

    /// A count of items still to come, each at least `minimumSize` bytes long.
    mutating func count(minimumSize: Int) throws -> Int {
        let count = try int()
        guard count >= 0, count <= (bytes.count - offset) / max(1, minimumSize) else {
            throw Malformed(description: "count \(count) larger than the message")
        }
        return count
    }

    mutating func string() throws -> String {
        let length = try count(minimumSize: 1)
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }

    mutating func optionalString() throws -> String? {
        try bool() ? try string() : nil
    }
}
