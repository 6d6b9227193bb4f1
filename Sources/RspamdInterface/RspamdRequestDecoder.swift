import Foundation
import InterfaceSupport
import MoatConfig
import NIOCore

/// `POST /checkv2 HTTP/1.1` (rspamc) or `CHECK RSPAMC/1.3` (Exim's `variant=rspamd`).
public struct RspamdRequestHead: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case http(method: String, path: String, version: String)
        case legacy(command: String, version: String)
    }

    public var kind: Kind
    public var headers: [(name: String, value: String)]
    public var contentLength: Int?
    public var chunked: Bool

    public init(kind: Kind, headers: [(name: String, value: String)] = [], contentLength: Int? = nil, chunked: Bool = false) {
        self.kind = kind
        self.headers = headers
        self.contentLength = contentLength
        self.chunked = chunked
    }

    /// Names are case-insensitive.
    public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    public func all(_ name: String) -> [String] { headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) }

    /// HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 and the legacy form close.
    public var keepAlive: Bool {
        guard case .http(_, _, let version) = kind else { return false }
        let connection = header("Connection")?.lowercased()
        return version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.kind == b.kind && a.contentLength == b.contentLength && a.chunked == b.chunked
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }
}

public struct RspamdError: Error, Sendable, Equatable {
    public var status: Int
    public var text: String
    public init(_ status: Int, _ text: String) { self.status = status; self.text = text }
}

public enum RspamdRequestPart: Sendable, Equatable {
    case head(RspamdRequestHead)
    case body(ByteBuffer)
    case end
    case error(RspamdError)
}

/// Bounds on one rspamd request: past `maxMessageSize` the answer is 413, past
/// `maxHeaderCount` 431, a line past `maxLineLength` 400.
public typealias RspamdLimits = RequestLimits

/// Request line, headers, then a body by Content-Length or chunked; ready for the next
/// request after each (HTTP/1.1 keep-alive). Pieces are cut at fixed offsets of the body.
public struct RspamdRequestDecoder: StepDecoder {
    public typealias InboundOut = RspamdRequestPart

    enum State {
        case requestLine
        case headers(RspamdRequestHead)
        case body(remaining: Int)
        case chunkSize(received: Int)
        case chunkData(remaining: Int, received: Int)
        case chunkDataEnd(received: Int)
        case trailer
        case done
    }

    var state = State.requestLine
    let limits: RspamdLimits
    let pieceSize: Int

    public init(limits: RspamdLimits = RspamdLimits(), pieceSize: Int = 64 * 1024) {
        self.limits = limits
        self.pieceSize = pieceSize
    }

