import InterfaceSupport
import NIOCore

/// The checked SMTP message on its way out: the added header lines, then the body from
/// memory or from its spool file.
struct Outgoing {
    var headers: [UInt8]
    var body: [UInt8]?
    var path: String?
    var size: Int
}

/// The message being streamed from its spool file, one chunk in flight at a time: the
/// socket's pace sets the reading pace.
struct Streaming: Sendable {
    var reader: SpoolReader
    var path: String
    var channel: any Channel
    var side: RelaySide
    var stuffer: DotStuffer?
    var suffix: ByteBuffer?
    var offset = 0
    var chunk = 0
    static let chunkSize = 256 * 1024
}

extension RelayShell {
    func sendMessage(to side: RelaySide, prefix: ByteBuffer?, dotStuffed: Bool, suffix: ByteBuffer?) {
        guard let outgoing, let channel = side == .server ? server : client else {
            closeBoth()
            return
        }
        var stuffer: DotStuffer? = dotStuffed ? DotStuffer() : nil
        var head = ByteBuffer()
        if let prefix { head.writeImmutableBuffer(prefix) }
        Self.put(outgoing.headers, &stuffer, into: &head)
        if let body = outgoing.body {
            head.reserveCapacity(head.readableBytes + body.count + body.count / 32 + 8)
            Self.put(body, &stuffer, into: &head)
            Self.finish(&stuffer, suffix, into: &head)
            if side == .server { lastServerActivity = .now() }
            channel.writeAndFlush(head).whenComplete { [self] result in messageWritten(result) }
            return
        }
        guard let path = outgoing.path else {
            logger.error("the spooled message disappeared")
            closeBoth()
            return
        }
        // What was checked is what goes out, byte for byte, or nothing does: a file that shrank
        // or grew under the relay is not the message.
        let expected = outgoing.size - outgoing.headers.count
        let (start, firstStuffer) = (head, stuffer)
        SpoolReader.open(path, eventLoop: client.eventLoop).whenComplete { [self] result in
            switch result {
            case .success(let reader) where reader.size == expected:
                guard !closing else { reader.close(); return }
                streaming = Streaming(reader: reader, path: path, channel: channel, side: side, stuffer: firstStuffer, suffix: suffix)
                sendNextChunk(start)
            case .success(let reader):
                reader.close()
                readBackFailed("\(reader.size) bytes instead of \(expected)")
            case .failure(let error):
                readBackFailed("\(error)")
            }
        }
    }

    private func sendNextChunk(_ first: ByteBuffer? = nil) {
        guard var state = streaming else { return }
        guard !closing else { state.reader.close(); streaming = nil; return }
        context.spoolReadHook?(state.path, state.chunk)
        state.chunk += 1
        let count = min(Streaming.chunkSize, state.reader.size - state.offset)
        streaming = state
        if count == 0 {
            let ending = state
            state.reader.currentSize().whenComplete { [self] result in
                ending.reader.close()
                streaming = nil
                guard !closing else { return }
                guard case .success(let size) = result, size == ending.reader.size else {
                    readBackFailed("the file changed while it was sent")
                    return
                }
                var out = first ?? ByteBuffer()
                var stuffer = ending.stuffer
                Self.finish(&stuffer, ending.suffix, into: &out)
                ending.channel.writeAndFlush(out).whenComplete { [self] result in messageWritten(result) }
            }
            return
        }
        state.reader.read(at: state.offset, count: count).whenComplete { [self] result in
            guard !closing else {
                // The connection closed while this chunk was read: nobody else closes the file.
                streaming?.reader.close()
                streaming = nil
                return
            }
            guard var state = streaming else { return }
            switch result {
            case .failure(let error):
                state.reader.close()
                streaming = nil
                readBackFailed("\(error)")
            case .success(let chunk):
                var out = first ?? ByteBuffer()
                if state.stuffer != nil { state.stuffer!.stuff(chunk, into: &out) } else { out.writeImmutableBuffer(chunk) }
                state.offset += count
                streaming = state
                if state.side == .server { lastServerActivity = .now() }
                state.channel.writeAndFlush(out).whenComplete { [self] result in
                    if case .failure = result {
                        streaming?.reader.close()
                        streaming = nil
                        messageWritten(result)
                    } else {
                        sendNextChunk()
                    }
                }
            }
        }
    }

    /// What was read so far must never go out as the whole message: no final dot, the next
    /// hop discards the transaction, and the client hears a temporary failure.
    private func readBackFailed(_ why: String) {
        logger.error("cannot read the spooled message back (\(why)): the transfer is aborted")
        dropMessage()
        guard !closing else { return }
        if session != nil { perform(session!.messageFailed()) } else { closeBoth() }
    }

    private static func put(_ bytes: [UInt8], _ stuffer: inout DotStuffer?, into out: inout ByteBuffer) {
        if stuffer != nil { stuffer!.stuff(bytes, into: &out) } else { out.writeBytes(bytes) }
    }

    private static func finish(_ stuffer: inout DotStuffer?, _ suffix: ByteBuffer?, into out: inout ByteBuffer) {
        if stuffer != nil { stuffer!.finish(into: &out) }
        if let suffix { out.writeImmutableBuffer(suffix) }
    }

    private func messageWritten(_ result: Result<Void, any Error>) {
        dropMessage()
        guard !closing else { return }
        if case .failure(let error) = result {
            logger.warning("sending the message failed: \(error)")
            return
        }
        if session != nil { perform(session!.messageSent()) }
    }
}
