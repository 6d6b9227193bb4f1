import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import NIOCore
import NIOPosix

/// What the spamd interface needs to answer: the core, the profile in force, limits.
public typealias SpamdService = SpamCheckService

/// The spamd interface's socket: `[MailD] SpamdSocket`, component "MailD.Spamd".
public enum SpamdSocket: FilterSocket {
    public static let component = "MailD.Spamd"

    /// The answer past SpamdMaxConnections: an error line Exim defers on and spamc reports.
    public static var busyReply: [UInt8] { Array(SpamdError(.tempFail, "EX_TEMPFAIL too many connections, try again later").line.utf8) }

    /// The pipeline of one connection.
    public static func initialize(_ channel: any Channel, service: SpamdService) -> EventLoopFuture<Void> {
        FilterPipeline.install(on: channel, readTimeout: service.limits.readTimeout) { sync in
            try sync.addHandler(ByteToMessageHandler(SpamdRequestDecoder(limits: service.limits)))
            try sync.addHandler(SpamdHandler(service: service))
        }
    }
}

/// Performs what `SpamdSession` asks for; the check runs off the event loop.
final class SpamdHandler: FilterConnectionHandler, RemovableChannelHandler {
    typealias InboundIn = SpamdRequestPart
    typealias OutboundOut = ByteBuffer

    let service: SpamdService
    var session = SpamdSession()
    var work: FilterWork
    var requestTimer: Scheduled<Void>?
    var decompression: SpamdDecompression

    init(service: SpamdService) {
        self.service = service
        self.work = FilterWork(for: service)
        self.decompression = SpamdDecompression(maxSize: service.limits.maxMessageSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        requestTimer = context.eventLoop.scheduleTask(in: service.limits.requestTimeout) {
            let (handler, context) = bound.value
            handler.perform(handler.session.timedOut(), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        requestTimer?.cancel()
        work.end()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(session.received(decompression.process(unwrapInboundIn(data))), context: context)
    }

    func readTimedOut(context: ChannelHandlerContext) { perform(session.timedOut(), context: context) }
    func inputClosed(context: ChannelHandlerContext) { perform(session.inputClosed(), context: context) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        service.logger.debug("spamd connection error: \(error)")
        context.close(promise: nil)
    }

    func perform(_ action: SpamdSession.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .collect(let piece):
            work.message.collect(piece, context: context)
        case .check(let head):
            requestTimer?.cancel()
            startCheck(head, context: context)
        case .replyAndClose(let bytes):
            requestTimer?.cancel()
            guard context.channel.isActive else { return }
            if bytes.isEmpty {
                context.close(promise: nil)
            } else {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        case .replyAndDrain(let bytes):
            work.message.discard()
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        case .close:
            requestTimer?.cancel()
            context.close(promise: nil)
        }
    }

    private func startCheck(_ head: SpamdRequestHead, context: ChannelHandlerContext) {
        let message = work.message.finish(on: context.eventLoop)
        let service = service
        let profile = service.profiles.current
        let tell = head.method == .tell ? SpamdReply.tellRequest(head).map { SpamdTell(learnedClass: $0.learnedClass, set: $0.set) } : nil
        // TELL writes the model's store to disk: on the pool, never on the loop.
        work.check(on: context.eventLoop, executor: tell == nil ? message.checkExecutor(on: context.eventLoop) : nil) {
            await message.check { source in
                await SpamdHandler.answer(head, source: source, prefix: message.prefix, tell: tell, profile: profile, service: service)
            }
        } then: { [self] reply in
            send(reply, action: session.checked(reply.bytes), context: context)
        } dropped: { reply in
            // The connection is gone: the spooled message's descriptor is closed (off the loop).
            if let fd = reply.file?.fd { NIOThreadPool.singleton.submit { _ in close(fd) } }
        }
    }

    /// The reply to a complete request: TELL's, or the check's verdict in the shape the method asks for.
    static func answer(_ head: SpamdRequestHead, source: MessageSource?, prefix: [UInt8], tell: SpamdTell?, profile: CheckProfile,
                       service: SpamdService) async -> SpamdOutgoing {
        guard let source else {
            return SpamdOutgoing(bytes: Array(SpamdError(.tempFail, "EX_TEMPFAIL cannot write the message to the spool directory").line.utf8))
        }
        if let tell { return tell.answer(head, source, service: service) }
        let mbox = MboxEnvelope.parse(prefix)
        let envelope = Envelope(source: .spamd, sender: mbox.sender, recipients: mbox.recipients)
        let decision = await service.core.decide(envelope: envelope, message: source, profile: profile)
        let verdict = SpamdVerdict(decision, threshold: profile.spamThreshold)
        let reply: SpamdOutgoing
        if case .file(let path) = source {
            reply = SpamdReply.render(head, verdict, spooled: path)
        } else {
            reply = SpamdOutgoing(bytes: SpamdReply.render(head, verdict) { MessageBytes.read(source) })
        }
        service.logger.info("spamd \(head.method.rawValue): \(decision.action)", metadata: [
            "status": "\(decision.report.status.rawValue)", "reason": "\(decision.reason)",
            "size": "\(decision.report.size)", "ms": "\(decision.report.elapsedMilliseconds)",
        ])
        return reply
    }

    /// The reply; a file part is sent after the bytes, a chunk at a time, then the connection closes.
    private func send(_ reply: SpamdOutgoing, action: SpamdSession.Action, context: ChannelHandlerContext) {
        guard let file = reply.file else { return perform(action, context: context) }
        guard case .replyAndClose(let bytes) = action, context.channel.isActive else {
            close(file.fd)
            return perform(action, context: context)
        }
        requestTimer?.cancel()
        let channel = context.channel
        context.write(wrapOutboundOut(channel.allocator.buffer(bytes: bytes)), promise: nil)
        FileStreamer.send(fd: file.fd, offset: file.offset, count: file.count, to: channel).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// What one TELL asks: learn as `learnedClass` (`Set: local`), or forget (`Remove: local`).
struct SpamdTell: Sendable {
    var learnedClass: LearnedClass?
    var set: Bool

    /// TELL: learn the message as spam or ham, or forget it.
    func answer(_ head: SpamdRequestHead, _ source: MessageSource, service: SpamdService) -> SpamdOutgoing {
        guard let bytes = MessageBytes.read(source) else {
            return SpamdOutgoing(bytes: SpamdReply.readBackError)
        }
        do {
            let outcome = try service.core.learn(bytes, as: learnedClass)
            service.logger.info("spamd TELL \(learnedClass?.rawValue ?? "forget"): \(outcome.text)")
            return SpamdOutgoing(bytes: SpamdReply.tell(head, set: set, outcome: outcome))
        } catch {
            service.logger.error("spamd TELL failed: \(error)")
            return SpamdOutgoing(bytes: Array(SpamdError(.ioError, "EX_IOERR cannot store what was learned").line.utf8))
        }
    }
}
