import Foundation
import SenderAuth

/// Sender authentication as MailD runs it: the authenticator (SPF, DKIM, DMARC, ARC,
/// blocklists over the daemon's resolver) and the name Moat signs its Authentication-Results
/// with.
public struct SenderChecks: Sendable {
    public let authenticator: any SenderAuthenticating
    /// RFC 8601 authserv-id: `[MailD] AuthServId`, the host name by default.
    public let authservId: String

    public init(authenticator: any SenderAuthenticating, authservId: String? = nil) {
        self.authenticator = authenticator
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
                             mailFrom: envelope.sender.map(FactsBuilder.bare), message: message, urlHosts: urlHosts)
    }

    /// The `ADD_AUTH_RESULTS` header: what was found, or `none` when nothing was checked.
    static func authenticationResults(_ auth: SenderAuthentication?, authservId: String?) -> (name: String, value: String) {
        (AuthenticationResultsHeader.name,
         AuthenticationResultsHeader.value(authservId: authservId ?? ProcessInfo.processInfo.hostName,
                                           auth ?? SenderAuthentication()))
    }
}
