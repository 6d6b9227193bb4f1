import Storage

/// Where a decided message leaves a trace beyond the event log line: the quarantine (the
/// original message, or a repack archive, kept on disk with its metadata for the database)
/// and the message log. `MailCore` calls it; `MailRecords` is moatd's implementation.
public protocol VerdictRecording: Sendable {
    /// Keeps the original message byte for byte before the front-end answers; returns its
    /// quarantine id. Throws when the message could not be kept on disk: the core then
    /// refuses it for now rather than carry out an action without the copy.
    func quarantine(_ bytes: [UInt8], report: CheckReport, verdict: String, reason: String) throws -> String
    /// Keeps the protected archive of a repacked message (best effort: the recipient got it too).
    func keepArchive(_ archive: [UInt8], archiveId: String, report: CheckReport, reason: String)
    /// One message log row for the decision; never blocks (queued for the database).
    func record(_ decision: Decision)
}

/// What `QUARANTINE` did to a message.
public struct QuarantineOutcome: Sendable, Equatable {
    public var id: String
    /// No final action was reached: the message is kept and not delivered (until released).
    public var held: Bool
}
