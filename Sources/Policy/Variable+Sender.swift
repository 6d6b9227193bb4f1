/// The sender-authentication variables (issue: SPF, DKIM, DMARC, ARC, blocklists).
extension Variable {
    static func outcome<E: RawRepresentable>(_ value: E?) -> [FactValue] where E.RawValue == String {
        value.map { [.enumCase($0.rawValue)] } ?? []
    }

    static let sender: [Variable] = [
        Variable(name: "spf", kind: .enumerated(EnumDomain("SPF result", SPFOutcome.self)), isSet: false,
                 type: "SPF result",
                 meaning: "SPF (RFC 7208) of the envelope sender's domain: pass, fail, softfail, neutral, none, temperror, permerror",
                 example: "spf fail, dmarc_policy reject : REJECT \"SPF check failed\"") { s, _ in
            outcome(s.facts.sender?.spf)
        },
        Variable(name: "helo_spf", kind: .enumerated(EnumDomain("SPF result", SPFOutcome.self)), isSet: false,
                 type: "SPF result", meaning: "SPF of the HELO/EHLO name",
                 example: "helo_spf fail : TEMPFAIL") { s, _ in
            outcome(s.facts.sender?.heloSpf)
        },
        Variable(name: "dkim", kind: .enumerated(EnumDomain("DKIM result", DKIMOutcome.self)), isSet: true,
                 type: "set of DKIM result",
                 meaning: "DKIM (RFC 6376) result of each signature: pass, fail, policy, neutral, temperror, permerror; none without signatures",
                 example: "dkim fail, not dkim pass : ADD_HEADER(\"X-DKIM\", \"failed\")") { s, _ in
            s.facts.sender?.dkim.map { .enumCase($0.rawValue) } ?? []
        },
        Variable(name: "dkim_domain", kind: .text, isSet: true, type: "set of text",
                 meaning: "Signing domains (d=) of the DKIM signatures that passed",
                 example: "dkim_domain paypal.com : PASS") { s, _ in
            texts(s.facts.sender?.dkimPassDomains ?? [])
        },
        Variable(name: "dmarc", kind: .enumerated(EnumDomain("DMARC result", DMARCOutcome.self)), isSet: false,
                 type: "DMARC result",
                 meaning: "DMARC (RFC 7489) of the From domain: pass, fail, none, temperror, permerror",
                 example: "dmarc fail, dmarc_policy reject : REJECT \"DMARC policy\"") { s, _ in
            outcome(s.facts.sender?.dmarc)
        },
        Variable(name: "dmarc_policy", kind: .enumerated(EnumDomain("DMARC policy", DMARCPolicyValue.self)), isSet: false,
                 type: "DMARC policy",
                 meaning: "The policy the From domain publishes (p=, sp= for subdomains, after pct=): none, quarantine, reject; absent without a record",
                 example: "dmarc fail, dmarc_policy quarantine : ADD_HEADER(\"X-Spam-Flag\", \"YES\")") { s, _ in
            outcome(s.facts.sender?.dmarcPolicy)
        },
        Variable(name: "arc", kind: .enumerated(EnumDomain("ARC result", ARCOutcome.self)), isSet: false,
                 type: "ARC result", meaning: "ARC chain (RFC 8617) validation: pass, fail, none",
                 example: "dmarc fail, arc pass : PASS") { s, _ in
            outcome(s.facts.sender?.arc)
        },
        Variable(name: "dnsbl", aliases: ["rbl"], kind: .text, isSet: true, type: "set of text",
                 meaning: "DNS blocklists ([MailD] DnsBlocklists) that list the client address: each zone and the meanings of its answer",
                 example: "dnsbl in (zen.spamhaus.org, SBL) : REJECT \"Listed in a blocklist\"") { s, _ in
            texts(s.facts.sender?.dnsbl ?? [])
        },
        Variable(name: "uribl", kind: .text, isSet: true, type: "set of text",
                 meaning: "URI blocklists ([MailD] UriBlocklists) that list a host of the message's links: each zone and the meanings",
                 example: "uribl multi.uribl.com : REJECT \"Links to a listed domain\"") { s, _ in
            texts(s.facts.sender?.uribl ?? [])
        },
    ]
}
