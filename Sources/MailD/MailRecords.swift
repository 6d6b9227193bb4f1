import Foundation
import Storage

/// moatd's `VerdictRecording`: quarantined messages and repack archives as files in the
/// quarantine directory (written before the front-end answers), their metadata and one
/// message log row per verdict queued for the database through `StorageWriter` (batched, off
/// the mail path; buffered locally while the database is down).
public final class MailRecords: VerdictRecording {
    public let files: QuarantineFiles
    /// `[Root] NodeName`.
    public let node: String
    public let writer: StorageWriter?

    public init(quarantineDirectory: String, node: String, writer: StorageWriter?) {
        files = QuarantineFiles(directory: quarantineDirectory)
        self.node = node
        self.writer = writer
    }

    public func quarantine(_ bytes: [UInt8], report: CheckReport, verdict: String, reason: String) throws -> String {
        let record = makeRecord(kind: .message, size: bytes.count, report: report, verdict: verdict, reason: reason)
        try files.write(bytes, sidecar: .init(record: record, envelope: report.envelope))
        writer?.enqueue(.quarantine(record, contentPath: files.path(record.file)))
        return record.id
    }

    public func keepArchive(_ archive: [UInt8], archiveId: String, report: CheckReport, reason: String) {
        guard !archive.isEmpty else { return }
        var record = makeRecord(kind: .archive, size: archive.count, report: report, verdict: "repack", reason: reason)
        record.messageRef = archiveId
        guard (try? files.write(archive, sidecar: .init(record: record, envelope: report.envelope))) != nil else { return }
        writer?.enqueue(.quarantine(record, contentPath: files.path(record.file)))
    }

    public func record(_ decision: Decision) {
        writer?.enqueue(.log(MessageLogEntry(decision, node: node)))
    }

    func makeRecord(kind: QuarantineRecord.Kind, size: Int, report: CheckReport, verdict: String,
                    reason: String) -> QuarantineRecord {
        let now = Date()
        let id = RecordID.make(at: now, lowercase: true)
        return QuarantineRecord(
            id: id, time: now, node: node, kind: kind, interface: report.profile,
            clientAddress: report.envelope.clientAddress, sender: report.envelope.sender,
            recipients: report.envelope.recipients, messageId: report.messageId, subject: report.subject, size: size,
            verdict: verdict, threats: EventLog.threatTexts(report), reason: reason,
            file: QuarantineFiles.relativePath(id: id, kind: kind, at: now))
    }
}

extension MessageLogEntry {
    /// The row for one decision: what the event log line says, as columns.
    public init(_ decision: Decision, node: String) {
        let report = decision.report
        let action = EventLog.actionName(decision.action)
        let verdict = decision.quarantine.map { $0.held ? "quarantine" : action + "+quarantine" } ?? action
        self.init(node: node, interface: report.profile, clientAddress: report.envelope.clientAddress,
                  sender: report.envelope.sender, recipients: report.envelope.recipients, messageId: report.messageId,
                  subject: report.subject, size: report.size, verdict: verdict, threats: EventLog.threatTexts(report),
                  spamScore: report.spam?.points,
                  spamSymbols: (report.spam?.symbols ?? []).filter { $0.score != 0 }.map(\.name),
                  reason: decision.reason, quarantineId: decision.quarantine?.id)
    }
}
