import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One packet from the MTA, parsed. Body chunks stay slices of the read buffer (no copy).
public enum MilterCommand: Sendable, Equatable {
    case optionNegotiation(version: UInt32, actions: Milter.Actions, steps: Milter.Steps)
    /// Macros for the command `stage` (`C`, `H`, `M`, `R`, `T`, `L`, `N`, `B`, `E`, `U`).
    case macros(stage: UInt8, [(String, String)])
    case connect(hostname: String, family: UInt8, port: UInt16?, address: String?)
    case helo(String)
    case mail(sender: String, arguments: [String])
    case recipient(String, arguments: [String])
    case data
    case header(name: String, value: String)
    case endOfHeaders
    case body(ByteBuffer)
    /// End of message; libmilter allows a last body chunk here, MTAs send none.
    case endOfBody(ByteBuffer)
    case unknown(String)
    case abort
    case quit
    case quitNewConnection

    public static func == (a: MilterCommand, b: MilterCommand) -> Bool {
        switch (a, b) {
        case let (.optionNegotiation(v1, a1, s1), .optionNegotiation(v2, a2, s2)): v1 == v2 && a1 == a2 && s1 == s2
        case let (.macros(s1, m1), .macros(s2, m2)): s1 == s2 && m1.elementsEqual(m2, by: ==)
        case let (.connect(h1, f1, p1, a1), .connect(h2, f2, p2, a2)): h1 == h2 && f1 == f2 && p1 == p2 && a1 == a2
        case let (.helo(x), .helo(y)), let (.unknown(x), .unknown(y)): x == y
        case let (.mail(x, xa), .mail(y, ya)), let (.recipient(x, xa), .recipient(y, ya)): x == y && xa == ya
        case let (.header(n1, v1), .header(n2, v2)): n1 == n2 && v1 == v2
        case let (.body(x), .body(y)), let (.endOfBody(x), .endOfBody(y)): x == y
        case (.data, .data), (.endOfHeaders, .endOfHeaders), (.abort, .abort), (.quit, .quit),
             (.quitNewConnection, .quitNewConnection): true
        default: false
        }
    }
}

/// Why a packet could not be read. The connection is closed after one of these.
public struct MilterProtocolError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable { case emptyPacket, oversizedPacket, unknownCommand, malformedPacket }
    public let code: Code
    public let detail: String
    public var description: String { detail }

    static func malformed(_ command: UInt8, _ why: String) -> MilterProtocolError {
        MilterProtocolError(code: .malformedPacket, detail: "malformed milter \(printable(command)) packet: \(why)")
    }

    static func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
    }
}

/// `u32be length + command byte + data`, with a limit on the length so a peer announcing a
/// gigabyte packet is refused before anything is buffered.
public struct MilterCommandDecoder: ByteToMessageDecoder {
    public typealias InboundOut = MilterCommand
    /// Body chunks are at most 64 KB; 1 MB leaves room for libmilter's MDS_1M and long headers.
    public static let defaultMaxPacketSize = 1 << 20
    public let maxPacketSize: Int

    public init(maxPacketSize: Int = MilterCommandDecoder.defaultMaxPacketSize) {
        self.maxPacketSize = maxPacketSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let command = try Self.next(&buffer, maxPacketSize: maxPacketSize) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(command))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// The next whole packet of `buffer`, or nil when more bytes are needed.
    public static func next(_ buffer: inout ByteBuffer, maxPacketSize: Int = defaultMaxPacketSize) throws -> MilterCommand? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length > 0 else {
            throw MilterProtocolError(code: .emptyPacket, detail: "milter packet of length 0")
        }
        guard length <= maxPacketSize else {
            throw MilterProtocolError(code: .oversizedPacket,
                                      detail: "milter packet of \(length) bytes is over the limit of \(maxPacketSize)")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        var packet = buffer.readSlice(length: Int(length))!
        let command = packet.readInteger(as: UInt8.self)!
        return try parse(command, &packet)
    }

    static func parse(_ command: UInt8, _ data: inout ByteBuffer) throws -> MilterCommand {
        // Static functions given the buffer, not local functions capturing it: a captured
        // inout buffer is checked for exclusive access at run time on every call, and
        // Postfix sends a dozen macros per stage.

        switch command {
        case Milter.Command.optionNegotiation:
            guard data.readableBytes >= 12, let version = data.readInteger(as: UInt32.self),
                  let actions = data.readInteger(as: UInt32.self), let steps = data.readInteger(as: UInt32.self) else {
                throw MilterProtocolError.malformed(command, "\(data.readableBytes) data bytes, 12 expected")
            }
            return .optionNegotiation(version: version, actions: Milter.Actions(rawValue: actions),
                                      steps: Milter.Steps(rawValue: steps))
        case Milter.Command.macro:
            guard let stage = data.readInteger(as: UInt8.self) else {
                throw MilterProtocolError.malformed(command, "no stage")
            }
            var list = try cStrings(&data, command)
            if list.count % 2 == 1 { list.append("") }
            return .macros(stage: stage, stride(from: 0, to: list.count, by: 2).map { (list[$0], list[$0 + 1]) })
        case Milter.Command.connect:
            let hostname = try cString(&data, command)
            guard let family = data.readInteger(as: UInt8.self) else { return .connect(hostname: hostname, family: UInt8(ascii: "U"), port: nil, address: nil) }
            if family == UInt8(ascii: "U") { return .connect(hostname: hostname, family: family, port: nil, address: nil) }
            guard let port = data.readInteger(as: UInt16.self) else {
                throw MilterProtocolError.malformed(command, "no port")
            }
            return .connect(hostname: hostname, family: family, port: port, address: try cString(&data, command))
        case Milter.Command.helo:
            return .helo(try cString(&data, command))
        case Milter.Command.mail, Milter.Command.recipient:
            let list = try cStrings(&data, command)
            guard let first = list.first else { throw MilterProtocolError.malformed(command, "no address") }
            return command == Milter.Command.mail ? .mail(sender: first, arguments: Array(list.dropFirst()))
                                                  : .recipient(first, arguments: Array(list.dropFirst()))
        case Milter.Command.header:
            let name = try cString(&data, command)
            // Sendmail may send a header without value terminator on odd input; be lenient.
            let value = data.readableBytes > 0 ? try cString(&data, command) : ""
            return .header(name: name, value: value)
        case Milter.Command.body: return .body(data)
        case Milter.Command.endOfBody: return .endOfBody(data)
        case Milter.Command.data: return .data
        case Milter.Command.endOfHeaders: return .endOfHeaders
        case Milter.Command.unknown:
            return .unknown(data.readableBytes > 0 ? try cString(&data, command) : "")
        case Milter.Command.abort: return .abort
        case Milter.Command.quit: return .quit
        case Milter.Command.quitNewConnection: return .quitNewConnection
        default:
            throw MilterProtocolError(code: .unknownCommand,
                                      detail: "unknown milter command \(MilterProtocolError.printable(command)) (\(data.readableBytes) data bytes)")
        }
    }
}

