import Foundation
import MoatConfig
import Synchronization

/// One verdict on a message in which threats were found, as the event log line says it.
public struct ThreatEvent: Sendable, Codable, Equatable {
    public var time: Date
    /// The interface whose rules applied (Milter, Spamd, Rspamd, LinuxFirewall, ...).
    public var interface: String
    /// pass, reject, tempfail, discard, repack.
    public var action: String
    /// Each threat as `Name (Category) in <part> "filename"`.
    public var threats: [String]
    public var sender: String?
    public var recipients: [String]
    public var subject: String?
    public var messageId: String?
    public var queueId: String?
    public var client: String?
    /// Why the action was taken (the deciding rule, or a Block switch).
    public var reason: String

    public init(time: Date, interface: String, action: String, threats: [String], sender: String? = nil,
                recipients: [String] = [], subject: String? = nil, messageId: String? = nil, queueId: String? = nil,
                client: String? = nil, reason: String) {
        self.time = time
        self.interface = interface
        self.action = action
        self.threats = threats
        self.sender = sender
        self.recipients = recipients
        self.subject = subject
        self.messageId = messageId
        self.queueId = queueId
        self.client = client
        self.reason = reason
    }
}

/// The event log writes one line per verdict to the log, which moatd does not read back; the
/// console shows the last threats from this bounded ring instead, fed at the same place. It
/// starts empty at every start of moatd.
public final class RecentThreats: Sendable {
    public let capacity: Int
    private let events = Mutex<[ThreatEvent]>([])

    public init(capacity: Int = 200) {
        self.capacity = max(1, capacity)
    }

    /// Keeps the decision when its message carried a threat.
    func record(_ decision: Decision, at time: Date = Date()) {
        let report = decision.report
        let threats = EventLog.threatTexts(report)
        guard !threats.isEmpty else { return }
        // Fields from peers and messages, made safe once for every page and API that shows them.
        func safe(_ text: String?) -> String? { text.map { LogText.escape($0) } }
        let event = ThreatEvent(time: time, interface: report.profile, action: EventLog.actionName(decision.action),
                                threats: threats.map { LogText.escape($0) }, sender: safe(report.envelope.sender),
                                recipients: report.envelope.recipients.map { LogText.escape($0) },
                                subject: safe(report.subject), messageId: safe(report.messageId), queueId: safe(report.envelope.queueId),
                                client: safe(report.envelope.clientAddress), reason: LogText.escape(decision.reason))
        events.withLock { list in
            list.append(event)
            if list.count > capacity { list.removeFirst(list.count - capacity) }
        }
    }

    /// Newest first.
    public func latest(_ limit: Int? = nil) -> [ThreatEvent] {
        let all = events.withLock { $0 }.reversed()
        return Array(limit.map { all.prefix($0) } ?? all[...])
    }
}
