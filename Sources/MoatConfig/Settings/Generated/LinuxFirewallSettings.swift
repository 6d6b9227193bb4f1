// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// `[LinuxFirewall]`: Transparent proxy on a Linux gateway: nftables divert and the Gate.
    public var linuxFirewall: LinuxFirewallSettings { LinuxFirewallSettings(values: self) }
}

/// `[LinuxFirewall]`: Transparent proxy on a Linux gateway: nftables divert and the Gate.
public struct LinuxFirewallSettings: Sendable {
    /// Every parameter's key, for code that names one (restart-only lists, reports).
    public enum Key {
        public static let logLevel = ParameterKey("LinuxFirewall", "LogLevel")
        public static let log = ParameterKey("LinuxFirewall", "Log")
        public static let inputDivert = ParameterKey("LinuxFirewall", "InputDivert")
        public static let inputDivertConnectTransparently = ParameterKey("LinuxFirewall", "InputDivertConnectTransparently")
        public static let failClosed = ParameterKey("LinuxFirewall", "FailClosed")
        public static let gatePort = ParameterKey("LinuxFirewall", "GatePort")
        public static let firewallMark = ParameterKey("LinuxFirewall", "FirewallMark")
        public static let routingTable = ParameterKey("LinuxFirewall", "RoutingTable")
        public static let unrecognizedProtocol = ParameterKey("LinuxFirewall", "UnrecognizedProtocol")
        public static let scanPop3Top = ParameterKey("LinuxFirewall", "ScanPop3Top")
        public static let maxMessageSize = ParameterKey("LinuxFirewall", "MaxMessageSize")
        public static let maxSpoolSize = ParameterKey("LinuxFirewall", "MaxSpoolSize")
        public static let maxConnections = ParameterKey("LinuxFirewall", "MaxConnections")
        public static let handshakeTimeout = ParameterKey("LinuxFirewall", "HandshakeTimeout")
        public static let caKeyType = ParameterKey("LinuxFirewall", "CaKeyType")
        public static let caValidity = ParameterKey("LinuxFirewall", "CaValidity")
        public static let caSubject = ParameterKey("LinuxFirewall", "CaSubject")
        public static let caCertificate = ParameterKey("LinuxFirewall", "CaCertificate")
        public static let caKey = ParameterKey("LinuxFirewall", "CaKey")
        public static let verifyMxCertificates = ParameterKey("LinuxFirewall", "VerifyMxCertificates")
        public static let upstreamVerifyFailure = ParameterKey("LinuxFirewall", "UpstreamVerifyFailure")
        public static let unverifiedUpstream = ParameterKey("LinuxFirewall", "UnverifiedUpstream")
        public static let upstreamCaCertificates = ParameterKey("LinuxFirewall", "UpstreamCaCertificates")
        public static let ownServerCertificates = ParameterKey("LinuxFirewall", "OwnServerCertificates")
        public static let passThroughRejectingClients = ParameterKey("LinuxFirewall", "PassThroughRejectingClients")
        public static let passThroughTime = ParameterKey("LinuxFirewall", "PassThroughTime")
        public static let unwrapSsl = ParameterKey("LinuxFirewall", "UnwrapSsl")
        public static let inspectSmtp = ParameterKey("LinuxFirewall", "InspectSmtp")
        public static let inspectPop3 = ParameterKey("LinuxFirewall", "InspectPop3")
        public static let inspectImap = ParameterKey("LinuxFirewall", "InspectImap")
        public static let blockKnownVirus = ParameterKey("LinuxFirewall", "BlockKnownVirus")
        public static let blockSuspicious = ParameterKey("LinuxFirewall", "BlockSuspicious")
        public static let blockAdware = ParameterKey("LinuxFirewall", "BlockAdware")
        public static let blockDialers = ParameterKey("LinuxFirewall", "BlockDialers")
        public static let blockJokes = ParameterKey("LinuxFirewall", "BlockJokes")
        public static let blockRiskware = ParameterKey("LinuxFirewall", "BlockRiskware")
        public static let blockHacktools = ParameterKey("LinuxFirewall", "BlockHacktools")
        public static let blockUnchecked = ParameterKey("LinuxFirewall", "BlockUnchecked")
        public static let scanTimeout = ParameterKey("LinuxFirewall", "ScanTimeout")
        public static let heuristicAnalysis = ParameterKey("LinuxFirewall", "HeuristicAnalysis")
        public static let packerMaxLevel = ParameterKey("LinuxFirewall", "PackerMaxLevel")
        public static let archiveMaxLevel = ParameterKey("LinuxFirewall", "ArchiveMaxLevel")
        public static let mailMaxLevel = ParameterKey("LinuxFirewall", "MailMaxLevel")
        public static let containerMaxLevel = ParameterKey("LinuxFirewall", "ContainerMaxLevel")
        public static let maxCompressionRatio = ParameterKey("LinuxFirewall", "MaxCompressionRatio")
        public static let ruleSet = ParameterKey("LinuxFirewall", "RuleSet")
    }

