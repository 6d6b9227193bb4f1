import Foundation
import MoatConfig
import ThreatEngine

/// The scan request and answer in `WireFormat` (the supervisor's rare requests stay JSON).
extension WorkerRequest {
    func encoded() throws -> [UInt8] {
        var writer = WireWriter()
        switch self {
        case .scan(let id, let spans, let limits):
            writer.byte(3)
            writer.unsigned(id)
            limits.write(to: &writer)
            writer.integer(spans.count)
            for span in spans {
                writer.optionalString(span.name)
                writer.integer(span.offset)
                writer.integer(span.length ?? -1)
            }
        #if DEBUG
        case .probe:
            writer.byte(2)
            writer.string(String(decoding: try JSONEncoder().encode(self), as: UTF8.self))
        #endif
        }
        return writer.bytes
    }

    init(wire bytes: [UInt8]) throws {
        var reader = WireReader(bytes)
        switch try reader.byte() {
        case 3:
            let id = try reader.unsigned()
            let limits = try ScanLimits(from: &reader)
            var spans: [PartSpan] = []
            for _ in 0..<(try reader.count(minimumSize: 17)) {
                let name = try reader.optionalString()
                let offset = try reader.int()
                let length = try reader.int()
                guard offset >= 0, length >= -1 else { throw WireReader.Malformed(description: "a span out of range") }
                spans.append(PartSpan(name: name, offset: offset, length: length < 0 ? nil : length))
            }
            self = .scan(id: id, spans: spans, limits: limits)
        #if DEBUG
        case 2:
            self = try JSONDecoder().decode(WorkerRequest.self, from: Data(try reader.string().utf8))
        #endif
        case let tag:
            throw WireReader.Malformed(description: "unknown request \(tag)")
        }
        guard reader.isAtEnd else { throw WireReader.Malformed(description: "bytes after the request") }
    }
}

extension WorkerReply {
    func encoded() throws -> [UInt8] {
        var writer = WireWriter()
        switch self {
        case .result(let id, let result, let messages):
            writer.byte(1)
            writer.unsigned(id)
            result.write(to: &writer)
            writer.integer(messages.count)
            for message in messages {
                writer.string(message.severity)
                writer.string(message.text)
            }
        #if DEBUG
        case .probed:
            writer.byte(2)
            writer.string(String(decoding: try JSONEncoder().encode(self), as: UTF8.self))
        #endif
        }
        return writer.bytes
    }

    init(wire bytes: [UInt8]) throws {
        var reader = WireReader(bytes)
        switch try reader.byte() {
        case 1:
            let id = try reader.unsigned()
            let result = try ScanResult(from: &reader)
            var messages: [EngineMessage] = []
            for _ in 0..<(try reader.count(minimumSize: 16)) {
                messages.append(EngineMessage(severity: try reader.string(), text: try reader.string()))
            }
            self = .result(id: id, result: result, messages: messages)
        #if DEBUG
        case 2:
            self = try JSONDecoder().decode(WorkerReply.self, from: Data(try reader.string().utf8))
        #endif
        case let tag:
            throw WireReader.Malformed(description: "unknown reply \(tag)")
        }
        guard reader.isAtEnd else { throw WireReader.Malformed(description: "bytes after the reply") }
    }
}

extension ScanLimits {
    func write(to writer: inout WireWriter) {
        let (seconds, attoseconds) = scanTimeout.components
        writer.integer(seconds)
        writer.integer(attoseconds)
        writer.bool(heuristicAnalysis)
        for level in [packerMaxLevel, archiveMaxLevel, mailMaxLevel, containerMaxLevel, maxCompressionRatio,
                      maxFileSize, maxScanSize] {
            writer.integer(level)
        }
    }

    init(from reader: inout WireReader) throws {
        let timeout = Duration(secondsComponent: try reader.integer(), attosecondsComponent: try reader.integer())
        self.init(scanTimeout: timeout, heuristicAnalysis: try reader.bool(), packerMaxLevel: try reader.int(),
                  archiveMaxLevel: try reader.int(), mailMaxLevel: try reader.int(), containerMaxLevel: try reader.int(),
                  maxCompressionRatio: try reader.int(), maxFileSize: try reader.int(), maxScanSize: try reader.int())
    }
}

extension ScanResult {
    func write(to writer: inout WireWriter) {
        switch self {
        case .clean:
            writer.byte(0)
        case .threats(let threats):
            writer.byte(1)
            writer.integer(threats.count)
            for threat in threats {
                writer.string(threat.name)
                writer.string(threat.category.rawValue)
            }
        case .unchecked(let reason):
            writer.byte(2)
            switch reason {
            case .timeout: writer.byte(0)
            case .limitExceeded(let name): writer.byte(1); writer.string(name)
            case .encrypted: writer.byte(2)
            case .malformed(let detail): writer.byte(3); writer.string(detail)
            case .engineError(let detail): writer.byte(4); writer.string(detail)
            }
        }
    }

    init(from reader: inout WireReader) throws {
        switch try reader.byte() {
        case 0:
            self = .clean
        case 1:
            var threats: [Threat] = []
            for _ in 0..<(try reader.count(minimumSize: 16)) {
                let name = try reader.string()
                let spelling = try reader.string()
                guard let category = ThreatCategory(rawValue: spelling) else {
                    throw WireReader.Malformed(description: "unknown threat category \(spelling)")
                }
                threats.append(Threat(name: name, category: category))
            }
            self = .threats(threats)
        case 2:
            switch try reader.byte() {
            case 0: self = .unchecked(.timeout)
            case 1: self = .unchecked(.limitExceeded(try reader.string()))
            case 2: self = .unchecked(.encrypted)
            case 3: self = .unchecked(.malformed(try reader.string()))
            case 4: self = .unchecked(.engineError(try reader.string()))
            case let tag: throw WireReader.Malformed(description: "unknown unchecked reason \(tag)")
            }
        case let tag:
            throw WireReader.Malformed(description: "unknown result \(tag)")
        }
    }
}
