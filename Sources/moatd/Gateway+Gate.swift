import CertificateStore
import Gate
import LinuxFirewall
import Logging
import MailD
import MoatConfig
import ServiceLifecycle

extension GatewayServices {
    /// The Gate's transparent listener, when `[LinuxFirewall] InputDivert` is not Off.
    /// `firewall`: where pairs learned on implicit-TLS ports go, so the kernel forwards their
    /// next connections without diverting them.
    static func gate(_ context: InterfaceContext, firewall: FirewallService? = nil) -> (any Service)? {
        let values = context.settings.current.values
        let settings = values.linuxFirewall
        guard settings.inputDivert != .off else { return nil }
        let logger = Logger(label: "Gate")
        var options = GateService.Options()
        // Moat's CA is made (or the administrator's loaded) at start, so UnwrapSsl can be
        // switched on by a reload; without it TLS is only ever relayed blindly.
        do {
            let authority = try CertificateAuthority.loadOrCreate(CertificateAuthority.Settings(values))
            let extraRoots = settings.upstreamCaCertificates.isEmpty ? [] : [settings.upstreamCaCertificates]
            options.tls = try TLSInterception(authority: authority, additionalUpstreamRoots: extraRoots,
                                              ownCertificates: settings.ownServerCertificates, dns: context.dns)
            logger.notice("TLS unwrapping CA ready", metadata: ["ca": "\(authority.source)"])
        } catch {
            logger.error("TLS unwrapping unavailable, TLS sessions are relayed blindly: \(error)")
        }
        if let firewall {
            options.kernelPassThrough = { client, server, port, duration in
                firewall.passThrough(client: client, server: server, port: port, for: duration)
            }
        }
        return GateService(settings: context.settings, core: context.core, group: context.group,
                           logger: logger, options: options)
    }

    /// Where the Gate spools the messages it relays: for the start-up cleanup of leftovers.
    static func gateSpool(_ values: ConfigValues) -> LeftoverSpool.Place {
        LeftoverSpool.Place(directory: GateSettings(values).spoolDirectory, prefixes: ["smtp-"])
    }
}
