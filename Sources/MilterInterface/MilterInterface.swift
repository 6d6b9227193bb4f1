import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import NIOCore
import NIOPosix

/// The Milter interface: Postfix (`smtpd_milters`) and Sendmail (`INPUT_MAIL_FILTER`) hand
/// every message to Moat over the milter protocol (versions 2 to 6) and get the verdict back
/// at the end of the message.
public enum MilterInterface {
    public struct Options: Sendable {
        public var maxPacketSize = MilterCommandDecoder.defaultMaxPacketSize
        public var maxMessageSize = 512 << 20
        public var progressInterval: TimeAmount = .seconds(10)
        public var timeoutGrace: TimeAmount = .seconds(2)
        /// `MilterReadTimeout`: a connection on which the MTA sends nothing for this long,
        /// while no check of Moat's is running, is closed (clamav-milter's ReadTimeout: 120 s).
        public var readTimeout: TimeAmount = .seconds(120)
        /// `MilterMaxConnections`: past it a new connection is closed at once (milter has no
        /// answer before negotiation; Postfix then applies milter_default_action).
        public var maxConnections = InterfaceListener.defaultMaxConnections
        /// The check; `MailCore.decide` unless a test puts something around it.
        public var decide: @Sendable (MailCore, Envelope, MessageSource, CheckProfile) async -> Decision = { core, envelope, message, profile in
            await core.decide(envelope: envelope, message: message, profile: profile)
        }
        /// The thread pool that creates, writes and removes spool files (a test holds it to see
        /// that the event loop never waits for the disk).
        public var spoolPool: NIOThreadPool = .singleton
        public init() {}
    }

    /// The listener moatd runs for `[MailD] MilterSocket`.
    public static func listener(address: ListenAddress, settings: SettingsStore, core: MailCore, spoolDirectory: String,
                                group: any EventLoopGroup, logger: Logger, options: Options = Options()) -> InterfaceListener {
        let profiles = ProfileCache(store: settings, name: "Milter")
        return listener(address: address, profile: { profiles.current }, core: core, spoolDirectory: spoolDirectory,
                        group: group, logger: logger, options: options)
    }

    /// The same with a fixed profile source (tests).
    public static func listener(address: ListenAddress, profile: @escaping @Sendable () -> CheckProfile, core: MailCore,
                                spoolDirectory: String, group: any EventLoopGroup, logger: Logger,
                                options: Options = Options()) -> InterfaceListener {
        InterfaceListener(name: "MailD.Milter", address: address, group: group, logger: logger,
                          maxConnections: options.maxConnections, metrics: core.metrics) { channel in
            channel.eventLoop.makeCompletedFuture {
                try addHandlers(to: channel.pipeline.syncOperations, profile: profile, core: core,
                                spoolDirectory: spoolDirectory, logger: logger, options: options)
            }
        }
    }

    /// The pipeline of one milter connection: packet decoder, reply encoder, session.
    public static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, profile: @escaping @Sendable () -> CheckProfile,
                                   core: MailCore, spoolDirectory: String, logger: Logger, options: Options) throws {
        let configuration = MilterSession.Configuration(maxMessageSize: options.maxMessageSize, profile: profile)
        let timing = MilterHandler.Timing(progressInterval: options.progressInterval, timeoutGrace: options.timeoutGrace,
                                          readTimeout: options.readTimeout, decide: options.decide)
        try pipeline.addHandler(IdleStateHandler(readTimeout: options.readTimeout))
        try pipeline.addHandler(ByteToMessageHandler(MilterCommandDecoder(maxPacketSize: options.maxPacketSize)))
        try pipeline.addHandler(MessageToByteHandler(MilterReplyEncoder()))
        try pipeline.addHandler(MilterHandler(configuration: configuration,
                                              spool: .init(directory: spoolDirectory, pool: options.spoolPool),
                                              core: core, timing: timing, logger: logger))
    }
}
