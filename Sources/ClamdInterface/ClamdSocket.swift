import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import NIOCore
import NIOPosix

/// What the clamd interface needs: the core, the `[ClamD]` settings in force, a spool.
public struct ClamdService: FilterService {
    public let core: MailCore
    public let settings: SettingsStore
    public let profiles: ProfileCache
    public let spoolDirectory: String
    public let logger: Logger
    /// Tests: see `ConnectionChecks.hook`.
    var checkHook: (@Sendable () async -> Void)?

    public init(core: MailCore, settings: SettingsStore, spoolDirectory: String, logger: Logger) {
        self.core = core
        self.settings = settings
        self.profiles = ProfileCache(store: settings, name: "ClamD")
        self.spoolDirectory = spoolDirectory
        self.logger = logger
    }

    /// `[ClamD]` values a connection keeps from its start.
    struct Settings {
        var readTimeout: TimeAmount
        var streamMaxLength: Int
        var scanDirectories: [String]
    }

    var current: Settings {
        let clamD = settings.current.values.clamD
        return Settings(readTimeout: .milliseconds(clamD.readTimeout.milliseconds),
                        streamMaxLength: Int(clamD.streamMaxLength.bytes),
                        scanDirectories: clamD.scanDirectories)
    }

    /// `ClamAV 1.4.6/<db version>/<date> (Moat clamd interface)`, as clamd answers VERSION.
    public var version: String {
        let info = core.scanner.signatureInfo
        return "ClamAV \(info.engineVersion)/\(info.databaseVersion)/\(ClamdService.startedText) (Moat clamd interface)"
    }

    static let started = Date()

