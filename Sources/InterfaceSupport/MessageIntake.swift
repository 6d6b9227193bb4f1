import MailD
import NIOCore

/// The message of the request a filter connection is reading (spamd, rspamd, clamd's
/// INSTREAM): collected from its first piece on, in memory up to the profile's spool threshold
/// and spooled past it, with reading paused while the spool catches up; then finished for the
/// check, or dropped with the connection. Used on the connection's event loop only.
public struct MessageIntake {
    let profiles: ProfileCache
    let spoolDirectory: String
    private var collector: MessageCollector?

    public init(profiles: ProfileCache, spoolDirectory: String) {
        self.profiles = profiles
        self.spoolDirectory = spoolDirectory
    }

    /// Adds a piece; the threshold is the profile's at the first piece. `resume` is asked
    /// before reading turns on again (see `ReadPause`).
    public mutating func collect(_ piece: ByteBuffer, context: ChannelHandlerContext, resume: @escaping () -> Bool = { true }) {
        if collector == nil {
            collector = MessageCollector(threshold: profiles.current.spoolThreshold, directory: spoolDirectory,
                                         eventLoop: context.eventLoop)
        }
        if let drained = collector!.append(piece) { ReadPause.pause(context, until: drained, resume: resume) }
    }

    /// The message is complete (a request without one gets an empty message); the next
    /// piece starts another.
    public mutating func finish(on eventLoop: any EventLoop) -> CompleteMessage {
        let collector = self.collector ?? MessageCollector(threshold: .max, directory: spoolDirectory, eventLoop: eventLoop)
        self.collector = nil
        return CompleteMessage(prefix: collector.prefix, size: collector.count, inMemory: !collector.isSpooled,
                               source: collector.finish())
    }

    /// Drops what was collected (an error answered, the connection gone).
    public mutating func discard() {
        collector?.discard()
        collector = nil
    }
}

/// A message read to its end, on its way to the check.
public struct CompleteMessage: Sendable {
    /// Its first bytes, kept even when spooled (the envelope lines of Exim's mbox form).
    public let prefix: [UInt8]
    /// Its size, and whether it is held in memory (not spooled): where it is checked
    /// (`CheckPlacement`).
    public let size: Int
    public let inMemory: Bool
    /// The executor to check it on: its connection's loop when it is small and in memory.
    public func checkExecutor(on loop: any EventLoop) -> EventLoopTaskExecutor? {
        CheckPlacement.executor(forMessageOf: size, inMemory: inMemory, on: loop)
    }

    /// Where it is once every spool write is done; nil when the spool file could not be written.
    let source: EventLoopFuture<MessageSource?>

    /// Runs `check` on the message (nil: it could not be spooled), then removes its spool
    /// file: a reply that sends the file back has opened it by then and still reads it.
    public func check<Result>(_ check: (MessageSource?) async -> Result) async -> Result {
        let source = (try? await self.source.get()) ?? nil
        defer { MessageCollector.remove(source) }
        return await check(source)
    }
}
