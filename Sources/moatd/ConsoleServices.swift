import CertificateStore
import Foundation
import Logging
import MoatConfig
import WebConsole

/// The HTTPS console (`[HTTPD]`), when `AdminListen` names addresses: its certificate (the
/// administrator's, or one Moat's CA issues, kept in `VarDir/console`), its password files in
/// `VarDir/console`, and the server. A console that cannot start is reported by `appinfo`
/// and logged; moatd filters mail without it.
enum ConsoleServices {
    static func console(_ context: InterfaceContext, daemon: Daemon) -> ConsoleServer? {
        let values = context.settings.current.values
        let addresses = listenAddresses(values)
        guard !addresses.isEmpty else { return nil }
        let logger = Logger(label: "HTTPD")
        let status = ConsoleStatus()
        daemon.setConsoleStatus(status)
        let directory = (values.value("Root", "VarDir").text ?? "/var/lib/moat") + "/console"
        let credentials = ConsoleCredentials(directory: directory)
        let certificate: ConsoleCertificate
        do {
            if let file = try credentials.prepareInitialPassword() {
                logger.warning("no console password is set: log in as \(ConsoleCredentials.userName) with the password in \(file) (readable by root only), then set your own with `moat-ctl console-password`")
            }
            certificate = try identity(values, addresses: addresses, directory: directory, logger: logger)
        } catch {
            status.failed("\(error)")
            logger.error("console not started; moatd runs without it", metadata: ["error": "\(error)"])
            return nil
        }
        return ConsoleServer(
            configuration: .init(addresses: addresses, certificate: certificate, credentials: credentials,
                                 settings: context.settings),
            service: daemon, status: status, logger: logger)
    }

    static func listenAddresses(_ values: ConfigValues) -> [ListenAddress] {
        values.value("HTTPD", "AdminListen").list?.compactMap { item in
            if case .address(let address?) = item { return address } else { return nil }
        } ?? []
    }

    struct Unusable: Error, CustomStringConvertible {
        let description: String
    }

    /// `AdminSslCertificate` and `AdminSslKey` (key 0600), or a certificate from Moat's CA for
    /// localhost, this host's name, the loopback addresses and the listening hosts.
    static func identity(_ values: ConfigValues, addresses: [ListenAddress], directory: String,
                         logger: Logger) throws -> ConsoleCertificate {
        let certificatePath = values.value("HTTPD", "AdminSslCertificate").text ?? ""
        let keyPath = values.value("HTTPD", "AdminSslKey").text ?? ""
        let identity: ServerIdentity
        if !certificatePath.isEmpty || !keyPath.isEmpty {
            guard !certificatePath.isEmpty, !keyPath.isEmpty else {
                throw Unusable(description: "HTTPD.AdminSslCertificate and HTTPD.AdminSslKey must be set together")
            }
            identity = try ServerIdentity.load(certificatePath: certificatePath, keyPath: keyPath)
        } else {
            let authority = try CertificateAuthority.loadOrCreate(CertificateAuthority.Settings(values))
            var hosts = ["localhost", ProcessInfo.processInfo.hostName, "127.0.0.1", "::1"]
            for case .tcp(let host, _) in addresses { hosts.append(host) }
            identity = try ServerIdentity.loadOrIssue(authority: authority, directory: directory, name: "console", hosts: hosts)
        }
        logger.info("console certificate", metadata: ["source": "\(identity.source)", "notAfter": "\(identity.notValidAfter)"])
        return ConsoleCertificate(chainPEM: identity.certificateChainPEM, privateKeyPEM: identity.privateKeyPEM)
    }
}
