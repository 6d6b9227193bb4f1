import CertificateStore
import DNS
import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// TLS on both legs of an unwrapped session: the client context verifying the real server
/// (system trust store and host name), and per-name server contexts presenting a leaf signed
/// by Moat's CA. Contexts are expensive to build, so both kinds are cached.
public final class TLSInterception: Sendable {
    let issuer: LeafIssuer
    /// Signs leaves for servers that did not prove the name (opportunistic port 25): an
    /// in-memory CA nobody trusts, so such a leaf verifies for no client.
    let unverifiedIssuer: LeafIssuer
    let authority: CertificateAuthority
    let upstreamTrust: UpstreamTrust
    /// Servers whose real certificate Moat presents instead of a leaf.
    let own: OwnServerCertificates
    private let serverContexts = Mutex<[String: NIOSSLContext]>([:])
    private let verifyingClient: NIOSSLContext
    private let chainOnlyClient: NIOSSLContext
    private let opportunisticClient: NIOSSLContext
    /// The validating resolver DANE asks for TLSA records; nil: `Dane` acts as `No`.
    let dns: (any DNSLookup)?

    /// `upstreamTrustRoots`: whom real servers' certificates must chain to (the system's
    /// store; tests give their own CA); `additionalUpstreamRoots`: more CA certificates on top
    /// of those (`UpstreamCaCertificates`: a private PKI's mail servers).
    public init(authority: CertificateAuthority, upstreamTrustRoots: NIOSSLTrustRoots = .default,
                additionalUpstreamRoots: [String] = [], ownCertificates: [String] = [],
                dns: (any DNSLookup)? = nil) throws {
        self.authority = authority
        self.dns = dns
        self.own = try OwnServerCertificates(paths: ownCertificates)
        self.issuer = try LeafIssuer(authority: authority)
        self.unverifiedIssuer = try LeafIssuer(authority: try CertificateAuthority.ephemeral(
            subject: "Moat unverified upstream (do not trust)", keyType: authority.keyType == .ecdsaP256 ? .ecdsaP256 : .rsa2048))
        self.upstreamTrust = UpstreamTrust(trustRoots: upstreamTrustRoots, additional: additionalUpstreamRoots)
        var verifying = TLSConfiguration.makeClientConfiguration()
        verifying.minimumTLSVersion = .tlsv12
        verifying.certificateVerification = .fullVerification
        verifying.trustRoots = upstreamTrustRoots
        verifying.additionalTrustRoots = additionalUpstreamRoots.map { .file($0) }
        verifyingClient = try NIOSSLContext(configuration: verifying)
        var chainOnly = verifying
        chainOnly.certificateVerification = .noHostnameVerification
        chainOnlyClient = try NIOSSLContext(configuration: chainOnly)
        // Checked by `UpstreamTrust` in a callback that never refuses (a custom callback is only
        // consulted when verification is on; it replaces BoringSSL's own).
        var opportunistic = verifying
        opportunistic.certificateVerification = .noHostnameVerification
        opportunisticClient = try NIOSSLContext(configuration: opportunistic)
    }

    /// How the upstream certificate is checked for one connection.
    public enum UpstreamPolicy: Sendable, Equatable {
        /// Chain and host name (the client's SNI).
        case verify(hostname: String)
        /// Chain only: no name to check against (a client that sent no SNI).
        case chainOnly
        /// Never refused: MX-to-MX on port 25 is opportunistic TLS (`VerifyMxCertificates = No`);
        /// chain and name are still checked, to tell the client only what was proved.
        case opportunistic
        /// Port 25 with `VerifyMxCertificates = Dane`: the MX's TLSA records decide (`DANEPolicy`).
        case dane(hostname: String)

        /// The handshake can succeed without the server proving its name; the client is then
        /// given a leaf nobody trusts.
        var mayBeUnproven: Bool {
            switch self {
            case .opportunistic, .dane: true
            case .verify, .chainOnly: false
            }
        }
    }