    public let values: ConfigValues

    /// Logging parameters.
    public var logging: LoggingSettings {
        LoggingSettings(place: GroupPlace(values, section: "LinuxFirewall", prefix: ""))
    }

    /// `InputDivert`: Divert connections arriving on an interface to the protected ports to the Gate (default `Off`).
    public var inputDivert: DivertSetting { values.divert(Key.inputDivert) }

    /// `InputDivertConnectTransparently`: Yes: the Gate connects upstream from the client's own address; No: from the gateway's (default `No`).
    public var inputDivertConnectTransparently: Bool { values.bool(Key.inputDivertConnectTransparently) }

    /// `FailClosed`: Moat: Yes keeps the divert rules when moatd dies, so mail stops instead of flowing unscanned; No (fail-open) lets the kernel drop them with moatd (default `No`).
    public var failClosed: Bool { values.bool(Key.failClosed) }

    /// `GatePort`: Moat: local port of the Gate's transparent listener, the target of the divert (default `20025`).
    public var gatePort: Int { values.integer(Key.gatePort) }

    /// `FirewallMark`: Moat: packet mark of diverted traffic, routed to the local table (default `1`).
    public var firewallMark: Int { values.integer(Key.firewallMark) }

    /// `RoutingTable`: Moat: policy-routing table that delivers marked packets locally (default `100`).
    public var routingTable: Int { values.integer(Key.routingTable) }

    /// `UnrecognizedProtocol`: Moat: what the Gate does when a protected port does not carry the expected protocol (default `Relay`).
    public var unrecognizedProtocol: UnrecognizedProtocol { values.choice(Key.unrecognizedProtocol) }

    /// `ScanPop3Top`: Moat: Yes scans header-only POP3 TOP n 0 replies too; TOP with body lines is always scanned like RETR (default `No`).
    public var scanPop3Top: Bool { values.bool(Key.scanPop3Top) }

    /// `MaxMessageSize`: Moat: larger SMTP messages are refused (552; EHLO's SIZE says so); larger POP3/IMAP messages are not scanned but reported unchecked (BlockUnchecked decides) (default `64mb`).
    public var maxMessageSize: ByteSize { values.size(Key.maxMessageSize) }

    /// `MaxSpoolSize`: Moat: what all SMTP messages the Gate is receiving or holding take together (memory and spool files); past it a new message gets 452 and is not stored (default `1gb`).
    public var maxSpoolSize: ByteSize { values.size(Key.maxSpoolSize) }

    /// `MaxConnections`: Moat: connections the Gate relays at once; past it a new one gets 421 (SMTP), -ERR (POP3) or * BYE (IMAP) and is closed (default `4096`).
    public var maxConnections: Int { values.integer(Key.maxConnections) }

    /// `HandshakeTimeout`: Moat: time a client has on 465, 993 and 995 to send its TLS ClientHello, and on any port to finish the TLS handshakes (default `60s`).
    public var handshakeTimeout: ConfigDuration { values.duration(Key.handshakeTimeout) }

    /// `CaKeyType`: Moat: key type of the CA Moat generates on first start (and of its leaf certificates); RSA for old clients (default `EcdsaP256`).
    public var caKeyType: CaKeyType { values.choice(Key.caKeyType) }

    /// `CaValidity`: Moat: validity of the generated CA certificate (default `3650d`).
    public var caValidity: ConfigDuration { values.duration(Key.caValidity) }

    /// `CaSubject`: Moat: common name of the generated CA; the host name is added to tell installations apart (default `Moat Mail Gateway CA`).
    public var caSubject: String { values.text(Key.caSubject) }

    /// `CaCertificate`: Moat: PEM file of your own CA to sign leaf certificates with instead of the generated one (with CaKey) (default empty).
    public var caCertificate: String { values.text(Key.caCertificate) }

    /// `CaKey`: Moat: PEM private key of CaCertificate; must be mode 0600 (default empty).
    public var caKey: String { values.text(Key.caKey) }

    /// `VerifyMxCertificates`: Moat: port 25 upstream certificates: No accepts any (MX-to-MX TLS is opportunistic); Yes verifies them like submission, POP3 and IMAP servers; Dane verifies them by the MX's DNSSEC-signed TLSA records as Postfix's smtp_tls_security_level = dane (RFC 7672: a mismatch or a bogus answer refuses the session, no secure TLSA record falls back to No) (default `No`).
    public var verifyMxCertificates: VerifyMxCertificates { values.choice(Key.verifyMxCertificates) }

    /// `UpstreamVerifyFailure`: Moat: when an upstream certificate fails verification: Refuse the TLS session, or Relay it unscanned (never forge for it) (default `Refuse`).
    public var upstreamVerifyFailure: UpstreamVerifyFailure { values.choice(Key.upstreamVerifyFailure) }

