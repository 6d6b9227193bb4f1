import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import NIOCore
import NIOPosix

/// What the rspamd interface needs to answer: the core, the profile in force, limits.
public typealias RspamdService = SpamCheckService

/// The rspamd interface's socket: `[MailD] RspamdSocket`, component "MailD.Rspamd".
public enum RspamdSocket: FilterSocket {
    public static let component = "MailD.Rspamd"

    /// The answer past RspamdMaxConnections: HTTP 503 (Exim's legacy parser defers on it too).
    public static var busyReply: [UInt8] {
        RspamdReply.error(RspamdError(503, "too many connections, try again later"), legacy: false)
    }

    /// The pipeline of one connection.
    public static func initialize(_ channel: any Channel, service: RspamdService) -> EventLoopFuture<Void> {
        FilterPipeline.install(on: channel, readTimeout: service.limits.readTimeout) { sync in
            try sync.addHandler(ByteToMessageHandler(RspamdRequestDecoder(limits: service.limits)))
            try sync.addHandler(RspamdHandler(service: service))
        }
    }
}

final class RspamdHandler: FilterConnectionHandler {
    typealias InboundIn = RspamdRequestPart
    typealias OutboundOut = ByteBuffer

    let service: RspamdService
    var session = RspamdSession()
    var work: FilterWork

    init(service: RspamdService) {
        self.service = service
        self.work = FilterWork(for: service)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        work.end()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(session.received(unwrapInboundIn(data)), context: context)
    }

    func readTimedOut(context: ChannelHandlerContext) {
        if session.isIdle {
            context.close(promise: nil)  // an idle keep-alive connection just ends
        } else {
            perform(session.timedOut(), context: context)
        }
    }

    /// The client's EOF ends an idle keep-alive connection; a request it cut short gets the
    /// decoder's error, and a check under way still answers.
    func inputClosed(context: ChannelHandlerContext) {
        if session.isIdle { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func perform(_ action: RspamdSession.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .collect(let piece):
            work.message.collect(piece, context: context)
        case .check(let head):
            startCheck(head, context: context)
        case .reply(let bytes, let close):
            let write = context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)))
            if close { write.whenComplete { _ in context.close(promise: nil) } }
        }
    }

    static func envelope(_ head: RspamdRequestHead) -> Envelope {
        Envelope(source: .rspamd, sender: head.header("From"), recipients: head.all("Rcpt"), helo: head.header("Helo"),
                 clientAddress: head.header("IP"), clientHostname: head.header("Hostname"),
                 queueId: head.header("Queue-Id"))
    }

    private func startCheck(_ head: RspamdRequestHead, context: ChannelHandlerContext) {
        let message = work.message.finish(on: context.eventLoop)
        let service = service
        let profile = service.profiles.current
        // Learning writes the model's store to disk: on the pool, never on the loop.
        var learns = false
        if case .http(_, let path, _) = head.kind { learns = RspamdSession.learnPaths.contains(RspamdSession.path(path)) }
        work.check(on: context.eventLoop, executor: learns ? nil : message.checkExecutor(on: context.eventLoop)) {
            await message.check { source in await RspamdHandler.answer(head, source: source, profile: profile, service: service) }
        } then: { [self] reply in
            perform(session.checked(reply), context: context)
        }
    }

    /// `/learnspam`, `/learnham`: `{"success":true}` when the model changed; a message
    /// learned before as that class gets rspamd's 208 "already learned" error.
    static func learn(_ head: RspamdRequestHead, path: String, source: MessageSource, service: RspamdService) -> [UInt8] {
        let learnedClass: LearnedClass = path == "/learnspam" ? .spam : .ham
        guard let bytes = MessageBytes.read(source) else {
            return RspamdReply.error(RspamdError(503, "cannot read the message back"), legacy: false)
        }
        do {
            let outcome = try service.core.learn(bytes, as: learnedClass)
            service.logger.info("rspamd learn \(learnedClass.rawValue): \(outcome.text)")
            if !outcome.changed {
                return RspamdReply.http(status: 208, body: RspamdReply.errorBody("the message has been already learned as \(learnedClass.rawValue), ignore it"),
                                        keepAlive: head.keepAlive)
            }
            return RspamdReply.http(status: 200, body: Array(#"{"success":true}"#.utf8), keepAlive: head.keepAlive)
        } catch {
            service.logger.error("rspamd learn failed: \(error)")
            return RspamdReply.error(RspamdError(500, "cannot store what was learned"), legacy: false)
        }
    }

    static func answer(_ head: RspamdRequestHead, source: MessageSource?, profile: CheckProfile, service: RspamdService) async -> [UInt8] {
        let legacy: Bool
        if case .legacy = head.kind { legacy = true } else { legacy = false }
        guard let source else {
            return RspamdReply.error(RspamdError(503, "cannot write the message to the spool directory"), legacy: legacy)
        }
        if case .http(_, let path, _) = head.kind, RspamdSession.learnPaths.contains(RspamdSession.path(path)) {
            return learn(head, path: RspamdSession.path(path), source: source, service: service)
        }
        let decision = await service.core.decide(envelope: envelope(head), message: source, profile: profile)
        if let failure = decision.localFailure {
            // Moat failed: an error reply, which Exim turns into a defer (a `soft reject`
            // would pass with Exim's usual `spam` condition) and rspamc reports as a failure.
            service.logger.error("rspamd check failed: \(failure)", metadata: ["queue-id": "\(head.header("Queue-Id") ?? "-")"])
            return RspamdReply.error(RspamdError(503, "local error in the mail filter, try again later"), legacy: legacy)
        }
        let verdict = RspamdVerdict(decision, addHeader: profile.spamThreshold, reject: profile.spamRejectThreshold)
        service.logger.info("rspamd check: \(decision.action)", metadata: [
            "status": "\(decision.report.status.rawValue)", "reason": "\(decision.reason)",
            "queue-id": "\(head.header("Queue-Id") ?? "-")", "ms": "\(decision.report.elapsedMilliseconds)",
        ])
        switch head.kind {
        case .legacy(_, let version):
            return RspamdReply.legacy(verdict, version: version)
        case .http(_, let path, _):
            let v1 = RspamdSession.path(path) != "/checkv2"
            return RspamdReply.http(status: 200, body: RspamdReply.json(verdict, v1: v1, milliseconds: decision.report.elapsedMilliseconds),
                                    keepAlive: head.keepAlive)
        }
    }
}
