import Logging
import MailD

/// Who talks to whom, as the accepted socket tells: the peer is the client, the local address
/// (the socket was diverted with TPROXY) is the server it wanted.
public struct ConnectionInfo: Sendable, Hashable {
    public var clientAddress: String?
    public var clientPort: Int?
    public var serverAddress: String?
    public var serverPort: Int?

    public init(clientAddress: String? = nil, clientPort: Int? = nil, serverAddress: String? = nil, serverPort: Int? = nil) {
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.serverAddress = serverAddress
        self.serverPort = serverPort
    }

    var server: String { "\(serverAddress ?? "?"):\(serverPort ?? 0)" }
    var client: String { "\(clientAddress ?? "?"):\(clientPort ?? 0)" }
}

/// What every relayed connection shares: the core, the profile and the settings in force.
public struct GateContext: Sendable {
    public var core: MailCore
    public var profiles: ProfileCache
    public var logger: Logger
    /// IMAP messages known bad, shared by all connections of this Gate.
    public var knownBad: KnownBadMessages
    /// What all SMTP messages held at once may take (MaxSpoolSize).
    let spoolQuota: SpoolQuota
    /// Tests: called before each chunk of a spooled message is read back (path, chunk number),
    /// to make the spool fail the way a disk does.
    var spoolReadHook: (@Sendable (_ path: String, _ chunk: Int) -> Void)?
    /// Tests: awaited by every check before the core runs, to hold a check open (and see it
    /// cancelled when its connection closes).
    var checkHook: (@Sendable () async -> Void)?

    public init(core: MailCore, profiles: ProfileCache, logger: Logger, knownBad: KnownBadMessages = KnownBadMessages(),
                spoolLimit: Int = GateSettings().maxSpoolSize) {
        self.core = core
        self.profiles = profiles
        self.logger = logger
        self.knownBad = knownBad
        self.spoolQuota = SpoolQuota(limit: spoolLimit)
    }
}
