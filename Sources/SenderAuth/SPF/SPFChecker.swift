import DNS

/// SPF (RFC 7208) for the envelope sender and the HELO name: the entry point MailD calls.
/// Every check is bounded: by the RFC's limits (10 DNS-querying terms, 2 void lookups, 10 MX
/// or PTR names), by the resolver's per-query timeout, and by `deadline` for the whole check
/// (no query starts after it; the check is then a `temperror`).
public struct SPFChecker: Sendable {
    public let lookup: any DNSLookup
    public var deadline: Duration
    /// `%{r}`: the name of the receiving host, for explanations.
    public var receiver: String

    public init(lookup: any DNSLookup, deadline: Duration = .seconds(20), receiver: String = "unknown") {
        self.lookup = lookup
        self.deadline = deadline
        self.receiver = receiver
    }

    /// The MAIL FROM identity (RFC 7208 §2.4). An empty reverse-path (a bounce) checks
    /// `postmaster@<helo>`, as the RFC says.
    public func check(ip: String, sender: String, helo: String) async -> SPFCheck {
        let identity = sender.isEmpty ? "postmaster@" + helo : sender
        let domain = identity.lastIndex(of: "@").map { String(identity[identity.index(after: $0)...]) } ?? identity
        return await checkHost(ip: ip, domain: domain, sender: identity, helo: helo)
    }

    /// The HELO identity (RFC 7208 §2.3): `postmaster@<helo>` checked against the HELO name.
    public func checkHELO(ip: String, helo: String) async -> SPFCheck {
        await checkHost(ip: ip, domain: helo, sender: "postmaster@" + helo, helo: helo)
    }

    /// check_host() of RFC 7208 §4.
    public func checkHost(ip: String, domain: String, sender: String, helo: String) async -> SPFCheck {
        guard let address = SPFAddress(ip) else {
            return SPFCheck(result: .none, domain: domain, explanation: "no client address to check (\(ip))")
        }
        var local = "postmaster"
        var senderDomain = sender
        if let at = sender.lastIndex(of: "@") {
            let part = String(sender[..<at])
            if !part.isEmpty { local = part }
            senderDomain = String(sender[sender.index(after: at)...])
        }
        let evaluation = SPFEvaluation(
            lookup: lookup, address: address, sender: local + "@" + senderDomain, localPart: local,
            senderDomain: senderDomain, helo: helo, receiver: receiver,
            deadline: ContinuousClock.now.advanced(by: deadline))
        let limit = deadline
        return await Deadline.run(limit, {
            do throws(SPFEvaluation.Abort) {
                let outcome = try await evaluation.checkHost(domain)
                return SPFCheck(result: outcome.result, domain: domain, explanation: outcome.why, exp: outcome.exp)
            } catch {
                switch error {
                case .temperror(let why): return SPFCheck(result: .temperror, domain: domain, explanation: why)
                case .permerror(let why): return SPFCheck(result: .permerror, domain: domain, explanation: why)
                }
            }
        }, timedOut: { SPFCheck(result: .temperror, domain: domain, explanation: "SPF check took longer than \(limit)") })
    }
}

/// Domains SPF evaluates (RFC 7208 §4.3): multi-label, labels of 1-63 bytes, at most 253
/// bytes (a trailing dot aside). Anything else is "none" before any query.
enum SPFDomain {
    static func isValid(_ domain: String) -> Bool {
        var name = Substring(domain)
        if name.last == "." { name = name.dropLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        // An address literal (a HELO of `[192.0.2.1]`, or a bare address) names no domain.
        // (On the bytes: `contains("[")` would be Foundation's range(of:), for every message.)
        guard !name.utf8.contains(UInt8(ascii: "[")), SPFAddress(String(name)) == nil else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty && $0.utf8.count <= 63 }
    }

    /// A macro expansion longer than 253 bytes loses labels on the left (§7.3).
    static func shortened(_ name: String) -> String {
        var text = Substring(name)
        while text.last == "." { text = text.dropLast() }
        while text.utf8.count > 253, let dot = text.firstIndex(of: ".") {
            text = text[text.index(after: dot)...]
        }
        return String(text)
    }
}
