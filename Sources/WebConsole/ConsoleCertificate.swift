import NIOSSL

/// The certificate chain (server first) and private key the console presents, as PEM text.
/// moatd makes or loads them; the console never sees the CA's key.
public struct ConsoleCertificate: Sendable {
    public var chainPEM: [String]
    public var privateKeyPEM: String

    public init(chainPEM: [String], privateKeyPEM: String) {
        self.chainPEM = chainPEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// TLS 1.2 and 1.3 only; NIOSSL's default cipher suites (forward secrecy, AEAD).
    func tlsConfiguration() throws -> TLSConfiguration {
        var chain: [NIOSSLCertificateSource] = []
        for pem in chainPEM {
            for certificate in try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)) {
                chain.append(.certificate(certificate))
            }
        }
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