    /// `UnverifiedUpstream`: Moat: port 25 with VerifyMxCertificates = No, when the server's certificate does not prove the name the client asked for: UntrustedCa unwraps with a leaf from a CA no client trusts (a client that verifies fails as it would against that server), Relay passes the TLS session through untouched and unscanned (default `UntrustedCa`).
    public var unverifiedUpstream: UnverifiedUpstream { values.choice(Key.unverifiedUpstream) }

    /// `UpstreamCaCertificates`: Moat: PEM file of CA certificates trusted for upstream servers besides the system store (a private PKI's mail servers); read when moatd starts (default empty).
    public var upstreamCaCertificates: String { values.text(Key.upstreamCaCertificates) }

    /// `OwnServerCertificates`: Moat: PEM files (mode 0600), each the certificate chain and private key of a server you own; clients asking for its names get that certificate instead of a leaf from Moat's CA; read when moatd starts (default empty).
    public var ownServerCertificates: [String] { values.texts(Key.ownServerCertificates) }

    /// `PassThroughRejectingClients`: Moat: Yes relays TLS untouched (unscanned) between a client that refused Moat's certificate and that server for PassThroughTime; No refuses it every time (default `No`).
    public var passThroughRejectingClients: Bool { values.bool(Key.passThroughRejectingClients) }

    /// `PassThroughTime`: Moat: how long a TLS pass-through (a client that refused Moat's certificate, or a server that failed verification after STARTTLS with UpstreamVerifyFailure = Relay) lasts (default `1h`).
    public var passThroughTime: ConfigDuration { values.duration(Key.passThroughTime) }

    /// `UnwrapSsl`: Yes: terminate TLS (STARTTLS and implicit) with certificates signed by Moat's CA and scan inside (default `No`).
    public var unwrapSsl: Bool { values.bool(Key.unwrapSsl) }

    /// `InspectSmtp`: Scan SMTP mail passing the Gate (default `On`).
    public var inspectSmtp: Bool { values.bool(Key.inspectSmtp) }

    /// `InspectPop3`: Scan messages retrieved over POP3 (default `On`).
    public var inspectPop3: Bool { values.bool(Key.inspectPop3) }

    /// `InspectImap`: Scan messages fetched over IMAP (default `On`).
    public var inspectImap: Bool { values.bool(Key.inspectImap) }

    /// `BlockKnownVirus`: Block known viruses and their modifications (default `Yes`).
    public var blockKnownVirus: Bool { values.bool(Key.blockKnownVirus) }

    /// `BlockSuspicious`: Block unknown viruses found by heuristics (default `Yes`).
    public var blockSuspicious: Bool { values.bool(Key.blockSuspicious) }

    /// `BlockAdware`: Block adware (default `Yes`).
    public var blockAdware: Bool { values.bool(Key.blockAdware) }

    /// `BlockDialers`: Block dialers (default `Yes`).
    public var blockDialers: Bool { values.bool(Key.blockDialers) }

    /// `BlockJokes`: Block joke programs (default `No`).
    public var blockJokes: Bool { values.bool(Key.blockJokes) }

    /// `BlockRiskware`: Block riskware (default `No`).
    public var blockRiskware: Bool { values.bool(Key.blockRiskware) }

    /// `BlockHacktools`: Block hacking tools (default `No`).
    public var blockHacktools: Bool { values.bool(Key.blockHacktools) }

    /// `BlockUnchecked`: Yes: a message that could not be checked is blocked (default `No`).
    public var blockUnchecked: Bool { values.bool(Key.blockUnchecked) }

    /// ScanLimits parameters.
    public var scanLimits: ScanLimitsSettings {
        ScanLimitsSettings(place: GroupPlace(values, section: "LinuxFirewall", prefix: ""))
    }

    /// `RuleSet`: Rules applied to connections and messages passing the Gate (default `protocol in (Smtp, Pop3, Imap) : SCAN_MAIL`).
    public var ruleSet: [String] { values.texts(Key.ruleSet) }

    /// The words `UnrecognizedProtocol` takes, as the file spells them.
    public enum UnrecognizedProtocol: String, Sendable, CaseIterable {
        case relay = "Relay"
        case close = "Close"
    }

    /// The words `CaKeyType` takes, as the file spells them.
    public enum CaKeyType: String, Sendable, CaseIterable {
        case ecdsaP256 = "EcdsaP256"
        case rsa2048 = "Rsa2048"
        case rsa3072 = "Rsa3072"
    }

    /// The words `VerifyMxCertificates` takes, as the file spells them.
    public enum VerifyMxCertificates: String, Sendable, CaseIterable {
        case no = "No"
        case yes = "Yes"
        case dane = "Dane"
    }

    /// The words `UpstreamVerifyFailure` takes, as the file spells them.
    public enum UpstreamVerifyFailure: String, Sendable, CaseIterable {
        case refuse = "Refuse"
        case relay = "Relay"
    }

    /// The words `UnverifiedUpstream` takes, as the file spells them.
    public enum UnverifiedUpstream: String, Sendable, CaseIterable {
        case untrustedCa = "UntrustedCa"
        case relay = "Relay"
    }
}
