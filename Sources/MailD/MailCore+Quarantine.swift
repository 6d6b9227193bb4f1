import Foundation
import Policy

extension MailCore {
    /// `QUARANTINE`: the original bytes are kept before the front-end answers. Held (no
    /// final action, or only the connection's SCAN_MAIL) means not delivered: the sender's
    /// side sees DISCARD. A message that cannot be kept is refused for now, never delivered.
    func keep(_ source: MessageSource, report: CheckReport, verdict: Verdict, action: inout FinalAction,
              reason: inout String) -> QuarantineOutcome? {
        // Moat failed on this message and already answers TEMPFAIL: the sender comes back.
        guard report.localFailure == nil else { return nil }
        let explicitPass = verdict.decidingRule != nil && verdict.action == .pass
        let held = action == .pass && !explicitPass
        let verdictName = held ? "quarantine" : EventLog.actionName(action) + "+quarantine"
        func refuse(_ why: String) -> QuarantineOutcome? {
            action = .tempfail(UncheckedPolicy.localFailureText)
            reason += "; quarantine failed: \(why)"
            return nil
        }
        guard let recorder else { return refuse("this daemon has no quarantine") }
        let bytes: [UInt8]
        switch source {
        case .bytes(let b): bytes = b
        case .file(let path):
            guard let read = SpoolFile.read(path) else { return refuse("cannot read \(path)") }
            bytes = read
        }
        do {
            let id = try recorder.quarantine(bytes, report: report, verdict: verdictName, reason: reason)
            if held { action = .discard }
            reason += "; quarantined \(id)"
            return QuarantineOutcome(id: id, held: held)
        } catch {
            return refuse("\(error)")
        }
    }
}
