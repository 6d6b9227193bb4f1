import CertificateStore
import Gate
import MoatConfig
import Logging
import ServiceLifecycle

extension GatewayServices {
    /// The Gate's transparent listener, when `[LinuxFirewall] InputDivert` is not Off.
    static func gate(_ context: InterfaceContext) -> (any Service)? {
        guard case .divert(let divert) = context.settings.current.values.value("LinuxFirewall", "InputDivert"),
              divert != .off else { return nil }
        let logger = Logger(label: "Gate")
        var options = GateService.Options()
        // Moat's CA is made (or the administrator's loaded) at start, so UnwrapSsl can be
        // switched on by a reload; without it TLS is only ever relayed blindly.
        do {
            let authority = try CertificateAuthority.loadOrCreate(CertificateAuthority.Settings(context.settings.current.values))
            let extraRoots = context.settings.current.values.value("LinuxFirewall", "UpstreamCaCertificates").text
                .flatMap { $0.isEmpty ? nil : [$0] } ?? []
            let own = context.settings.current.values.value("LinuxFirewall", "OwnServerCertificates").texts
            options.tls = try TLSInterception(authority: authority, additionalUpstreamRoots: extraRoots, ownCertificates: own)
            logger.notice("TLS unwrapping CA ready", metadata: ["ca": "\(authority.source)"])
        } catch {
            logger.error("TLS unwrapping unavailable, TLS sessions are relayed blindly: \(error)")
        }
        return GateService(settings: context.settings, core: context.core, group: context.group,
                           logger: logger, options: options)
    }
}
