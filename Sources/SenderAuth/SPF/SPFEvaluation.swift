import DNS
import Glibc

/// One check_host() run with its recursion (include, redirect) and the counters the limits
/// of RFC 7208 §4.6.4 apply to. Used by one task, one step after another.
final class SPFEvaluation: @unchecked Sendable {
    enum Abort: Error {
        case temperror(String)
        case permerror(String)
    }

    struct Outcome {
        var result: SPFResult
        var why: String
        var exp: String?
    }

    static let maxDNSTerms = 10
    static let maxVoidLookups = 2
    static let maxNames = 10

    let lookup: any DNSLookup
    let address: SPFAddress
    let sender: String
    let localPart: String
    let senderDomain: String
    let helo: String
    let receiver: String
    let deadline: ContinuousClock.Instant
    private var dnsTerms = 0
    private var voidLookups = 0
    private var depth = 0

    init(lookup: any DNSLookup, address: SPFAddress, sender: String, localPart: String, senderDomain: String,
         helo: String, receiver: String, deadline: ContinuousClock.Instant) {
        self.lookup = lookup
        self.address = address
        self.sender = sender
        self.localPart = localPart
        self.senderDomain = senderDomain
        self.helo = helo
        self.receiver = receiver
        self.deadline = deadline
    }

    func checkHost(_ domain: String) async throws(Abort) -> Outcome {
        guard SPFDomain.isValid(domain) else { return Outcome(result: .none, why: "`\(domain)` is not a domain SPF can check") }
        // The term limit ends any include or redirect loop long before this; it guards the stack.
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDNSTerms + 2 else { throw .permerror("include/redirect nesting too deep") }
        let texts: [[UInt8]]
        let answer = try await ask(domain, .txt)
        switch answer.result {
        case .temporaryFailure(let why): throw .temperror("DNS TXT \(domain): \(why)")
        case .nxdomain: return Outcome(result: .none, why: "\(domain) does not exist")
        case .noData, .records: texts = answer.texts.filter(SPFRecord.isSPF)
        }
        guard !texts.isEmpty else { return Outcome(result: .none, why: "no SPF record at \(domain)") }
        guard texts.count == 1 else { throw .permerror("\(texts.count) SPF records at \(domain)") }
        let record: SPFRecord
        do {
            record = try SPFRecordCache.shared.record(texts[0])
        } catch {
            throw .permerror("SPF record of \(domain): \(error)")
        }
        for directive in record.directives {
            if directive.mechanism.queriesDNS { try countTerm() }
            if try await matches(directive.mechanism, domain) {
                let why = "\(domain): \(directive.text) matched"
                guard directive.qualifier == .fail else { return Outcome(result: directive.qualifier, why: why) }
                return Outcome(result: .fail, why: why, exp: await explanation(record, domain))
            }
        }
        if let redirect = record.redirect {
            try countTerm()
            let target = try await targetName(redirect, domain)
            let outcome = try await checkHost(target)
            guard outcome.result != .none else { throw .permerror("redirect=\(target): \(outcome.why)") }
            return outcome
        }
        return Outcome(result: .neutral, why: "\(domain): no mechanism matched")
    }

    private func countTerm() throws(Abort) {
        dnsTerms += 1
        guard dnsTerms <= Self.maxDNSTerms else { throw .permerror("more than \(Self.maxDNSTerms) DNS-querying terms") }
    }

    private func ask(_ name: String, _ type: DNSRecordType) async throws(Abort) -> DNSAnswer {
        guard ContinuousClock.now < deadline, !Task.isCancelled else { throw .temperror("SPF check ran out of time") }
        return await lookup.lookup(name, type)
    }

    /// Records of a mechanism's query; an empty answer counts as a void lookup (§4.6.4).
    private func records(_ name: String, _ type: DNSRecordType, countsVoid: Bool = true) async throws(Abort) -> [DNSRecord] {
        let answer = try await ask(name, type)
        switch answer.result {
        case .temporaryFailure(let why):
            throw .temperror("DNS \(type.rawValue) \(name): \(why)")
        case .nxdomain, .noData:
            if countsVoid {
                voidLookups += 1
                guard voidLookups <= Self.maxVoidLookups else { throw .permerror("more than \(Self.maxVoidLookups) void lookups") }
            }
            return []
        case .records(let records):
            return records
        }
    }