    public static func policy(port: Int, serverName: String?, verifyMx: GateSettings.MxVerification) -> UpstreamPolicy {
        if port == 25, verifyMx == .dane {
            // The TLSA base domain is the MX host name, which a DANE client sends as SNI.
            if let serverName, serverName.contains(where: \.isLetter) { return .dane(hostname: serverName) }
            return .opportunistic
        }
        if port == 25, verifyMx == .no { return .opportunistic }
        if let serverName, !serverName.isEmpty, serverName.contains(where: \.isLetter) { return .verify(hostname: serverName) }
        return .chainOnly
    }

    /// The handler for the upstream leg; `serverName` is sent as SNI. For `.opportunistic`,
    /// whether the server proved `serverName` (or, without one, its chain) lands in `verification`.
    func upstreamHandler(_ policy: UpstreamPolicy, serverName: String?,
                         verification: UpstreamVerification = UpstreamVerification()) throws -> NIOSSLClientHandler {
        switch policy {
        case .verify(let hostname): return try NIOSSLClientHandler(context: verifyingClient, serverHostname: hostname)
        case .chainOnly: return try NIOSSLClientHandler(context: chainOnlyClient, serverHostname: serverName)
        case .opportunistic:
            let trust = upstreamTrust
            let hostname = serverName.flatMap { $0.contains(where: \.isLetter) ? $0 : nil }
            return try NIOSSLClientHandler(context: opportunisticClient, serverHostname: hostname) { chain, promise in
                Task {
                    verification.record(await trust.verify(chain, hostname: hostname))
                    promise.succeed(.certificateVerified)
                }
            }
        case .dane(let hostname):
            let policy = DANEPolicy(dns: dns, trust: upstreamTrust)
            return try NIOSSLClientHandler(context: opportunisticClient, serverHostname: hostname) { chain, promise in
                Task {
                    switch await policy.evaluate(chain.compactMap { try? $0.toDERBytes() }, hostname: hostname) {
                    case .trusted(let proved):
                        verification.record(proved)
                        promise.succeed(.certificateVerified)
                    case .refused(let reason):
                        verification.refuse(reason)
                        promise.succeed(.failed)
                    }
                }
            }
        }
    }

    /// The handler for the client leg: the server's own certificate when the administrator gave
    /// it (`OwnServerCertificates`), else a leaf for the client's SNI and the real server's names.
    /// `verified` false (the server did not prove the name): a leaf from the unverified CA.
    public func clientHandler(serverName: String?, upstream: Certificate?, verified: Bool = true) throws -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: try serverContext(serverName: serverName, upstream: upstream, verified: verified))
    }

    func serverContext(serverName: String?, upstream: Certificate?, verified: Bool = true) throws -> NIOSSLContext {
        if verified, let owned = own.context(serverName: serverName, upstream: upstream) { return owned }
        let leaf = try (verified ? issuer : unverifiedIssuer).leaf(serverName: serverName, upstream: verified ? upstream : nil)
        let key = (verified ? "" : "unverified:") + leaf.certificate.serialNumber.description
        if let hit = serverContexts.withLock({ $0[key] }) { return hit }
        let chain = try leaf.chain.map { certificate -> NIOSSLCertificateSource in
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return .certificate(try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der))
        }
        let privateKey = try NIOSSLPrivateKey(bytes: Array(try leaf.privateKey.serializeAsPEM().pemString.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: configuration)
        serverContexts.withLock { contexts in
            if contexts.count > 1024 { contexts.removeAll() }
            contexts[key] = context
        }
        return context
    }

    /// The real server's certificate, as swift-certificates reads it, to copy its names.
    public static func certificate(_ certificate: NIOSSLCertificate) -> Certificate? {
        guard let der = try? certificate.toDERBytes() else { return nil }
        return try? Certificate(derEncoded: der)
    }
}
