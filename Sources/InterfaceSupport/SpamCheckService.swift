import Logging
import MailD

/// What a spam-check interface (spamd, rspamd) needs to answer: the core, the profile in
/// force, the request limits, a spool, its log.
public struct SpamCheckService: FilterService {
    public let core: MailCore
    public let profiles: ProfileCache
    public let limits: RequestLimits
    public let spoolDirectory: String
    public let logger: Logger

    public init(core: MailCore, profiles: ProfileCache, limits: RequestLimits = RequestLimits(), spoolDirectory: String,
                logger: Logger) {
        self.core = core
        self.profiles = profiles
        self.limits = limits
        self.spoolDirectory = spoolDirectory
        self.logger = logger
    }
}
