import MoatConfig
import Policy

/// Turns a check's report and the envelope into the facts the rule language reads.
enum FactsBuilder {
    static func facts(_ report: CheckReport, content: MessageContent) -> MessageFacts {
        let envelope = report.envelope
        return MessageFacts(
            protocolName: protocolName(envelope.source),
            clientIP: envelope.clientAddress, clientPort: envelope.clientPort, clientHostname: envelope.clientHostname,
            serverIP: envelope.serverAddress, serverPort: envelope.serverPort,
            sniHost: envelope.sniHost, tls: envelope.tls, unwrapSsl: envelope.tls,
            helo: envelope.helo, envelopeFrom: envelope.sender.map(bare), envelopeTo: envelope.recipients.map(bare),
            messageId: report.messageId, subject: report.subject,
            headers: content.headers.map { HeaderField($0.name, $0.value) },
            bodyText: content.bodyText, messageSize: report.size,
            parts: report.parts.map { part in
                PartFacts(path: part.path, filename: part.filename, contentType: part.contentType, size: part.size,
                          threats: part.threats.compactMap(threat), unchecked: part.unchecked.map(\.policyReason))
            },
            spamScore: report.spam?.totalSpamScore, spamSymbols: report.spam?.symbols.map(\.name) ?? [],
            unchecked: report.messageUnchecked.map(\.policyReason),
            sender: report.senderAuthentication.map(SenderFacts.init))
    }

    static func threat(_ found: FoundThreat) -> ThreatFact? {
        ThreatCategory(rawValue: found.category).map { ThreatFact(name: found.name, category: $0) }
    }

    /// `<user@example.com>` as Milter gives it, `user@example.com` as rules compare it.
    static func bare(_ address: String) -> String {
        var a = Substring(address).trimmingPrefix(while: { $0 == " " })
        if a.hasPrefix("<"), a.hasSuffix(">") { a = a.dropFirst().dropLast() }
        return String(a)
    }

    static func protocolName(_ source: Envelope.Source) -> MailProtocol? {
        switch source {
        case .milter: .milter
        case .spamd: .spamd
        case .rspamd: .rspamd
        case .clamd: .clamd
        case .smtp: .smtp
        case .pop3: .pop3
        case .imap: .imap
        case .commandLine: nil
        }
    }
}

extension Substring {
    func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring { drop(while: predicate) }
}

extension UncheckedFact {
    var policyReason: Policy.UncheckedReason {
        switch reason {
        case .timeout: .timeout
        case .limitExceeded: .limitExceeded
        case .encrypted: .encrypted
        case .malformed: .malformed
        case .engineError: .engineError
        }
    }
}
