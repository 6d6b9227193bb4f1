import Foundation
import SenderAuth

extension MailCore {
    /// Moat's ARC set for a message it changed (added header fields, or a repack), so that
    /// receivers that trust Moat's seal still accept the sender's authentication (RFC 8617 §5).
    /// Only front-ends that deliver the changed message seal it: the Milter and the gateway's
    /// SMTP. Nothing to seal, or a seal that cannot be made, gives no fields (the reason is
    /// logged; the message is delivered unsealed, as it would be without a seal configured).
    func arcSeal(_ decision: Decision, source: MessageSource) -> [SignedHeaderField] {
        guard let senderChecks, let sealer = senderChecks.sealer else { return [] }
        switch decision.report.envelope.source {
        case .milter, .smtp: break
        default: return []
        }
        let outgoing: [UInt8]
        switch decision.mailAction {
        case .pass:
            guard !decision.headersToAdd.isEmpty else { return [] }
            let original: [UInt8]?
            switch source {
            case .bytes(let bytes): original = bytes
            case .file(let path): original = SpoolFile.read(path)
            }
            guard let original else { return [] }
            outgoing = Array(decision.addedHeaders.map(\.line).joined().utf8) + original
        case .repack(let message, _):
            outgoing = message
        case .reject, .tempfail, .discard:
            return []
        }
        let auth = decision.report.senderAuthentication ?? SenderAuthentication()
        let results = AuthenticationResultsHeader.value(authservId: senderChecks.authservId, auth)
        do {
            return try sealer.seal(message: outgoing, authResults: results, chain: auth.arc ?? ARCCheck(result: .none))
        } catch {
            logger.notice("message not ARC-sealed: \(error)", metadata: ["message-id": "\(decision.report.messageId ?? "")"])
            return []
        }
    }
}
