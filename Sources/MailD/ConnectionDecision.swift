import Policy

/// What is known of a relayed connection before any mail flows: the facts the LinuxFirewall
/// rules may look at when they decide about the connection itself (`SET unwrap_ssl`).
public struct ConnectionFacts: Sendable, Equatable {
    public var source: Envelope.Source
    public var clientAddress: String?
    public var clientPort: Int?
    public var serverAddress: String?
    public var serverPort: Int?
    public var sniHost: String?

    public init(source: Envelope.Source, clientAddress: String? = nil, clientPort: Int? = nil,
                serverAddress: String? = nil, serverPort: Int? = nil, sniHost: String? = nil) {
        self.source = source
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.serverAddress = serverAddress
        self.serverPort = serverPort
        self.sniHost = sniHost
    }
}

extension CheckProfile {
    /// `SET unwrap_ssl = yes|no` of the profile's rules for a TLS connection, nil when no rule
    /// set it. The rules run on the connection facts only (`protocol`, addresses, ports,
    /// `sni_host`, `unwrap_ssl` itself, which starts as `default`); their final actions are for
    /// the messages later and are not taken here.
    public func unwrapSsl(for connection: ConnectionFacts, default unwrapByDefault: Bool) -> Bool? {
        let facts = MessageFacts(protocolName: FactsBuilder.protocolName(connection.source),
                                 clientIP: connection.clientAddress, clientPort: connection.clientPort,
                                 serverIP: connection.serverAddress, serverPort: connection.serverPort,
                                 sniHost: connection.sniHost, tls: true, unwrapSsl: unwrapByDefault)
        return ruleSet?.evaluate(facts).unwrapSsl
    }
}
