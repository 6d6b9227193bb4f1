import Foundation
import Testing
import X509
@testable import CertificateStore

/// The console's own certificate: issued by Moat's CA for the names asked, kept (key 0600),
/// reissued when it no longer fits; or the administrator's files.
@Suite struct ServerIdentityTests {
    let helper = CertificateStoreTests()

    @Test func issuedForTheHostsKeptAndVerifiedByOpenSSL() throws {
        let root = try helper.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ca = try CertificateAuthority.loadOrCreate(.init(directory: root + "/ca"))
        let hosts = ["localhost", "console.example.org", "127.0.0.1", "::1", "0.0.0.0"]
        let first = try ServerIdentity.loadOrIssue(authority: ca, directory: root + "/console", name: "console", hosts: hosts)
        #expect(try helper.mode(root + "/console/console.key") == 0o600)
        #expect(try helper.mode(root + "/console") == 0o700)
        #expect(first.certificateChainPEM.count == 2)
        #expect(first.certificateChainPEM[1] == ca.pem)
        for host in ["localhost", "console.example.org"] {
            let verified = try helper.openssl(["verify", "-CAfile", root + "/ca/ca.pem", "-purpose", "sslserver",
                                               "-verify_hostname", host, root + "/console/console.pem"])
            #expect(verified.status == 0, "\(host): \(verified.output)")
        }
        for ip in ["127.0.0.1", "::1"] {
            let verified = try helper.openssl(["verify", "-CAfile", root + "/ca/ca.pem", "-verify_ip", ip, root + "/console/console.pem"])
            #expect(verified.status == 0, "\(ip): \(verified.output)")
        }
        let wildcard = try helper.openssl(["verify", "-CAfile", root + "/ca/ca.pem", "-verify_ip", "0.0.0.0", root + "/console/console.pem"])
        #expect(wildcard.status != 0, "the wildcard address is never put in a certificate")

        let again = try ServerIdentity.loadOrIssue(authority: ca, directory: root + "/console", name: "console", hosts: hosts)
        #expect(again.certificateChainPEM == first.certificateChainPEM, "kept across starts")
        #expect(again.privateKeyPEM == first.privateKeyPEM)
        let fewer = try ServerIdentity.loadOrIssue(authority: ca, directory: root + "/console", name: "console", hosts: ["localhost"])
        #expect(fewer.certificateChainPEM == first.certificateChainPEM, "a subset of the names still fits")
        let more = try ServerIdentity.loadOrIssue(authority: ca, directory: root + "/console", name: "console",
                                                  hosts: hosts + ["gw.example.org"])
        #expect(more.certificateChainPEM[0] != first.certificateChainPEM[0], "a new name: reissued")
        // Another CA (the administrator switched to their own): reissued by that one.
        let other = try CertificateAuthority.loadOrCreate(.init(directory: root + "/other"))
        let byOther = try ServerIdentity.loadOrIssue(authority: other, directory: root + "/console", name: "console", hosts: hosts)
        let verified = try helper.openssl(["verify", "-CAfile", root + "/other/ca.pem", root + "/console/console.pem"])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(byOther.certificateChainPEM[1] == other.pem)
    }

    @Test func administratorsCertificateNeedsAPrivateMatchingKey() throws {
        let root = try helper.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let made = try helper.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                       "-keyout", root + "/console.key", "-out", root + "/console.pem", "-days", "30",
                                       "-subj", "/CN=console.example.org"])
        #expect(made.status == 0, "\(made.output)")
        chmod(root + "/console.key", 0o640)
        #expect(throws: CertificateAuthority.Failure.self) {
            try ServerIdentity.load(certificatePath: root + "/console.pem", keyPath: root + "/console.key")
        }
        chmod(root + "/console.key", 0o600)
        let identity = try ServerIdentity.load(certificatePath: root + "/console.pem", keyPath: root + "/console.key")
        #expect(identity.certificateChainPEM.count == 1)
        #expect(identity.source == root + "/console.pem")
        let ca = try CertificateAuthority.loadOrCreate(.init(directory: root + "/ca"))
        try ca.pem.write(toFile: root + "/other.pem", atomically: true, encoding: .utf8)
        #expect(throws: CertificateAuthority.Failure.self) {
            try ServerIdentity.load(certificatePath: root + "/other.pem", keyPath: root + "/console.key")
        }
    }
}
