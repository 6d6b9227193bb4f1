import NIOCore

/// A literal kept in the output queue until its verdict.
struct IMAPHeldLiteral: Sendable {
    /// The server's marker with its line ending, sent again when the literal passes.
    var markerBytes: ByteBuffer
    var marker: IMAPLiteralMarker
    var literal: ByteBuffer
    var role: IMAPFetchLiteralRole
}

/// Where the bytes of the literal being read go.
enum IMAPLiteralSink: Sendable {
    /// To the client as they come.
    case stream
    /// Dropped: an empty literal is already queued in its place, or it is a private message
    /// too large to check.
    case discard
    /// Collected, then queued as held until its check or its response's end decides it.
    case hold(MailCheckID, markerBytes: ByteBuffer, marker: IMAPLiteralMarker, role: IMAPFetchLiteralRole)
    /// Too large and BlockUnchecked: the head is collected for the notice, the slot is queued.
    case head(MailCheckID)
    /// The whole message of a private FETCH response: collected for the check.
    case privateMessage
    /// Another literal inside a FETCH response during the private command.
    case privateText
}

/// The server response being read, with what its end must do.
struct IMAPServerResponse: Sendable {
    var kind: IMAPResponseKind
    /// A FETCH response that arrived while the private command ran.
    var isPrivate: Bool
    var sink: IMAPLiteralSink?
    /// The literal collected for `.hold`, `.head` and `.privateMessage`.
    var collected = ByteBuffer()
    /// Literals queued as held, to check (whole messages) or decide (partial content).
    var holds: [(MailCheckID, IMAPFetchLiteralRole)] = []
    var reports: [(reason: MailUncheckedReason, withheld: Bool)] = []
    /// Held slots of messages too large to check, with their heads, for notices.
    var replacements: [(MailCheckID, [UInt8])] = []
    var tooLargeWhole = false
    /// The private response's bytes, relayed at its end if it was an unsolicited update.
    var privateText = ByteBuffer()
    var privateWhole = false
    /// Message content (a part, a range, an unknown item) that nobody asked for arrived in an
    /// unsolicited FETCH during the private command: the response is not relayed, since the
    /// partial-content decision was never made for it.
    var privateContent = false
    var privateMessage: ByteBuffer?

    var fetch: IMAPFetchTracker? {
        if case .fetch(let tracker) = kind { return tracker }
        return nil
    }
}

/// Builds the server response being read, segment by segment and literal by literal. The
/// session decides where each literal goes; the assembler keeps the bytes and the bookkeeping
/// and hands the response over, complete, at its end.
struct IMAPResponseAssembler: Sendable {
    private(set) var response: IMAPServerResponse?

    var isIdle: Bool { response == nil }
    var isPrivate: Bool { response?.isPrivate == true }

    /// Bytes of literals being collected: held for the client until decided.
    var bufferedBytes: Int { (response?.collected.readableBytes ?? 0) + (response?.privateText.readableBytes ?? 0) }

    /// The kind of the response a segment belongs to: a new response on a first segment (or
    /// when none is being read), the current one's otherwise.
    mutating func kind(of text: ByteBuffer, first: Bool, privateFetchRunning: Bool) -> IMAPResponseKind {
        if !first, let kind = response?.kind { return kind }
        let kind = IMAPResponseKind(firstSegment: text)
        response = IMAPServerResponse(kind: kind, isPrivate: privateFetchRunning && kind.isFetch)
        return kind
    }

    /// Follows a FETCH response's items through one segment's text: the role of the literal
    /// that ends it, if any.
    mutating func fetchRole(_ text: ByteBuffer, endsWithLiteral: Bool) -> IMAPFetchLiteralRole? {
        guard var tracker = response?.fetch else { return nil }
        let role = tracker.consume(IMAPTokenizer.tokenize(text.readableBytesView), endsWithLiteral: endsWithLiteral)
        response?.kind = .fetch(tracker)
        return role
    }

    mutating func route(to sink: IMAPLiteralSink) {
        response?.sink = sink
    }

    mutating func report(_ reason: MailUncheckedReason, withheld: Bool) {
        response?.reports.append((reason, withheld))
    }

    mutating func noteTooLargeWhole() {
        response?.tooLargeWhole = true
    }

    /// Text of a private FETCH response (kept until its end shows whether it is relayed).
    mutating func keepPrivateText(_ segment: ByteBuffer) {
        var segment = segment
        response?.privateText.writeBuffer(&segment)
    }

    /// The private response carries a whole message; content that is not one was seen.
    mutating func notePrivateWhole() { response?.privateWhole = true }
    mutating func notePrivateContent() { response?.privateContent = true }

    /// Literal bytes: the bytes to send to the client now, if they are streamed.
    mutating func literalBytes(_ chunk: ByteBuffer, headLimit: Int) -> ByteBuffer? {
        var chunk = chunk
        switch response?.sink {
        case .hold?, .privateMessage?:
            response?.collected.writeBuffer(&chunk)
        case .head?:
            let room = headLimit - (response?.collected.readableBytes ?? 0)
            if room > 0, var slice = chunk.readSlice(length: min(room, chunk.readableBytes)) {
                response?.collected.writeBuffer(&slice)
            }
        case .privateText?:
            response?.privateText.writeBuffer(&chunk)
        case .discard?:
            break
        case .stream?, nil:
            return chunk
        }
        return nil
    }

    /// The literal is complete: a held literal to queue, if it was one.
    mutating func literalEnd() -> (MailCheckID, IMAPHeldLiteral)? {
        guard let sink = response?.sink else { return nil }
        response?.sink = nil
        let collected = response?.collected ?? ByteBuffer()
        response?.collected = ByteBuffer()
        switch sink {
        case .hold(let id, let markerBytes, let marker, let role):
            response?.holds.append((id, role))
            return (id, IMAPHeldLiteral(markerBytes: markerBytes, marker: marker, literal: collected, role: role))
        case .head(let id):
            response?.replacements.append((id, Array(collected.readableBytesView)))
        case .privateMessage:
            response?.privateMessage = collected
        case .stream, .discard, .privateText:
            break
        }
        return nil
    }

    /// The response is complete (or abandoned): hands it over.
    mutating func finish() -> IMAPServerResponse? {
        defer { response = nil }
        return response
    }
}