    public mutating func step(_ buffer: inout ByteBuffer, atEOF: Bool) -> RspamdRequestPart? {
        switch state {
        case .done:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        case .requestLine:
            if buffer.readableBytes == 0 { return nil }
            guard let line = nextLine(&buffer, atEOF: atEOF) else { return nil }
            guard case .text(let text) = line else { return fail(400, "request line too long or incomplete") }
            if text.isEmpty { return step(&buffer, atEOF: atEOF) }  // tolerated between requests
            let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard words.count >= 2 else { return fail(400, "bad request line") }
            if words.count == 3, words[2].hasPrefix("HTTP/1.") {
                state = .headers(RspamdRequestHead(kind: .http(method: words[0].uppercased(), path: words[1], version: words[2])))
            } else if words.count == 2, words[1].hasPrefix("RSPAMC/") || words[1].hasPrefix("SPAMC/") {
                state = .headers(RspamdRequestHead(kind: .legacy(command: words[0].uppercased(), version: words[1])))
            } else {
                return fail(400, "bad request line")
            }
            return step(&buffer, atEOF: atEOF)
        case .headers(var head):
            guard let line = nextLine(&buffer, atEOF: atEOF) else { return nil }
            guard case .text(let text) = line else { return fail(400, "header line too long or incomplete") }
            if text.isEmpty {
                // RFC 9112 6.3: both framings at once is how requests get smuggled.
                if head.chunked, head.contentLength != nil { return fail(400, "both Transfer-Encoding and Content-Length") }
                if head.chunked {
                    state = .chunkSize(received: 0)
                } else if let length = head.contentLength {
                    state = .body(remaining: length)
                } else if case .legacy = head.kind {
                    return fail(411, "Content-length is required")
                } else {
                    state = .body(remaining: 0)
                }
                return .head(head)
            }
            guard head.headers.count < limits.maxHeaderCount else { return fail(431, "too many headers") }
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return fail(400, "bad header line") }
            let name = String(text[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            switch name.lowercased() {
            case "content-length":
                // Digits only, bounded before any arithmetic (no sign, no 20-digit values).
                switch PeerNumber.decimal(value, max: limits.maxMessageSize) {
                case .value(let length):
                    if let earlier = head.contentLength, earlier != length { return fail(400, "conflicting Content-Length") }
                    head.contentLength = length
                case .tooLarge: return fail(413, "message larger than \(limits.maxMessageSize) bytes")
                case .invalid: return fail(400, "bad Content-Length")
                }
            case "transfer-encoding":
                guard value.lowercased() == "chunked" else { return fail(501, "unsupported Transfer-Encoding") }
                head.chunked = true
            case "compression", "content-encoding":
                if value.lowercased() != "identity" { return fail(415, "compressed bodies (\(value)) are not supported") }
            default: break
            }
            head.headers.append((name, value))
            state = .headers(head)
            return step(&buffer, atEOF: atEOF)
        case .body(let remaining):
            if remaining == 0 {
                state = .requestLine
                return .end
            }
            let want = min(remaining, pieceSize)
            guard buffer.readableBytes >= want else {
                return atEOF ? fail(400, "the message ended before Content-Length") : nil
            }
            state = .body(remaining: remaining - want)
            return .body(buffer.readSlice(length: want)!)
        case .chunkSize(let received):
            guard let line = nextLine(&buffer, atEOF: atEOF) else { return nil }
            guard case .text(let text) = line else { return fail(400, "bad chunk size") }
            let digits = text.split(separator: ";", omittingEmptySubsequences: false).first?.trimmingCharacters(in: .whitespaces) ?? ""
            // `received` never passes the limit, so `limit - received` cannot overflow; the
            // size is bounded by what is left before anything is added to it.
            let size: Int
            switch PeerNumber.hex(digits, max: limits.maxMessageSize - received) {
            case .value(let n): size = n
            case .tooLarge: return fail(413, "message larger than \(limits.maxMessageSize) bytes")
            case .invalid: return fail(400, "bad chunk size")
            }
            if size == 0 {
                state = .trailer
                return step(&buffer, atEOF: atEOF)
            }
            state = .chunkData(remaining: size, received: received + size)
            return step(&buffer, atEOF: atEOF)
        case .chunkData(let remaining, let received):
            let want = min(remaining, pieceSize)
            guard buffer.readableBytes >= want else { return atEOF ? fail(400, "the message ended inside a chunk") : nil }
            state = remaining == want ? .chunkDataEnd(received: received) : .chunkData(remaining: remaining - want, received: received)
            return .body(buffer.readSlice(length: want)!)
        case .chunkDataEnd(let received):
            guard let line = nextLine(&buffer, atEOF: atEOF) else { return nil }
            guard case .text(let text) = line, text.isEmpty else { return fail(400, "bad chunk end") }
            state = .chunkSize(received: received)
            return step(&buffer, atEOF: atEOF)
        case .trailer:
            guard let line = nextLine(&buffer, atEOF: atEOF) else { return nil }
            guard case .text(let text) = line else { return fail(400, "bad trailer") }
            if text.isEmpty {
                state = .requestLine
                return .end
            }
            return step(&buffer, atEOF: atEOF)
        }
    }

    private mutating func fail(_ status: Int, _ text: String) -> RspamdRequestPart {
        state = .done
        return .error(RspamdError(status, text))
    }

    private func nextLine(_ buffer: inout ByteBuffer, atEOF: Bool) -> RequestLine? {
        RequestLine.next(&buffer, maxLength: limits.maxLineLength, atEOF: atEOF)
    }
}
