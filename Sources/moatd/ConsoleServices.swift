import Logging
import MoatConfig
import MoatService
import Prometheus
import WebConsole

/// The HTTPS console (`[HTTPD]`), when `AdminListen` names addresses: its certificate
/// (`ConsoleIdentity`), its password files in `VarDir/console`, and the server. A console that
/// cannot start is reported by `appinfo` and logged; moatd filters mail without it.
enum ConsoleServices {
    static func console(_ context: InterfaceContext, daemon: Daemon, metrics: PrometheusCollectorRegistry) -> ConsoleServer? {
        let values = context.settings.current.values
        let addresses = values.httpd.adminListen
        guard !addresses.isEmpty else { return nil }
        let logger = Logger(label: "HTTPD")
        let status = ConsoleStatus()
        daemon.setConsoleStatus(status)
        let credentials = ConsoleCredentials(directory: StateDirectories(values).console)
        let certificate: ConsoleCertificate
        do {
            if let file = try credentials.prepareInitialPassword() {
                logger.warning("no console password is set: log in as \(ConsoleCredentials.userName) with the password in \(file) (readable by root and moatd only), then set your own with `moat-ctl console-password`")
            }
            let identity = try ConsoleIdentity.load(values, addresses: addresses, logger: logger)
            certificate = ConsoleCertificate(chainPEM: identity.certificateChainPEM, privateKeyPEM: identity.privateKeyPEM)
        } catch {
            status.failed("\(error)")
            logger.error("console not started; moatd runs without it", metadata: ["error": "\(error)"])
            return nil
        }
        return ConsoleServer(
            configuration: .init(addresses: addresses, certificate: certificate, credentials: credentials,
                                 settings: context.settings, metrics: metrics),
            service: daemon, status: status, logger: logger)
    }
}
