import CUnbound
import DNS
import Foundation

extension UnboundResolver {
    /// Options, upstream and trust anchors, before the first query (libunbound freezes its
    /// configuration then).
    static func configure(_ context: OpaquePointer, _ configuration: ResolverConfiguration) throws(SetupError) {
        let cache = String(max(configuration.cacheBytes, 65536))
        let options: [(String, String)] = [
            // Caching per TTL, bounded in memory and in time.
            ("msg-cache-size:", cache), ("rrset-cache-size:", cache), ("key-cache-size:", cache),
            ("neg-cache-size:", String(max(configuration.cacheBytes / 4, 65536))),
            ("cache-max-ttl:", String(configuration.maxCacheTTL)),
            ("cache-max-negative-ttl:", "3600"),
            // A resolver on the machine itself (systemd-resolved, a local unbound, the tests'
            // server) is what `system` and forwarders usually are.
            ("do-not-query-localhost:", "no"),
            // The reason of a bogus answer reaches `why_bogus` (not the log: verbosity 0).
            ("val-log-level:", "2"), ("verbosity:", "0"), ("use-syslog:", "no"),
            ("harden-glue:", "yes"), ("harden-dnssec-stripped:", "yes"),
        ]
        for (name, value) in options {
            let status = ub_ctx_set_option(context, name, value)
            guard status == 0 else {
                throw SetupError(description: "libunbound option \(name) \(value): \(String(cString: ub_strerror(status)))")
            }
        }
        // Threads, not the forked helper process of ub_ctx_async(ctx, 0).
        try check(ub_ctx_async(context, 1), "threaded mode")
        switch configuration.upstream {
        case .system:
            try check(ub_ctx_resolvconf(context, nil), "reading /etc/resolv.conf")
        case .forward(let servers):
            for server in servers { try check(ub_ctx_set_fwd(context, server), "forwarder \(server)") }
        }
        if let file = configuration.trustAnchorFile, !file.isEmpty {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw SetupError(description: "the DNSSEC trust anchor file \(file) is missing or unreadable (Debian: dns-root-data)")
            }
            try check(ub_ctx_add_ta_file(context, file), "trust anchor file \(file)")
        }
        for anchor in configuration.trustAnchors { try check(ub_ctx_add_ta(context, anchor), "trust anchor \(anchor)") }
        // Last: removing a zone finalizes the configuration.
        for zone in configuration.upstreamReservedZones {
            try check(ub_ctx_zone_remove(context, zone.hasSuffix(".") ? zone : zone + "."), "local zone \(zone)")
        }
    }

    private static func check(_ status: Int32, _ what: String) throws(SetupError) {
        guard status == 0 else { throw SetupError(description: "libunbound, \(what): \(String(cString: ub_strerror(status)))") }
    }
}

/// A `ub_result` turned into a `DNSAnswer`, within the configured bounds.
enum UnboundAnswer {
    static func decode(error: Int32, result: UnsafeMutablePointer<ub_result>?, limits: ResolverConfiguration) -> DNSAnswer {
        guard error == 0, let result else {
            return DNSAnswer(.temporaryFailure("libunbound: \(String(cString: ub_strerror(error)))"))
        }
        let r = result.pointee
        let ttl = UInt32(clamping: max(0, r.ttl))
        if r.bogus != 0 {
            let why = r.why_bogus.map { String(cString: $0) } ?? "validation failed"
            return DNSAnswer(.temporaryFailure("DNSSEC bogus: \(why)"), security: .bogus(why), ttl: 0)
        }
        let security: DNSSecurity = r.secure != 0 ? .secure : .insecure
        switch r.rcode {
        case 0: break
        case 3: return DNSAnswer(.nxdomain, security: security, ttl: ttl)
        // Also what libunbound answers to a CNAME loop and to a chain longer than it follows.
        case 2: return DNSAnswer(.temporaryFailure("SERVFAIL"), ttl: 0)
        case 5: return DNSAnswer(.temporaryFailure("REFUSED"), ttl: 0)
        default: return DNSAnswer(.temporaryFailure("RCODE \(r.rcode)"), ttl: 0)
        }
        guard r.havedata != 0, let data = r.data, let lengths = r.len else {
            return DNSAnswer(.noData, security: security, ttl: ttl)
        }
        guard let type = DNSRecordType(code: UInt16(clamping: r.qtype)) else {
            return DNSAnswer(.temporaryFailure("unexpected type \(r.qtype)"), ttl: 0)
        }
        var records: [DNSRecord] = []
        var bytes = 0
        var index = 0
        while let item = data[index] {
            guard records.count < limits.maxRecords else {
                return DNSAnswer(.temporaryFailure("answer has more than \(limits.maxRecords) records"), ttl: 0)
            }
            let length = Int(lengths[index])
            bytes += length
            guard length >= 0, bytes <= limits.maxAnswerBytes else {
                return DNSAnswer(.temporaryFailure("answer larger than \(limits.maxAnswerBytes) bytes"), ttl: 0)
            }
            let rdata = Array(UnsafeRawBufferPointer(start: item, count: length))
            do {
                records.append(try DNSWire.decode(type, rdata: rdata))
            } catch {
                return DNSAnswer(.temporaryFailure("malformed \(type.rawValue) record: \(error)"), ttl: 0)
            }
            index += 1
        }
        return DNSAnswer(records.isEmpty ? .noData : .records(records), security: security, ttl: ttl)
    }
}

extension DNSRecordType {
    init?(code: UInt16) {
        guard let type = DNSRecordType.allCases.first(where: { DNSWire.code(of: $0) == code }) else { return nil }
        self = type
    }
}