    /// `started` as clamd writes its database date, formatted once: every connection's session
    /// carries the VERSION answer, and localtime and strftime cost more than the rest of it.
    static let startedText: String = {
        var time = time_t(started.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S %Y", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}

/// The clamd-compatible socket: `[ClamD] ClamdSocket`, component "ClamD".
public enum ClamdSocket: FilterSocket {
    public static let component = "ClamD"

    /// The answer past `[ClamD] MaxConnections`: an error line (before the command is read,
    /// so LF-terminated); Exim defers, clamav-milter applies its OnFail.
    public static var busyReply: [UInt8] { Array("Too many connections, try again later. ERROR\n".utf8) }

    /// The pipeline of one connection, with the `[ClamD]` settings in force when it starts.
    public static func initialize(_ channel: any Channel, service: ClamdService) -> EventLoopFuture<Void> {
        let settings = service.current
        return channel.eventLoop.flatSubmit {
            let hold = InputHold()
            let bound = NIOLoopBound(hold, eventLoop: channel.eventLoop)
            return FilterPipeline.install(on: channel, readTimeout: settings.readTimeout, hold: hold) { sync in
                try sync.addHandler(ByteToMessageHandler(ClamdRequestDecoder(maxStreamLength: settings.streamMaxLength)))
                try sync.addHandler(ClamdHandler(service: service, settings: settings, hold: bound.value))
            }
        }
    }
}

final class ClamdHandler: FilterConnectionHandler {
    typealias InboundIn = ClamdRequestPart
    typealias OutboundOut = ByteBuffer

    let service: ClamdService
    let settings: ClamdService.Settings
    var session: ClamdSession
    var work: FilterWork
    let hold: InputHold

    init(service: ClamdService, settings: ClamdService.Settings, hold: InputHold) {
        self.service = service
        self.settings = settings
        self.hold = hold
        self.session = ClamdSession(version: service.version)
        self.work = FilterWork(for: service, checkHook: service.checkHook)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        work.end()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(session.received(unwrapInboundIn(data)), context: context)
    }

    func readTimedOut(context: ChannelHandlerContext) { perform(session.timedOut(), context: context) }
    func inputClosed(context: ChannelHandlerContext) { perform(session.inputClosed(), context: context) }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func perform(_ actions: [ClamdSession.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .reply(let text):
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
            case .collect(let piece):
                // A scan pauses reading too; then its end turns reading on again.
                work.message.collect(piece, context: context) { [weak self] in self.map { !$0.session.busy } ?? false }
            case .scanStream(let tag):
                let message = work.message.finish(on: context.eventLoop)
                run(tag, on: message.checkExecutor(on: context.eventLoop), context: context) { service in
                    await message.check { source in
                        guard let source else { return ["stream: cannot write to the spool directory. ERROR"] }
                        return ["stream: " + (await ClamdHandler.result(service, source))]
                    }
                }
            case .scanPath(let path, let kind, let tag):
                let directories = settings.scanDirectories
                run(tag, context: context) { service in
                    await ClamdHandler.scan(path: path, kind: kind, allowed: directories, service: service)
                }
            case .close:
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        }
    }

    /// Runs a check off the event loop, cancelled if the client hangs up; what an IDSESSION
    /// client sends meanwhile is held (`InputHold`: a little in memory, the rest in the socket).
    private func run(_ tag: ClamdSession.Tag, on executor: EventLoopTaskExecutor? = nil, context: ChannelHandlerContext,
                     _ scan: @escaping @Sendable (ClamdService) async -> [String]) {
        let service = service
        hold.hold()
        work.check(on: context.eventLoop, executor: executor) { await scan(service) } then: { [self] lines in
            perform(session.finished(lines, tag: tag), context: context)
            hold.release()
        }
    }

    /// `OK`, `<Name> FOUND` or `<reason> ERROR` for one message or file.
    static func result(_ service: ClamdService, _ source: MessageSource) async -> String {
        let report = await service.core.check(envelope: Envelope(source: .clamd), message: source, profile: service.profiles.current,
                                                scoresSpam: false)
        // Moat failed (spool): an error whatever was found so far; Exim defers, clamav-milter
        // applies its OnFail.
        if report.localFailure != nil, report.status != .threat { return "Local error in the mail filter. ERROR" }
        switch report.status {
        case .threat:
            return "\(report.threats[0].name) FOUND"
        case .clean:
            return "OK"
        case .unchecked:
            // As clamd: limits, encryption and odd structure are not errors (a rule-less
            // scanner cannot refuse); a time-out or an engine failure is, so the client retries.
            if let transient = report.unchecked.first(where: { $0.reason == .timeout || $0.reason == .engineError }) {
                return "\(transient.description). ERROR"
            }
            return "OK"
        }
    }

    /// SCAN and friends: only inside `[ClamD] ScanDirectories`; directories recurse.
    static func scan(path: String, kind: ClamdSession.ScanKind, allowed: [String], service: ClamdService) async -> [String] {
        guard path.hasPrefix("/") else { return ["\(path): File path check failure: not an absolute path. ERROR"] }
        guard let real = realPath(path) else { return ["\(path): File path check failure: No such file or directory. ERROR"] }
        let inside = allowed.compactMap(realPath).contains { real == $0 || real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
        guard inside else { return ["\(path): Access denied (outside [ClamD] ScanDirectories). ERROR"] }
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory)
        guard isDirectory.boolValue else { return ["\(path): " + (await fileResult(real, service))] }
        var lines: [String] = []
        let files = (FileManager.default.enumerator(atPath: real)?.allObjects as? [String] ?? []).sorted()
        for file in files {
            let full = real + "/" + file
            var dir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue else { continue }
            let result = await fileResult(full, service)
            if result != "OK" {
                lines.append("\(full): \(result)")
                if kind == .scan, result.hasSuffix("FOUND") { break }
            }
        }
        return lines.isEmpty ? ["\(path): OK"] : lines
    }

    static func fileResult(_ path: String, _ service: ClamdService) async -> String {
        guard FileManager.default.isReadableFile(atPath: path) else { return "Access denied. ERROR" }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size == 0 { return "Empty file" }
        return await result(service, .file(path: path))
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
