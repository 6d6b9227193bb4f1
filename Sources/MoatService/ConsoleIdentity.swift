import CertificateStore
import Foundation
import Logging
import MoatConfig

/// The console's certificate: the administrator's (`AdminSslCertificate` and `AdminSslKey`,
/// key 0600), or one Moat's CA issues for localhost, this host's name, the loopback
/// addresses and the listening hosts, kept in `VarDir/console`.
public enum ConsoleIdentity {
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(_ values: ConfigValues, addresses: [ListenAddress], logger: Logger) throws -> ServerIdentity {
        let httpd = values.httpd
        let identity: ServerIdentity
        if !httpd.adminSslCertificate.isEmpty || !httpd.adminSslKey.isEmpty {
            guard !httpd.adminSslCertificate.isEmpty, !httpd.adminSslKey.isEmpty else {
                throw Unusable(description: "HTTPD.AdminSslCertificate and HTTPD.AdminSslKey must be set together")
            }
            identity = try ServerIdentity.load(certificatePath: httpd.adminSslCertificate, keyPath: httpd.adminSslKey)
        } else {
            let authority = try CertificateAuthority.loadOrCreate(CertificateAuthority.Settings(values))
            var hosts = ["localhost", ProcessInfo.processInfo.hostName, "127.0.0.1", "::1"]
            for case .tcp(let host, _) in addresses { hosts.append(host) }
            identity = try ServerIdentity.loadOrIssue(authority: authority, directory: StateDirectories(values).console,
                                                      name: "console", hosts: hosts)
        }
        logger.info("console certificate", metadata: ["source": "\(identity.source)", "notAfter": "\(identity.notValidAfter)"])
        return identity
    }
}
