import MoatConfig

/// Which protected ports the Gate would only ever relay blindly, for the settings in force:
/// the divert leaves them out, so the kernel forwards them at full speed (moatd wires this
/// into the firewall; the Gate and the firewall do not import each other).
///
/// Blind for sure, whatever the connection:
/// - a mail port whose protocol is not inspected (`InspectSmtp/Pop3/Imap = Off`);
/// - an implicit-TLS port (465, 993, 995) whose protocol is not inspected, or that is never
///   unwrapped: `UnwrapSsl = No` and no `[LinuxFirewall] RuleSet` text mentioning `unwrap_ssl`
///   (a rule could switch it on per connection; any mention keeps the port diverted);
/// - a port without a protocol Moat knows, with `UnrecognizedProtocol = Relay`.
/// Everything else is diverted, including the cases only known at run time (no CA for
/// unwrapping, a pass-through learned for a pair: that one is `TLSPassThroughList`'s).
public enum BlindPorts {
    /// Why every connection to `port` would be relayed blindly, or nil when the Gate may inspect it.
    public static func reason(port: Int, values: ConfigValues) -> String? {
        let settings = GateSettings(values)
        if let inner = GateService.implicitTLSPorts[port] {
            if !settings.inspects(inner) {
                return "implicit TLS (\(inner.rawValue)) with Inspect\(name(inner)) = Off: relayed blindly"
            }
            if !settings.unwrapSsl, !rulesMayUnwrap(values) {
                return "implicit TLS (\(inner.rawValue)) never unwrapped (UnwrapSsl = No, no rule sets unwrap_ssl): relayed blindly"
            }
            return nil
        }
        if let proto = GateProtocol.forPort(port) {
            return settings.inspects(proto) ? nil : "\(proto.rawValue) with Inspect\(name(proto)) = Off: relayed blindly"
        }
        return settings.unrecognizedProtocol == .relay
            ? "no protocol Moat inspects on this port (UnrecognizedProtocol = Relay): relayed blindly" : nil
    }

    /// True when a rule of the Gate's rule set may `SET unwrap_ssl`.
    static func rulesMayUnwrap(_ values: ConfigValues) -> Bool {
        values.linuxFirewall.ruleSet.contains { $0.lowercased().contains("unwrap_ssl") }
    }

    private static func name(_ proto: GateProtocol) -> String {
        switch proto {
        case .smtp: "Smtp"
        case .pop3: "Pop3"
        case .imap: "Imap"
        }
    }
}
