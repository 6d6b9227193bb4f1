import Foundation
import Testing
import X509
@testable import CertificateStore

/// Moat's CA checked with OpenSSL, the tool administrators use: keys private on disk, one CA
/// per installation kept across restarts, leaves that verify against it for the right names.
@Suite struct CertificateStoreTests {
    func temporary() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moat-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func openssl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func mode(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1
    }

    @Test(arguments: CertificateAuthority.KeyType.allCases)
    func generatedCAIsPrivateAndStable(_ type: CertificateAuthority.KeyType) throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let settings = CertificateAuthority.Settings(directory: root + "/ca", keyType: type)
        let first = try CertificateAuthority.loadOrCreate(settings)
        #expect(try mode(root + "/ca/ca.key") == 0o600)
        #expect(try mode(root + "/ca") == 0o700)
        let again = try CertificateAuthority.loadOrCreate(settings)
        #expect(again.pem == first.pem, "the CA is kept across restarts")

        let text = try openssl(["x509", "-in", root + "/ca/ca.pem", "-noout", "-text"])
        #expect(text.status == 0)
        #expect(text.output.contains("CA:TRUE"))
        #expect(text.output.contains(type == .ecdsaP256 ? "id-ecPublicKey" : "rsaEncryption"))
        #expect(text.output.contains("Certificate Sign"))
    }

    @Test func twoInstallationsHaveDifferentCAs() throws {
        let a = try temporary(), b = try temporary()
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let ca1 = try CertificateAuthority.loadOrCreate(.init(directory: a))
        let ca2 = try CertificateAuthority.loadOrCreate(.init(directory: b))
        #expect(ca1.certificate.subject != ca2.certificate.subject)
        #expect(ca1.certificate.publicKey != ca2.certificate.publicKey)
    }

    @Test func leafVerifiesAgainstTheCAForTheRequestedNames() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ca = try CertificateAuthority.loadOrCreate(.init(directory: root + "/ca"))
        let issuer = try LeafIssuer(authority: ca)
        let leaf = try issuer.leaf(serverName: "mail.example.org", upstream: nil)
        try leaf.certificate.serializeAsPEM().pemString.write(toFile: root + "/leaf.pem", atomically: true, encoding: .utf8)
        let verified = try openssl(["verify", "-CAfile", root + "/ca/ca.pem", "-purpose", "sslserver",
                                    "-verify_hostname", "mail.example.org", root + "/leaf.pem"])
        #expect(verified.status == 0, "\(verified.output)")
        let wrongHost = try openssl(["verify", "-CAfile", root + "/ca/ca.pem", "-verify_hostname", "other.example.org", root + "/leaf.pem"])
        #expect(wrongHost.status != 0)
        #expect(leaf.privateKey.publicKey != ca.certificate.publicKey, "leaves never use the CA key")
        #expect(try issuer.leaf(serverName: "mail.example.org", upstream: nil).certificate == leaf.certificate, "cached")
        #expect(issuer.cachedCount == 1)
    }

    @Test func leafCarriesTheUpstreamNames() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ca = try CertificateAuthority.loadOrCreate(.init(directory: root + "/ca"))
        let upstreamCA = try CertificateAuthority.loadOrCreate(.init(directory: root + "/upstream"))
        let upstream = try LeafIssuer(authority: upstreamCA).leaf(serverName: "imap.example.net", upstream: nil).certificate
        let leaf = try LeafIssuer(authority: ca).leaf(serverName: nil, upstream: upstream)
        let names = try leaf.certificate.extensions.subjectAlternativeNames.map { Array($0) } ?? []
        #expect(names == [.dnsName("imap.example.net")])
    }

    @Test func cacheIsBounded() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let issuer = try LeafIssuer(authority: try CertificateAuthority.loadOrCreate(.init(directory: root + "/ca")), capacity: 3)
        for n in 0..<10 { _ = try issuer.leaf(serverName: "h\(n).example.org", upstream: nil) }
        #expect(issuer.cachedCount == 3)
    }

    @Test func administratorsOwnCAIsUsedAndItsKeyMustBePrivate() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let made = try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                "-keyout", root + "/own.key", "-out", root + "/own.pem", "-days", "30", "-subj", "/CN=Own CA",
                                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
        #expect(made.status == 0, "\(made.output)")
        chmod(root + "/own.key", 0o644)
        let settings = CertificateAuthority.Settings(directory: root + "/ca", certificatePath: root + "/own.pem", keyPath: root + "/own.key")
        #expect(throws: CertificateAuthority.Failure.self) { try CertificateAuthority.loadOrCreate(settings) }
        chmod(root + "/own.key", 0o600)
        let own = try CertificateAuthority.loadOrCreate(settings)
        #expect(own.pem.contains("BEGIN CERTIFICATE"))
        #expect(own.certificate.subject.description.contains("Own CA"))
        #expect(!FileManager.default.fileExists(atPath: root + "/ca/ca.key"), "nothing generated when the administrator's CA is set")
    }
}
