import NIOCore

// The server side, segment by segment: what each line segment teaches the session and where
// the literal after it goes (streamed, held for a check, decided from the verdict cache, dropped).
extension IMAPRelaySession {
    mutating func serverSegment(_ segment: ByteBuffer, textLength: Int, literal: IMAPLiteralMarker?,
                                first: Bool, actions: inout [Action]) -> CloseReason? {
        let text = segment.getSlice(at: segment.readerIndex, length: textLength) ?? ByteBuffer()
        var segment = segment
        switch assembler.kind(of: text, first: first, privateFetchRunning: privateFetch.isRunning) {
        case .status(let tag, let status):
            if first, tag == nil, status == "OK",
               let value = IMAPResponseKind.responseCodeNumber("UIDVALIDITY", in: String(buffer: text)) {
                mailbox.noteUIDValidity(value)  // of the mailbox being selected
            }
            if let tag, privateFetch.isOwn(tag: tag) {
                // The private command's tagged reply: never relayed.
                finishResponse(&actions)
                return takePendingClose()
            }
            if first, let stripped = IMAPCapabilityFilter.strip(line: Array(segment.readableBytesView)) {
                segment = ByteBuffer(bytes: stripped)
            }
        case .other:
            if first, let stripped = IMAPCapabilityFilter.strip(line: Array(segment.readableBytesView)) {
                segment = ByteBuffer(bytes: stripped)
            }
        case .continuation:
            if first { commands.serverContinuation() }
        case .fetch, .exists, .expunge, .vanished:
            break
        }
        let role = assembler.fetchRole(text, endsWithLiteral: literal != nil)
        if assembler.isPrivate {
            privateSegment(segment, literal: literal, role: role, actions: &actions)
            return takePendingClose()
        }
        guard let literal else {
            connection.output.append(segment)
            finishResponse(&actions)
            return takePendingClose()
        }
        routeLiteral(literal, role: role, segment: segment, text: text)
        return nil
    }

    /// Decides where a FETCH literal of the client's own responses goes, and queues the segment
    /// before it (with the server's marker, or an empty literal's in its place).
    private mutating func routeLiteral(_ literal: IMAPLiteralMarker, role: IMAPFetchLiteralRole?, segment: ByteBuffer, text: ByteBuffer) {
        let fits = literal.length <= configuration.maxLiteralSize
        let empty = ByteBuffer(bytes: IMAPLiteralMarker(length: 0, binary: literal.binary).wireBytes)
        let markerBytes = segment.getSlice(at: segment.readerIndex + text.readableBytes,
                                           length: segment.readableBytes - text.readableBytes) ?? ByteBuffer()
        guard let role else {
            connection.output.append(segment)
            assembler.route(to: .stream)
            return
        }
        switch role {
        case .wholeMessage:
            if fits {
                connection.output.append(text)
                assembler.route(to: .hold(newCheckID(), markerBytes: markerBytes, marker: literal, role: role))
            } else if blockUnchecked {
                // Read and dropped; the notice takes its place.
                let id = newCheckID()
                connection.output.append(text)
                connection.output.hold(id, IMAPHeldLiteral(markerBytes: empty, marker: literal, literal: ByteBuffer(), role: role))
                assembler.route(to: .head(id))
                assembler.noteTooLargeWhole()
            } else {
                connection.output.append(segment)
                assembler.route(to: .stream)
                assembler.report(.tooLarge(limit: configuration.maxLiteralSize), withheld: false)
                assembler.noteTooLargeWhole()
            }
        case .partialContent(let item):
            switch currentUID().flatMap({ verdicts[mailbox.key(uid: $0)] }) {
            case .clean?:
                connection.output.append(segment)
                assembler.route(to: .stream)
            case .bad?:
                connection.output.append(text)
                connection.output.append(empty)
                assembler.route(to: .discard)
            case nil where fits:
                // The UID may come after the literal: decided when the response is complete.
                connection.output.append(text)
                assembler.route(to: .hold(newCheckID(), markerBytes: markerBytes, marker: literal, role: role))
            case .unchecked?, nil:
                assembler.report(.partialFetch(item: item), withheld: blockUnchecked)
                if blockUnchecked {
                    connection.output.append(text)
                    connection.output.append(empty)
                    assembler.route(to: .discard)
                } else {
                    connection.output.append(segment)
                    assembler.route(to: .stream)
                }
            }
        case .header, .other:
            connection.output.append(segment)
            assembler.route(to: .stream)
        }
    }

    /// A segment of a FETCH response during the private command. Its whole message goes to the
    /// check; a response without one (an unsolicited update) is relayed when complete.
    private mutating func privateSegment(_ segment: ByteBuffer, literal: IMAPLiteralMarker?, role: IMAPFetchLiteralRole?,
                                         actions: inout [Action]) {
        guard let literal else {
            assembler.keepPrivateText(segment)
            finishResponse(&actions)
            return
        }
        if case .wholeMessage? = role {
            assembler.notePrivateWhole()
            assembler.route(to: literal.length <= configuration.maxLiteralSize ? .privateMessage : .discard)
        } else {
            if case .partialContent? = role { assembler.notePrivateContent() }
            assembler.keepPrivateText(segment)
            assembler.route(to: .privateText)
        }
    }

    /// The UID of the FETCH response being read, from the response or the sequence mapping;
    /// nil while a selection changes (the response may be about either mailbox).
    private func currentUID() -> UInt32? {
        guard !commands.selectionInProgress, let tracker = assembler.response?.fetch else { return nil }
        return tracker.uid ?? tracker.sequence.flatMap { mailbox.uid(sequence: $0) }
    }

    func ref(for response: IMAPServerResponse) -> IMAPMessageRef {
        let tracker = response.fetch
        return mailbox.ref(sequence: tracker?.sequence, uid: tracker?.uid)
    }
}
