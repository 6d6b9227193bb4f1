import Foundation
import SenderAuth

/// Sender authentication as MailD runs it: the authenticator (SPF, DKIM, DMARC, ARC,
/// blocklists over the daemon's resolver) and the name Moat signs its Authentication-Results
/// with.
public struct SenderChecks: Sendable {
    public let authenticator: any SenderAuthenticating
    /// RFC 8601 authserv-id: `[MailD] AuthServId`, the host name by default.
    public let authservId: String
    /// Seals the messages Moat changes (`ArcSealDomain`, `ArcSealSelector`, `ArcSealKey`); nil: none.
    public let sealer: ARCSealer?

    public init(authenticator: any SenderAuthenticating, authservId: String? = nil, sealer: ARCSealer? = nil) {
        self.authenticator = authenticator
        self.sealer = sealer
        self.authservId = authservId.flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
    }

    /// What the checks look at, or nil when the path carries no envelope to check: spamd and
    /// clamd clients send a message alone, `moat-ctl scan` reads files. SPF needs the client
    /// address; DKIM and DMARC could run on the message alone, but without the envelope a
    /// DMARC result would be half a result, so they are skipped together.
    func context(_ envelope: Envelope, message: [UInt8], urlHosts: [String] = []) -> SenderContext? {
        switch envelope.source {
        case .milter, .rspamd, .smtp: break
        case .spamd, .clamd, .pop3, .imap, .commandLine: return nil
        }
        guard envelope.clientAddress != nil || envelope.sender != nil else { return nil }
        return SenderContext(clientIP: envelope.clientAddress, helo: envelope.helo,
                             mailFrom: envelope.sender.map(FactsBuilder.bare), message: message, urlHosts: urlHosts,
                             executor: CheckExecution.executor)
    }

    /// The 1-based occurrences of the message's own Authentication-Results fields that claim
    /// to come from `authservId`: a sender can write them, so they go when Moat adds its own
    /// (RFC 8601 §5), or a filter downstream would take the forgery for Moat's word.
    static func forgedAuthenticationResults(_ headers: [(name: String, value: String)], authservId: String) -> [Int] {
        let fields = headers.filter { $0.name.caseInsensitiveCompare(AuthenticationResultsHeader.name) == .orderedSame }
        return fields.enumerated().compactMap { index, field in
            let id = field.value.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
            return id.caseInsensitiveCompare(authservId) == .orderedSame ? index + 1 : nil
        }
    }

    /// The `ADD_AUTH_RESULTS` header: what was found, or `none` when nothing was checked.
    static func authenticationResults(_ auth: SenderAuthentication?, authservId: String?) -> (name: String, value: String) {
        (AuthenticationResultsHeader.name,
         AuthenticationResultsHeader.value(authservId: authservId ?? ProcessInfo.processInfo.hostName,
                                           auth ?? SenderAuthentication()))
    }
}
