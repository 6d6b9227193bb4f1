import InterfaceSupport
import NIOCore

/// How a command was framed; the reply uses the same terminator.
public enum ClamdStyle: Sendable, Equatable {
    /// `zCMD\0`: replies end with NUL.
    case z
    /// `nCMD\n`: replies end with LF.
    case n
    /// Unprefixed (old style): the first read is the command; replies end with LF.
    case bare

    public var terminator: String { self == .z ? "\0" : "\n" }
}

public struct ClamdCommand: Sendable, Equatable {
    public var style: ClamdStyle
    public var name: String
    public var argument: String?

    public init(_ style: ClamdStyle, _ name: String, _ argument: String? = nil) {
        self.style = style
        self.name = name
        self.argument = argument
    }
}

public enum ClamdRequestPart: Sendable, Equatable {
    case command(ClamdCommand)
    /// A piece of an INSTREAM (at most the decoder's piece size, cut at fixed offsets).
    case streamData(ByteBuffer)
    case streamEnd
    /// The stream passed StreamMaxLength: answered at once, the rest is not read.
    case streamTooLong
    /// A command line longer than allowed, or a prefix clamd does not know.
    case badCommand
}

/// Commands, and INSTREAM's `u32be length + data` chunks ended by a zero length.
public struct ClamdRequestDecoder: StepDecoder {
    public typealias InboundOut = ClamdRequestPart

    enum State {
        case command(first: Bool)
        case chunkHeader(quota: Int)
        case chunkData(remaining: Int, quota: Int)
        case done
    }

    var state = State.command(first: true)
    let maxStream: Int
    let pieceSize: Int
    public static let maxCommandLength = 4096

    public init(maxStreamLength: Int, pieceSize: Int = 64 * 1024) {
        self.maxStream = maxStreamLength
        self.pieceSize = pieceSize
    }

    /// EOF changes nothing here: what a command or stream cut by EOF left is dropped after the
    /// last step (an aborted SMTP transaction is normal).
    public mutating func step(_ buffer: inout ByteBuffer, atEOF: Bool) -> ClamdRequestPart? { step(&buffer) }

    public mutating func step(_ buffer: inout ByteBuffer) -> ClamdRequestPart? {
        switch state {
        case .done:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        case .command(let first):
            guard let lead = buffer.readableBytesView.first else { return nil }
            let style: ClamdStyle
            let terminator: UInt8
            switch lead {
            case UInt8(ascii: "z"): style = .z; terminator = 0
            case UInt8(ascii: "n"): style = .n; terminator = UInt8(ascii: "\n")
            default:
                guard first else { state = .done; return .badCommand }
                style = .bare; terminator = UInt8(ascii: "\n")
            }
            let view = buffer.readableBytesView
            var end = view.firstIndex(of: terminator)
            if style == .bare, end == nil {
                // Old clients send the command in one write without waiting: take what came.
                end = view.endIndex
            }
            guard let end else {
                if view.count > Self.maxCommandLength { state = .done; return .badCommand }
                return nil
            }
            let length = end - view.startIndex
            guard length <= Self.maxCommandLength else { state = .done; return .badCommand }
            var bytes = buffer.readBytes(length: length)!
            if end < view.endIndex { buffer.moveReaderIndex(forwardBy: 1) }
            if style != .bare { bytes.removeFirst() }
            while let last = bytes.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: "\n") || last == 0 { bytes.removeLast() }
            let text = String(decoding: bytes, as: UTF8.self)
            let space = text.firstIndex(of: " ")
            let name = String(space.map { text[..<$0] } ?? Substring(text))
            let argument = space.map { String(text[text.index(after: $0)...]) }
            state = name == "INSTREAM" && style != .bare ? .chunkHeader(quota: maxStream) : .command(first: false)
            return .command(ClamdCommand(style, name, argument))
        case .chunkHeader(let quota):
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
            buffer.moveReaderIndex(forwardBy: 4)
            if length == 0 {
                state = .command(first: false)
                return .streamEnd
            }
            guard Int(length) <= quota else {
                state = .done
                return .streamTooLong
            }
            state = .chunkData(remaining: Int(length), quota: quota - Int(length))
            return step(&buffer)
        case .chunkData(let remaining, let quota):
            let want = min(remaining, pieceSize)
            guard buffer.readableBytes >= want, let piece = buffer.readSlice(length: want) else { return nil }
            state = remaining == want ? .chunkHeader(quota: quota) : .chunkData(remaining: remaining - want, quota: quota)
            return .streamData(piece)
        }
    }
}
