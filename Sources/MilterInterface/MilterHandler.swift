import Foundation
import InterfaceSupport
import Logging
import MailD
import NIOCore
import NIOPosix

/// Performs what the session decides: writes replies, stores the message as it comes, runs the
/// check off the event loop with progress packets while it runs and MilterScanTimeout as a hard
/// limit, closes on errors.
///
/// The message goes to InterfaceSupport's `MessageCollector`: in memory up to the profile's
/// SpoolThreshold, then in a private spool file created, written and removed on the thread
/// pool, never on the event loop (one slow disk would stall every connection of the loop).
/// While the spool writes are behind, reading from the MTA pauses (TCP then slows it down).
final class MilterHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = MilterCommand
    typealias OutboundOut = MilterReply

    struct Timing: Sendable {
        /// How often PROGRESS tells the MTA the check is still running.
        var progressInterval: TimeAmount = .seconds(10)
        /// Added to MilterScanTimeout before the answer goes out without the verdict: the core
        /// stops scanning at MilterScanTimeout itself and should be back well within this.
        var timeoutGrace: TimeAmount = .seconds(2)
        /// Silence from the MTA for this long, outside a check, closes the connection.
        var readTimeout: TimeAmount = .seconds(120)
        var decide: @Sendable (MailCore, Envelope, MessageSource, CheckProfile) async -> Decision
    }

    /// Where messages past their spool threshold are written, and the thread pool that does it.
    struct Spool {
        var directory: String
        var pool: NIOThreadPool
    }

    private var session: MilterSession
    private let spool: Spool
    /// The message being received, from MAIL to the end of the message.
    private var collector: MessageCollector?
    private let core: MailCore
    private let timing: Timing
    private var logger: Logger
    private var progressTask: RepeatedTask?
    private var timeoutTask: Scheduled<Void>?
    private var checkTask: Task<Void, Never>?
    private var checkStarted: NIODeadline?

    init(configuration: MilterSession.Configuration, spool: Spool, core: MailCore, timing: Timing, logger: Logger) {
        self.session = MilterSession(configuration: configuration)
        self.spool = spool
        self.core = core
        self.timing = timing
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        logger.debug("milter connection opened")
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(session.receive(unwrapInboundIn(data)), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // While Moat checks a message the MTA waits for it: that silence is ours.
            if case .checking = session.state {
                context.fireUserInboundEventTriggered(event)
                return
            }
            logger.notice("milter connection closed: nothing received for \(timing.readTimeout.nanoseconds / 1_000_000_000) s (MilterReadTimeout)",
                          metadata: context.logMetadata(session))
            stopCheck()
            dropMessage()
            session.closed()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let what: String
        if let error = error as? MilterProtocolError {
            what = error.description
        } else if error is ByteToMessageDecoderError {
            what = "the MTA closed the connection in the middle of a packet"
        } else {
            what = "\(error)"
        }
        logger.warning("milter connection closed: \(what)", metadata: context.logMetadata(session))
        stopCheck()
        dropMessage()
        session.closed()
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if session.isMidMessage {
            logger.notice("milter: the MTA closed the connection in the middle of a message; message dropped",
                          metadata: context.logMetadata(session))
        } else {
            logger.debug("milter connection closed")
        }
        stopCheck()
        dropMessage()
        session.closed()
        context.fireChannelInactive()
    }

    private func perform(_ action: MilterSession.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .reply(let replies):
            write(replies, context: context)
        case .store(let piece, let replies):
            store(piece, context: context)
            write(replies, context: context)
        case .replyUnchecked(let replies, let reason):
            stopCheck()
            dropMessage()
            logger.warning("milter message \(replies.logSummary): \(reason)", metadata: context.logMetadata(session))
            write(replies, context: context)
        case .check(let request):
            startCheck(request, context: context)
        case .close(let error):
            stopCheck()
            dropMessage()
            if let error { logger.warning("milter connection closed: \(error)", metadata: context.logMetadata(session)) }
            context.close(promise: nil)
        }
    }

    private func store(_ piece: MessagePiece, context: ChannelHandlerContext) {
        switch piece {
        case .begin(let threshold):
            dropMessage()
            // `milter-`: the name the start-up cleanup removes from the core's spool directory.
            collector = MessageCollector(threshold: threshold, directory: spool.directory, namePrefix: "milter-",
                                         eventLoop: context.eventLoop, pool: spool.pool)
        case .bytes(let bytes):
            if let drained = collector?.append(bytes) { ReadPause.pause(context, until: drained) }
        case .drop:
            // The message is gone (ABORT, too large, a new connection): so is its check, if one
            // runs; the check's task removes the spool file once it has stopped reading it.
            stopCheck()
            dropMessage()
        }
    }

    /// Forgets the message being received; its spool file is removed on the thread pool once
    /// the writes under way are done.
    private func dropMessage() {
        collector?.discard()
        collector = nil
    }

    private func write(_ replies: [MilterReply], context: ChannelHandlerContext) {
        guard !replies.isEmpty else { return }
        for reply in replies { context.write(wrapOutboundOut(reply), promise: nil) }
        context.flush()
    }

    /// The end of the message: the last bytes are stored, the spool file closed (on the pool),
    /// then the check runs. Progress packets and MilterScanTimeout count from now: they cover
    /// the last spool writes too.
    private func startCheck(_ request: MilterSession.CheckRequest, context: ChannelHandlerContext) {
        let id = request.id
        guard let collector else {
            perform(session.notStored(id: id, reason: "the message was not stored"), context: context)
            return
        }
        self.collector = nil
        // No reading to pause any more: the MTA waits for the answer.
        if request.lastBytes.readableBytes > 0 { _ = collector.append(request.lastBytes) }
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        checkStarted = .now()
        progressTask = loop.scheduleRepeatedTask(initialDelay: timing.progressInterval, delay: timing.progressInterval) { _ in
            let (handler, context) = bound.value
            guard handler.session.isChecking(id: id) else { return }
            context.writeAndFlush(handler.wrapOutboundOut(.progress), promise: nil)
        }
        let limit = TimeAmount.nanoseconds(Int64(request.profile.limits.scanTimeout.components.seconds) * 1_000_000_000
            + request.profile.limits.scanTimeout.components.attoseconds / 1_000_000_000) + timing.timeoutGrace
        let blockUnchecked = request.profile.blockUnchecked
        timeoutTask = loop.scheduleTask(in: limit) {
            let (handler, context) = bound.value
            handler.perform(handler.session.timedOut(id: id, blockUnchecked: blockUnchecked), context: context)
        }
        let pool = spool.pool
        collector.finish().assumeIsolated().whenComplete { [self] result in
            let source = (try? result.get()) ?? nil
            guard session.isChecking(id: id) else {
                // Aborted, timed out or closed while the last writes were under way.
                if case .file(let path)? = source { BlockingIO.unlink(path, pool: pool) }
                return
            }
            guard let source else {
                perform(session.notStored(id: id, reason: collector.failure ?? "the spool file could not be closed"),
                        context: context)
                return
            }
            runCheck(request, message: source, context: context)
        }
    }

    private func runCheck(_ request: MilterSession.CheckRequest, message: MessageSource, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let id = request.id
        let core = self.core
        let decide = timing.decide
        let pool = spool.pool
        let executor: EventLoopTaskExecutor?
        if case .bytes(let bytes) = message {
            executor = CheckPlacement.executor(forMessageOf: bytes.count, inMemory: true, on: loop)
        } else {
            executor = nil
        }
        checkTask = Task(executorPreference: executor) {
            let decision = await CheckExecution.$executor.withValue(executor) {
                await decide(core, request.envelope, message, request.profile)
            }
            // The check (even a cancelled one) no longer reads the file.
            if case .file(let path) = message { BlockingIO.unlink(path, pool: pool) }
            loop.execute {
                let (handler, context) = bound.value
                handler.finishCheck(id: id, decision: decision, context: context)
            }
        }
    }

    private func finishCheck(id: Int, decision: Decision, context: ChannelHandlerContext) {
        let action = session.decided(id: id, decision)
        guard case .reply(let replies) = action else { return }
        progressTask?.cancel()
        timeoutTask?.cancel()
        checkTask = nil
        let elapsed = checkStarted.map { (NIODeadline.now() - $0).nanoseconds / 1_000_000 } ?? 0
        var metadata = context.logMetadata(session)
        metadata["reason"] = "\(decision.reason)"
        metadata["ms"] = "\(elapsed)"
        let summary = "milter message \(replies.logSummary) (\(decision.action))"
        if case .pass = decision.action { logger.info("\(summary)", metadata: metadata) } else { logger.notice("\(summary)", metadata: metadata) }
        write(replies, context: context)
    }

    private func stopCheck() {
        progressTask?.cancel()
        progressTask = nil
        timeoutTask?.cancel()
        timeoutTask = nil
        checkTask?.cancel()
        checkTask = nil
    }
}

extension ChannelHandlerContext {
    fileprivate func logMetadata(_ session: MilterSession) -> Logger.Metadata {
        let context = session.logContext
        return context.isEmpty ? [:] : ["message": "\(context)"]
    }
}

extension [MilterReply] {
    /// accepted / rejected (550 ...) / ..., for log lines.
    var logSummary: String {
        for reply in self {
            switch reply {
            case .accept: return contains { if case .replaceBody = $0 { true } else { false } } ? "repacked and accepted" : "accepted"
            case .replyCode(let text): return text.hasPrefix("4") ? "tempfailed (\(text))" : "rejected (\(text))"
            case .discard: return "discarded"
            case .reject: return "rejected"
            case .tempfail: return "tempfailed"
            default: continue
            }
        }
        return "answered"
    }
}
