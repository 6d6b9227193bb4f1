import MoatConfig

/// The Gate's settings from `[LinuxFirewall]`, read at each accepted connection so a reload
/// applies to the connections that start after it.
public struct GateSettings: Sendable, Equatable {
    public enum Unrecognized: String, Sendable { case relay = "Relay", close = "Close" }

    public var gatePort = 20025
    public var connectTransparently = false
    public var unrecognizedProtocol = Unrecognized.relay
    public var maxMessageSize = 64 << 20
    /// `MaxSpoolSize`: all SMTP messages held at once, together.
    public var maxSpoolSize = 1 << 30
    /// `MaxConnections`: relayed connections at once.
    public var maxConnections = 4096
    public var inspectSmtp = true
    public var inspectPop3 = true
    public var inspectImap = true
    /// `ScanPop3Top`: hold and scan POP3 TOP replies like RETR.
    public var scanPop3Top = false
    public var unwrapSsl = false
    public enum MxVerification: String, Sendable { case no = "No", yes = "Yes", dane = "Dane" }
    /// `VerifyMxCertificates`: how upstream certificates on port 25 are checked.
    public var verifyMxCertificates = MxVerification.no
    public enum VerifyFailure: String, Sendable { case refuse = "Refuse", relay = "Relay" }
    /// `UpstreamVerifyFailure`: refuse the session, or relay it encrypted and unscanned.
    public var upstreamVerifyFailure = VerifyFailure.refuse
    public enum Unverified: String, Sendable { case untrustedCa = "UntrustedCa", relay = "Relay" }
    /// `UnverifiedUpstream`: port 25 opportunistic TLS to a server that did not prove the name:
    /// unwrap with a leaf from Moat's untrusted CA, or relay the session untouched (unscanned).
    public var unverifiedUpstream = Unverified.untrustedCa
    /// `PassThroughRejectingClients` and `PassThroughTime`: see `TLSPassThroughList`.
    public var passThroughRejectingClients = false
    public var passThroughTime: Duration = .seconds(3600)
    /// `[Root] VarDir` + "/gate": private spool files of messages being relayed.
    public var spoolDirectory = "/var/lib/moat/gate"
    public var timeouts = GateTimeouts()

    public init() {}

    /// `Inspect<Protocol>` for the protocol.
    public func inspects(_ proto: GateProtocol) -> Bool {
        switch proto {
        case .smtp: inspectSmtp
        case .pop3: inspectPop3
        case .imap: inspectImap
        }
    }

    public init(_ values: ConfigValues) {
        let settings = values.linuxFirewall
        gatePort = settings.gatePort
        connectTransparently = settings.inputDivertConnectTransparently
        unrecognizedProtocol = settings.unrecognizedProtocol == .close ? .close : .relay
        maxMessageSize = Int(settings.maxMessageSize.bytes)
        maxSpoolSize = Int(clamping: settings.maxSpoolSize.bytes)
        maxConnections = settings.maxConnections
        timeouts.handshake = settings.handshakeTimeout.duration
        inspectSmtp = settings.inspectSmtp
        inspectPop3 = settings.inspectPop3
        inspectImap = settings.inspectImap
        scanPop3Top = settings.scanPop3Top
        unwrapSsl = settings.unwrapSsl
        verifyMxCertificates = MxVerification(rawValue: settings.verifyMxCertificates.rawValue) ?? .no
        upstreamVerifyFailure = settings.upstreamVerifyFailure == .relay ? .relay : .refuse
        unverifiedUpstream = settings.unverifiedUpstream == .relay ? .relay : .untrustedCa
        passThroughRejectingClients = settings.passThroughRejectingClients
        passThroughTime = settings.passThroughTime.duration
        spoolDirectory = values.root.varDir + "/gate"
    }
}

/// Timeouts of a relayed session (RFC 5321 4.5.3.2 values by default).
public struct GateTimeouts: Sendable, Equatable {
    /// How long the server may take to answer a command (the final "." reply included:
    /// RFC 5321 gives a client 10 minutes for it).
    public var serverReply: Duration = .seconds(600)
    /// How long the client may stay silent when it is its turn (an SMTP server waits 5 minutes).
    public var clientIdle: Duration = .seconds(300)
    /// NOOP to the server after this much silence towards it while a message is received or checked.
    public var keepAlive: Duration = .seconds(60)
    /// How often the timers are looked at.
    public var tick: Duration = .seconds(5)
    /// Connecting to the original destination.
    public var connect: Duration = .seconds(30)
    /// `HandshakeTimeout`: the client's ClientHello on implicit TLS ports, and the TLS
    /// handshakes of an upgrade; a byte-a-second client gets no longer.
    public var handshake: Duration = .seconds(60)
    /// A blind relay (TLS not unwrapped, protocol not inspected) with no byte either way.
    public var blindIdle: Duration = .seconds(3600)

    public init() {}
}
