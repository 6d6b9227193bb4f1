import Foundation
import InterfaceSupport
import MoatConfig
import NIOCore

/// What the decoder makes of the bytes of one spamd connection.
public enum SpamdRequestPart: Sendable, Equatable {
    case head(SpamdRequestHead)
    /// A piece of the message: the decoder's chunk size bytes, or the rest.
    case body(ByteBuffer)
    /// The message is complete (Content-length reached, or EOF when none was given).
    case end
    /// The request is refused; the decoder swallows whatever follows.
    case error(SpamdError)
}

/// Request line, headers and body of a spamd request (one per connection).
///
/// Body pieces are cut at fixed offsets (`chunkSize`) whatever the reads were, so the same
/// input gives the same parts however it is split, and at most one piece is buffered.
public struct SpamdRequestDecoder: StepDecoder {
    public typealias InboundOut = SpamdRequestPart
    public static let defaultChunkSize = 64 * 1024
    let chunkSize: Int

    enum State {
        case requestLine
        case headers(SpamdRequestHead)
        case body(remaining: Int?, received: Int)
        case done
    }

    var state = State.requestLine
    var sawRequest = false
    let limits: SpamdLimits

    public init(limits: SpamdLimits = SpamdLimits(), chunkSize: Int = Self.defaultChunkSize) {
        self.limits = limits
        self.chunkSize = chunkSize
    }

    /// One step of the decoder (see `StepDecoder`).
    public mutating func step(_ buffer: inout ByteBuffer, atEOF: Bool) -> SpamdRequestPart? {
        switch state {
        case .done:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil

        case .requestLine:
            if atEOF, buffer.readableBytes == 0, sawRequest { return nil }
            guard let line = nextLine(&buffer, atEOF: atEOF) else { return nil }
            switch line {
            case .failure(let error): return fail(error)
            case .success(let text):
                let words = text.split(separator: " ", omittingEmptySubsequences: true)
                guard words.count == 2, let method = SpamdMethod(rawValue: String(words[0])),
                      words[1].hasPrefix("SPAMC/"), let version = SpamdVersion(words[1].dropFirst(6)) else {
                    return fail(SpamdError(.protocolError, "Bad header line: (\(Self.printable(text)))"))
                }
                let head = SpamdRequestHead(method: method, version: version)
                sawRequest = true
                // Clients before 1.5 send PING and SKIP as the request line alone.
                if !method.hasBody, version < SpamdVersion(1, 5) {
                    state = .requestLine
                    return .head(head)
                }
                state = .headers(head)
                return step(&buffer, atEOF: atEOF)
            }

        case .headers(var head):
            guard let line = nextLine(&buffer, atEOF: atEOF) else { return nil }
            switch line {
            case .failure(let error): return fail(error)
            case .success(let text) where text.isEmpty:
                if !head.method.hasBody {
                    state = .requestLine
                } else {
                    state = .body(remaining: head.contentLength, received: 0)
                }
                return .head(head)
            case .success(let text):
                guard head.headers.count < limits.maxHeaderCount else {
                    return fail(SpamdError(.protocolError, "Bad header line: too many headers"))
                }
                guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                    return fail(SpamdError(.protocolError, "Bad header line: (\(Self.printable(text)))"))
                }
                let name = String(text[..<colon])
                let value = String(text[text.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" }))
                if name.lowercased() == "content-length" {
                    // Digits only, bounded before any arithmetic (no sign, no 20-digit values).
                    switch PeerNumber.decimal(value.trimmingCharacters(in: .whitespaces), max: limits.maxMessageSize) {
                    case .value(let length):
                        head.contentLength = length
                    case .tooLarge:
                        return fail(SpamdError(.dataError, "Message too big: Content-length \(Self.printable(Substring(value))), the limit is \(limits.maxMessageSize) bytes"))
                    case .invalid:
                        return fail(SpamdError(.protocolError, "Bad header line: (Content-length contains non-numeric bytes)"))
                    }
                }
                if name.lowercased() == "compress", value.lowercased() != "zlib" {
                    return fail(SpamdError(.usage, "Compression is not supported (Compress: \(Self.printable(Substring(value))))"))
                }
                head.headers.append((name, value))
                state = .headers(head)
                return step(&buffer, atEOF: atEOF)
            }

        case .body(let remaining, let received):
            if remaining == 0 {
                // spamd serves one request per connection (the session ignores more); the
                // decoder is ready for another so it can be verified on streams of requests.
                state = .requestLine
                return .end
            }
            let want = min(chunkSize, remaining ?? chunkSize)
            if buffer.readableBytes >= want {
                let piece = buffer.readSlice(length: want)!
                if remaining == nil, received + want > limits.maxMessageSize {
                    return fail(SpamdError(.dataError, "Message too big: more than \(limits.maxMessageSize) bytes"))
                }
                state = .body(remaining: remaining.map { $0 - want }, received: received + want)
                return .body(piece)
                // (.end follows on the next step when the remaining count reaches 0)
            }
            guard atEOF else { return nil }
            if let remaining {
                return fail(SpamdError(.protocolError,
                                       "Bad header line: (Content-Length mismatch: Expected \(received + remaining) bytes, got \(received + buffer.readableBytes) bytes)"))
            }
            if buffer.readableBytes > 0 {
                let piece = buffer.readSlice(length: buffer.readableBytes)!
                if received + piece.readableBytes > limits.maxMessageSize {
                    return fail(SpamdError(.dataError, "Message too big: more than \(limits.maxMessageSize) bytes"))
                }
                state = .body(remaining: 0, received: received + piece.readableBytes)
                return .body(piece)
            }
            state = .requestLine
            return .end
        }
    }

    private mutating func fail(_ error: SpamdError) -> SpamdRequestPart {
        state = .done
        return .error(error)
    }

    /// A line, or spamd's answer to one too long or cut by EOF.
    private func nextLine(_ buffer: inout ByteBuffer, atEOF: Bool) -> Result<Substring, SpamdError>? {
        switch RequestLine.next(&buffer, maxLength: limits.maxLineLength, atEOF: atEOF) {
        case nil: nil
        case .text(let text): .success(text)
        case .tooLong: .failure(SpamdError(.protocolError, "Bad header line: (line longer than \(limits.maxLineLength) bytes)"))
        case .cut(let empty): .failure(SpamdError(.protocolError, empty ? "Bad header line: (no request)" : "Bad header line: (incomplete request)"))
        }
    }

    static func printable(_ text: Substring) -> String {
        String(text.prefix(200).map { $0.isASCII && !$0.isNewline && ($0.asciiValue ?? 0) >= 32 ? $0 : "?" })
    }
}
