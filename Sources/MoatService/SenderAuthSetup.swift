import DNS
import DNSResolver
import Foundation
import Logging
import MailD
import MoatConfig
import SenderAuth

/// moatd's one resolver (`[Root] DnsResolver`, `DnsTrustAnchor`) and the sender checks over it
/// (`[MailD] SenderAuthentication`, `AuthServId`, `DnsBlocklists`, `UriBlocklists`). Read at
/// start: a resolver that cannot be made is logged and mail flows without sender checks (and
/// without DANE), as it would with `SenderAuthentication = No`.
public enum SenderAuthSetup {
    public static func resolver(_ values: ConfigValues, logger: Logger) -> UnboundResolver? {
        var anchor = values.root.dnsTrustAnchor
        if !anchor.isEmpty, !FileManager.default.isReadableFile(atPath: anchor) {
            logger.warning("DNS trust anchor \(anchor) is missing (Debian's dns-root-data installs it): answers are not validated, DANE never applies")
            anchor = ""
        }
        do {
            let configuration = try ResolverConfiguration(dnsResolver: values.root.dnsResolver, dnsTrustAnchor: anchor)
            let resolver = try UnboundResolver(configuration)
            logger.notice("DNS resolver ready", metadata: ["upstream": "\(values.root.dnsResolver)",
                                                           "validating": "\(anchor.isEmpty ? "no" : anchor)"])
            return resolver
        } catch {
            logger.error("no DNS resolver, so no sender authentication, blocklists or DANE: \(error)")
            return nil
        }
    }

    /// nil when `SenderAuthentication = No` or there is no resolver.
    public static func checks(_ values: ConfigValues, lookup: (any DNSLookup)?, logger: Logger) -> SenderChecks? {
        guard values.mailD.senderAuthentication, let lookup else { return nil }
        let zones: [BlocklistZone], uriZones: [BlocklistZone]
        do {
            zones = try BlocklistZone.parseList(values.mailD.dnsBlocklists)
            uriZones = try BlocklistZone.parseList(values.mailD.uriBlocklists)
        } catch {
            // The schema validates both; a file edited behind moatd's back is reported, not fatal.
            logger.error("blocklists not used: \(error)")
            return checks(values, lookup: lookup, zones: [], uriZones: [], logger: logger)
        }
        return checks(values, lookup: lookup, zones: zones, uriZones: uriZones, logger: logger)
    }

    static func checks(_ values: ConfigValues, lookup: any DNSLookup, zones: [BlocklistZone], uriZones: [BlocklistZone],
                       logger: Logger) -> SenderChecks {
        let suffixes = PublicSuffixList()
        let host = ProcessInfo.processInfo.hostName
        let authenticator = SenderAuthenticator(lookup: lookup, suffixes: suffixes, dnsBlocklists: zones,
                                                uriBlocklists: uriZones, receiver: host)
        logger.notice("sender authentication on", metadata: [
            "checks": "SPF, DKIM, DMARC, ARC", "dnsbl": "\(zones.map(\.zone))", "uribl": "\(uriZones.map(\.zone))",
        ])
        return SenderChecks(authenticator: authenticator, authservId: values.mailD.authServId)
    }
}
