import Foundation
import MailD
import Storage

/// The quarantine as the control socket and the console use it: list, show, release, delete.
/// Any node sharing the database can do each of them for any node's item: the bytes come
/// from this node's file when it kept them, else from the copy in the shared database.
public struct QuarantineService: Sendable {
    let storage: GatewayStorage

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public func list(_ query: QuarantineQuery) async throws -> [QuarantineRecord] {
        try await storage.store.listQuarantine(query)
    }

    public func show(id: String) async throws -> QuarantineDetail {
        let record = try await find(id)
        let (bytes, source) = try await content(of: record)
        return QuarantineDetail(record: record, bytes: bytes, source: source)
    }

    /// The kept bytes (a message as received, or an archive), for handing an attachment back.
    public func bytes(id: String) async throws -> [UInt8] {
        let record = try await find(id)
        guard let bytes = try await content(of: record).bytes else { throw missing(record) }
        return bytes
    }

    /// Sends the message to `QuarantineReleaseRelay` for its original recipients with an
    /// `X-Moat-Released-By` header, once: the release is claimed in the database first (a
    /// second administrator, on any node, is told who released it), and given back when the
    /// relay does not take the message. The release is logged as a message log row.
    public func release(id: String, by who: String) async throws -> ReleaseOutcome {
        guard let relay = storage.settings().releaseRelay else {
            throw Failure(description: "QuarantineReleaseRelay is empty: set it to the host:port of the SMTP server released messages go to")
        }
        let record = try await find(id)
        guard record.kind == .message else {
            throw Failure(description: "\(id) is a repack archive, not a message: fetch it and hand the attachment back")
        }
        let (found, _) = try await content(of: record)
        guard let bytes = found else { throw missing(record) }
        let now = Date()
        guard try await storage.store.claimRelease(id: id, by: who, at: now) else {
            let current = try await storage.store.quarantined(id: id)
            throw Failure(description: "\(id) was released already by \(current?.releasedBy ?? "someone") at \(current?.releasedAt.map { "\($0)" } ?? "an unknown time")")
        }
        let header = "X-Moat-Released-By: \(Self.headerSafe(who)) on \(Self.headerSafe(storage.node)) at \(Self.rfc5322(now)) (quarantine \(id))"
        let sender = ReleaseSender(host: relay.host, port: relay.port, heloName: storage.node)
        let outcome: ReleaseSender.Outcome
        do {
            outcome = try await Self.onThread {
                try sender.send(bytes, sender: record.sender, recipients: record.recipients, header: header)
            }
        } catch {
            try? await storage.store.unclaimRelease(id: id, by: who)
            throw Failure(description: "release of \(id) failed: \(error)")
        }
        let relayText = "\(relay.host):\(relay.port)"
        log(record, event: "release", verdict: "released",
            reason: "released by \(who) to \(relayText) for \(outcome.accepted.joined(separator: ", "))"
                + (outcome.refused.isEmpty ? "" : "; refused: \(outcome.refused.joined(separator: ", "))")
                + "; relay: \(outcome.finalReply)")
        return ReleaseOutcome(id: id, releasedBy: who, relay: relayText, accepted: outcome.accepted, refused: outcome.refused,
                              relayReply: outcome.finalReply)
    }

    /// Removes the row, the database copy and, when this node kept it, the files.
    public func delete(id: String, by who: String) async throws {
        let record = try await find(id)
        guard try await storage.store.deleteQuarantined(id: id) else { throw Failure(description: "no quarantined item \(id)") }
        if record.node == storage.node { storage.records.files.remove(record.file) }
        log(record, event: "delete", verdict: "deleted", reason: "deleted by \(who)")
    }

    private func find(_ id: String) async throws -> QuarantineRecord {
        guard let record = try await storage.store.quarantined(id: id) else { throw Failure(description: "no quarantined item \(id)") }
        return record
    }

    private func content(of record: QuarantineRecord) async throws -> (bytes: [UInt8]?, source: String?) {
        if let bytes = storage.records.files.read(record.file) { return (bytes, "file") }
        if let bytes = try await storage.store.content(id: record.id) { return (bytes, "database") }
        return (nil, nil)
    }

    private func missing(_ record: QuarantineRecord) -> Failure {
        Failure(description: "the bytes of \(record.id) are on node \(record.node) only (not in this node's quarantine directory nor in the database)")
    }

    private func log(_ record: QuarantineRecord, event: String, verdict: String, reason: String) {
        storage.writer.enqueue(.log(MessageLogEntry(
            node: storage.node, event: event, interface: record.interface, clientAddress: record.clientAddress,
            sender: record.sender, recipients: record.recipients, messageId: record.messageId, subject: record.subject,
            size: record.size, verdict: verdict, threats: record.threats,
            reason: reason + " (kept by \(record.node))", quarantineId: record.id)))
    }

    /// One line, printable: who released comes from a peer's name or a login.
    static func headerSafe(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init).prefix(200))
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
