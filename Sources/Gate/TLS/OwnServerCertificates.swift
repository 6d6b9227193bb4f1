import Foundation
import NIOSSL
import X509

/// The real certificates of servers the administrator owns (`[LinuxFirewall]
/// OwnServerCertificates`): for a client asking for one of their names, the Gate presents the
/// server's own certificate instead of forging a leaf, so clients need not trust Moat's CA for
/// those servers. Each file holds the certificate chain (leaf first) and its private key, in
/// PEM, and must be private (mode 0600), since it holds a key.
struct OwnServerCertificates: Sendable {
    struct Entry: Sendable {
        var path: String
        /// DNS names of the leaf (subjectAltName, else its common name), lower case.
        var names: [String]
        var context: NIOSSLContext
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let entries: [Entry]

    init(paths: [String]) throws {
        entries = try paths.map(Self.load)
    }

    static func load(_ path: String) throws -> Entry {
        func fail(_ why: String) -> Failure { Failure(description: "OwnServerCertificates \(path): \(why)") }
        var info = stat()
        guard stat(path, &info) == 0 else { throw fail("does not exist") }
        guard info.st_mode & 0o077 == 0 else {
            throw fail("holds a private key but is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw fail("cannot be read") }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(bytes))
            key = try NIOSSLPrivateKey(bytes: Array(bytes), format: .pem)
        } catch {
            throw fail("needs the certificate chain and its private key in PEM: \(error)")
        }
        guard let leaf = chain.first, let parsed = TLSInterception.certificate(leaf) else { throw fail("has no certificate") }
        var names: [String] = []
        if let sans = try? parsed.extensions.subjectAlternativeNames {
            for case .dnsName(let name) in sans { names.append(name.lowercased()) }
        }
        if names.isEmpty, let common = parsed.subject.commonName { names.append(common.lowercased()) }
        guard !names.isEmpty else { throw fail("names no host") }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: configuration) } catch {
            throw fail("the key does not match the certificate, or the file is unusable: \(error)")
        }
        return Entry(path: path, names: names, context: context)
    }

    /// The context for a client that asked for `serverName`, or reached a server whose verified
    /// certificate carries one of the owned names (a client without SNI).
    func context(serverName: String?, upstream: Certificate?) -> NIOSSLContext? {
        if let serverName {
            let wanted = serverName.lowercased()
            return entries.first { $0.names.contains { Self.matches($0, wanted) } }?.context
        }
        guard let upstream, let sans = try? upstream.extensions.subjectAlternativeNames else { return nil }
        for case .dnsName(let name) in sans {
            if let hit = entries.first(where: { $0.names.contains(name.lowercased()) }) { return hit.context }
        }
        return nil
    }

    /// RFC 6125: `*.example.org` covers exactly one label.
    static func matches(_ pattern: String, _ name: String) -> Bool {
        if pattern == name { return true }
        guard pattern.hasPrefix("*."), let dot = name.firstIndex(of: ".") else { return false }
        return name[name.index(after: dot)...] == pattern.dropFirst(2) && dot != name.startIndex
    }
}

extension DistinguishedName {
    var commonName: String? {
        for rdn in self {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return attribute.value.description
            }
        }
        return nil
    }
}