    private func matches(_ mechanism: SPFRecord.Mechanism, _ domain: String) async throws(Abort) -> Bool {
        switch mechanism {
        case .all:
            return true
        case .ip4(let network, let prefix), .ip6(let network, let prefix):
            return address.isIn(network, prefix: prefix)
        case .include(let spec):
            let target = try await targetName(spec, domain)
            let outcome = try await checkHost(target)
            switch outcome.result {
            case .pass: return true
            case .fail, .softfail, .neutral: return false
            default: throw .permerror("include:\(target): \(outcome.why)")
            }
        case .a(let spec, let v4, let v6):
            let target = spec == nil ? domain : try await targetName(spec!, domain)
            return try await addresses(target, countsVoid: true).contains { address.isIn($0, prefix: address.isIPv4 ? v4 : v6) }
        case .mx(let spec, let v4, let v6):
            let target = spec == nil ? domain : try await targetName(spec!, domain)
            let exchanges = try await records(target, .mx).compactMap { record -> String? in
                if case .mx(_, let exchange) = record { return exchange } else { return nil }
            }
            guard exchanges.count <= Self.maxNames else { throw .permerror("\(target) has more than \(Self.maxNames) MX records") }
            for exchange in exchanges where SPFDomain.isValid(exchange) {
                if try await addresses(exchange, countsVoid: false).contains(where: { address.isIn($0, prefix: address.isIPv4 ? v4 : v6) }) {
                    return true
                }
            }
            return false
        case .ptr(let spec):
            let target = (spec == nil ? domain : try await targetName(spec!, domain)).lowercased()
            return try await validatedNames().contains { name in
                let lower = name.lowercased()
                return lower == target || lower.hasSuffix("." + target)
            }
        case .exists(let spec):
            let target = try await targetName(spec, domain)
            return try await !records(target, .a).isEmpty
        }
    }

    /// The A (IPv4 client) or AAAA (IPv6 client) addresses of a name.
    private func addresses(_ name: String, countsVoid: Bool) async throws(Abort) -> [[UInt8]] {
        try await records(name, address.isIPv4 ? .a : .aaaa, countsVoid: countsVoid).compactMap { record in
            switch record {
            case .a(let bytes), .aaaa(let bytes): bytes
            default: nil
            }
        }
    }

    /// The client's names whose forward lookup gives the client's address back (§5.5): the
    /// first 10 PTR names only; a DNS error on the PTR lookup or a name's lookup just drops it.
    private func validatedNames() async throws(Abort) -> [String] {
        let names: [String]
        do {
            names = try await records(address.reverseName, .ptr).compactMap { record -> String? in
                if case .ptr(let name) = record { return name } else { return nil }
            }
        } catch {
            if case .permerror = error { throw error }
            return []
        }
        var validated: [String] = []
        for name in names.prefix(Self.maxNames) where SPFDomain.isValid(name) {
            guard ContinuousClock.now < deadline else { break }
            let answer = await lookup.lookup(name, address.isIPv4 ? .a : .aaaa)
            let found = answer.records.contains { record in
                switch record {
                case .a(let bytes), .aaaa(let bytes): address.isIn(bytes, prefix: bytes.count * 8)
                default: false
                }
            }
            if found { validated.append(name) }
        }
        return validated
    }

    /// `%{p}`: a validated name, the domain itself or one under it preferred; else "unknown".
    private func validatedName(for domain: String) async -> String {
        guard let names = try? await validatedNames(), !names.isEmpty else { return "unknown" }
        let lower = domain.lowercased()
        return names.first { $0.lowercased() == lower } ?? names.first { $0.lowercased().hasSuffix("." + lower) } ?? names[0]
    }

    func values(_ domain: String) -> SPFMacroString.Values {
        SPFMacroString.Values(
            sender: sender, localPart: localPart, senderDomain: senderDomain, domain: domain,
            address: address, helo: helo, receiver: receiver,
            timestamp: Int(Glibc.time(nil)),
            validatedName: { [self] in await validatedName(for: domain) })
    }

    /// A mechanism's or modifier's target. One with an empty label or a label over 63 bytes
    /// is no name at all: a permerror (suite cases invalid-domain-*).
    private func targetName(_ spec: SPFMacroString, _ domain: String) async throws(Abort) -> String {
        let name = await expandDomain(spec, domain)
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else {
            throw .permerror("`\(name)` is not a domain name")
        }
        return name
    }

    private func expandDomain(_ spec: SPFMacroString, _ domain: String) async -> String {
        SPFDomain.shortened(await spec.expand(values(domain)))
    }

    /// The `exp=` text for a fail (§6.2); any problem with it just means no explanation.
    private func explanation(_ record: SPFRecord, _ domain: String) async -> String? {
        guard let spec = record.explanation, ContinuousClock.now < deadline else { return nil }
        let target = await expandDomain(spec, domain)
        guard SPFDomain.isValid(target) else { return nil }
        let texts = await lookup.lookup(target, .txt).texts
        guard texts.count == 1,
              let text = try? SPFMacroString(parsing: Substring(String(decoding: texts[0], as: UTF8.self)), explanation: true)
        else { return nil }
        return await text.expand(values(domain))
    }
}
