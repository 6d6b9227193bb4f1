import Crypto
import Foundation
import SwiftASN1
import Synchronization
import X509

/// Issues the leaf certificates the Gate shows to clients: for the names the client asked for
/// (SNI) and the names in the real upstream certificate. One leaf key for the whole process
/// (never the CA key); leaves are cached, bounded and expiring.
public final class LeafIssuer: Sendable {
    public struct Leaf: Sendable {
        public let certificate: Certificate
        public let chain: [Certificate]
        public let privateKey: Certificate.PrivateKey
        public let notAfter: Date
    }

    let authority: CertificateAuthority
    let leafKey: Certificate.PrivateKey
    let capacity: Int
    let lifetime: TimeInterval
    private let cache = Mutex<[String: Leaf]>([:])
    private let order = Mutex<[String]>([])

    public init(authority: CertificateAuthority, capacity: Int = 1024, lifetimeDays: Int = 30) throws {
        self.authority = authority
        self.leafKey = try KeyFactory.make(authority.keyType == .ecdsaP256 ? .ecdsaP256 : .rsa2048)
        self.capacity = capacity
        self.lifetime = Double(lifetimeDays) * 86_400
    }

    /// A leaf for `serverName` (SNI; may be nil) plus the upstream certificate's names and
    /// IP addresses.
    public func leaf(serverName: String?, upstream: Certificate?) throws -> Leaf {
        var dnsNames: [String] = []
        var ips: [[UInt8]] = []
        if let serverName, !serverName.isEmpty { dnsNames.append(serverName.lowercased()) }
        if let upstream, let sans = try? upstream.extensions.subjectAlternativeNames {
            for name in sans {
                switch name {
                case .dnsName(let dns): if !dnsNames.contains(dns.lowercased()) { dnsNames.append(dns.lowercased()) }
                case .ipAddress(let bytes): ips.append(Array(bytes.bytes))
                default: break
                }
            }
        }
        let key = (dnsNames + ips.map { $0.map(String.init).joined(separator: ".") }).joined(separator: ",")
        if let hit = cache.withLock({ $0[key] }), hit.notAfter.timeIntervalSinceNow > 86_400 { return hit }

        let certificate = try LeafSigning.sign(publicKey: leafKey.publicKey, dnsNames: dnsNames, ipAddresses: ips,
                                               validity: lifetime, authority: authority)
        let leaf = Leaf(certificate: certificate, chain: [certificate, authority.certificate], privateKey: leafKey,
                        notAfter: certificate.notValidAfter)
        cache.withLock { $0[key] = leaf }
        let evicted: String? = order.withLock { keys in
            keys.append(key)
            return keys.count > capacity ? keys.removeFirst() : nil
        }
        if let evicted { cache.withLock { _ = $0.removeValue(forKey: evicted) } }
        return leaf
    }

    public var cachedCount: Int { cache.withLock { $0.count } }
}