extension MilterCommandDecoder {
    /// The NUL-terminated string at the buffer's reader index (invalid UTF-8 repaired, as
    /// NIO's `readString` does), the reader index moved past its NUL.
    static func cString(_ data: inout ByteBuffer, _ command: UInt8) throws -> String {
        let read: (String, Int)? = data.withUnsafeReadableBytes { bytes in
            guard let start = bytes.baseAddress, let nul = memchr(start, 0, bytes.count) else { return nil }
            let length = start.distance(to: UnsafeRawPointer(nul))
            return (String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<length]), as: UTF8.self), length)
        }
        guard let (string, length) = read else {
            throw MilterProtocolError.malformed(command, "string without its NUL terminator")
        }
        data.moveReaderIndex(forwardBy: length + 1)
        return string
    }

    /// Every NUL-terminated string left in the buffer.
    static func cStrings(_ data: inout ByteBuffer, _ command: UInt8) throws -> [String] {
        var out: [String] = []
        while data.readableBytes > 0 { out.append(try cString(&data, command)) }
        return out
    }
}

/// One packet to the MTA.
public enum MilterReply: Sendable, Equatable {
    /// With `setSymbolList` agreed, `macros` replaces the MTA's macro lists (Postfix: every list
    /// not named becomes empty).
    case optionNegotiation(version: UInt32, actions: Milter.Actions, steps: Milter.Steps, macros: [Milter.MacroRequest] = [])
    case `continue`, accept, reject, tempfail, discard, progress, skip
    /// `"550 5.7.1 text"`: the code, enhanced code and text already put together and escaped.
    case replyCode(String)
    case addHeader(name: String, value: String)
    /// SMFIR_INSHEADER: `index` 0 puts the field on top of the header (ARC seals).
    case insertHeader(index: UInt32, name: String, value: String)
    /// `index` is the 1-based occurrence of `name`; an empty value deletes the field.
    case changeHeader(index: UInt32, name: String, value: String)
    case replaceBody([UInt8])

    public func encode(into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        func str0(_ s: String) { buffer.writeString(s); buffer.writeInteger(UInt8(0)) }
        switch self {
        case let .optionNegotiation(version, actions, steps, macros):
            buffer.writeInteger(Milter.Reply.optionNegotiation)
            buffer.writeInteger(version)
            buffer.writeInteger(actions.rawValue)
            buffer.writeInteger(steps.rawValue)
            for request in macros {
                buffer.writeInteger(request.stage.rawValue)
                str0(request.names)
            }
        case .continue: buffer.writeInteger(Milter.Reply.continue)
        case .accept: buffer.writeInteger(Milter.Reply.accept)
        case .reject: buffer.writeInteger(Milter.Reply.reject)
        case .tempfail: buffer.writeInteger(Milter.Reply.tempfail)
        case .discard: buffer.writeInteger(Milter.Reply.discard)
        case .progress: buffer.writeInteger(Milter.Reply.progress)
        case .skip: buffer.writeInteger(Milter.Reply.skip)
        case .replyCode(let text):
            buffer.writeInteger(Milter.Reply.replyCode)
            str0(text)
        case let .addHeader(name, value):
            buffer.writeInteger(Milter.Reply.addHeader)
            str0(name)
            str0(value)
        case let .insertHeader(index, name, value):
            buffer.writeInteger(Milter.Reply.insertHeader)
            buffer.writeInteger(index)
            str0(name)
            str0(value)
        case let .changeHeader(index, name, value):
            buffer.writeInteger(Milter.Reply.changeHeader)
            buffer.writeInteger(index)
            str0(name)
            str0(value)
        case .replaceBody(let bytes):
            buffer.writeInteger(Milter.Reply.replaceBody)
            buffer.writeBytes(bytes)
        }
        buffer.setInteger(UInt32(buffer.writerIndex - start - 4), at: start)
    }
}

public struct MilterReplyEncoder: MessageToByteEncoder {
    public typealias OutboundIn = MilterReply
    public init() {}
    public func encode(data: MilterReply, out: inout ByteBuffer) throws { data.encode(into: &out) }
}
