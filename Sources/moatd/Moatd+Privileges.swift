import ArgumentParser
import Foundation
import Logging
import MoatConfig
import MoatService

/// moatd starts as root, opens what needs root, then runs as `[Root] User` with
/// CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only (README: "Privileges").
extension Moatd {
    /// Before the engine: the user exists and can use the directories and files moatd needs
    /// after the switch. nil when moatd keeps its user (User root, or not started as root).
    static func prepareRunUser(_ values: ConfigValues, configPath: String, logger: Logger) throws -> RunUser? {
        guard geteuid() == 0 else { return nil }
        let user: RunUser?
        do {
            user = try RunUser.configured(values)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        guard let user else { return nil }
        do {
            try RuntimeDirectories.prepare(values, configPath: configPath, for: user, logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        return user
    }

    /// Who may talk to moatd on the control socket: root, and the user who started moatd when
    /// that is neither root nor the run user (a developer's moatd answers its own moat-ctl).
    static func controlPeers(_ values: ConfigValues) -> Set<uid_t> {
        let starter = getuid()
        let runUser = RunUser.owner(values)?.uid
        return starter == 0 || starter == runUser ? [0] : [0, starter]
    }

    /// After everything that needs root: VarDir's files become the user's, then every thread
    /// switches and the result is read back. Anything more than intended stops moatd.
    static func switchUser(_ user: RunUser?, values: ConfigValues, logger: Logger) throws {
        if let user { RuntimeDirectories.handOver(varDir: values.root.varDir, to: user, logger: logger) }
        let outcome: PrivilegeDrop.Outcome
        do {
            outcome = try PrivilegeDrop.apply(to: user)
        } catch {
            logger.critical("refusing to run: \(error)")
            throw ExitCode(1)
        }
        PrivilegeDrop.report(outcome, logger: logger)
    }
}
