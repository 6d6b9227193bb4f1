import Foundation
import Logging
import MoatConfig
import ServiceLifecycle

/// The divert as a moatd service: installs the rules when it starts, applies a reloaded
/// configuration in one atomic batch, removes everything Moat added at a graceful stop.
///
/// Fail-open by default: the table carries the nftables owner flag and belongs to this
/// service's netlink socket, which stays open while moatd runs; if moatd dies (crash, kill -9,
/// OOM) the kernel deletes the table with the socket, so connections reach their servers
/// directly instead of a Gate that is not there. `FailClosed = Yes` installs the table without
/// an owner: it outlives moatd and diverted mail waits (connections refused) until moatd is
/// back; a graceful stop still removes it. The ip rule and local route stay after a crash in
/// both modes; without marked packets they route nothing.
public final class FirewallService: Service, @unchecked Sendable {
    private let lock = NSLock()
    private var plan: DivertPlan?
    private var controller: DivertController?
    private let settings: SettingsStore?
    private let logger: Logger
    private let notDiverted: @Sendable (ConfigValues, Int) -> String?
    /// The last pass-through add failed (a full set): said once, not for every pair.
    private var passThroughFailing = false

    /// - Parameters:
    ///   - settings: when given, the service follows reloads itself (checks the generation every
    ///     second). A daemon that calls `apply(values:)` from its reload can leave it nil.
    ///   - notDiverted: why a protected port need not be diverted for these settings (the Gate
    ///     would only relay it blindly), nil to divert it; asked again at every reload.
    public init(values: ConfigValues, settings: SettingsStore? = nil, logger: Logger = Logger(label: "LinuxFirewall"),
                notDiverted: @escaping @Sendable (ConfigValues, Int) -> String? = { _, _ in nil }) {
        plan = DivertPlan(values: values) { notDiverted(values, $0) }
        self.settings = settings
        self.logger = logger
        self.notDiverted = notDiverted
    }

    public func run() async throws {
        let controller: DivertController
        let plan: DivertPlan?
        do {
            controller = try DivertController()
            plan = lock.withLock { self.plan }
            try controller.apply(plan)
        } catch {
            logger.critical("cannot install the divert: \(error)")
            throw error
        }
        lock.withLock { self.controller = controller }
        logInstalled(plan, controller: controller)

        if let settings {
            let start = settings.current.generation
            try? await cancelWhenGracefulShutdown {
                var generation = start
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    let current = settings.current
                    guard current.generation != generation else { continue }
                    generation = current.generation
                    do { try self.apply(values: current.values) } catch {
                        self.logger.error("reload: the divert was not changed: \(error)")
                    }
                }
            }
        } else {
            try? await gracefulShutdown()
        }

        lock.withLock { self.controller = nil }
        do {
            try controller.remove()
            logger.notice("divert removed: table inet moat, ip rules and local routes")
        } catch {
            logger.error("removing the divert: \(error)")
            throw error
        }
    }

    /// Applies reloaded settings: the new ruleset replaces the old one in one batch; an error
    /// leaves the old one in force. Before `run` has started it only records the plan.
    public func apply(values: ConfigValues) throws {
        let newPlan = DivertPlan(values: values) { notDiverted(values, $0) }
        let controller = lock.withLock { () -> DivertController? in
            plan = newPlan
            return self.controller
        }
        guard let controller else { return }
        let before = controller.status(listing: false).plan
        try controller.apply(newPlan)
        if before != newPlan { logInstalled(newPlan, controller: controller) }
    }

    /// The Gate learned a pair (a client refused Moat's certificate on an implicit-TLS port):
    /// from now on, for `duration`, the kernel forwards that client's connections to that server
    /// and port without diverting them. False when it could not (no divert, a full set, an
    /// address the set does not take): the Gate then relays the pair itself, as before.
    @discardableResult
    public func passThrough(client: String, server: String, port: Int, for duration: Duration) -> Bool {
        guard let pair = PassThroughPair(client: client, server: server, port: port) else { return false }
        guard let controller = lock.withLock({ self.controller }) else { return false }
        do {
            try controller.addPassThrough(pair, for: duration)
            let recovered = lock.withLock { () -> Bool in defer { passThroughFailing = false }; return passThroughFailing }
            logger.notice("pass-through in the kernel: \(pair) for \(duration)\(recovered ? " (the set takes pairs again)" : "")")
            return true
        } catch {
            let first = lock.withLock { () -> Bool in defer { passThroughFailing = true }; return !passThroughFailing }
            if first { logger.warning("pass-through stays in the Gate (relayed in userspace): \(error)") }
            return false
        }
    }

    /// The divert state for `moat-ctl appinfo`.
    public func status() -> DivertStatus {
        let controller = lock.withLock { self.controller }
        guard let controller else { return DivertStatus(plan: nil, notes: ["not started"]) }
        return controller.status()
    }

    private func logInstalled(_ plan: DivertPlan?, controller: DivertController) {
        guard let plan else {
            logger.notice("divert off: nothing installed")
            return
        }
        let status = controller.status(listing: false)
        logger.notice("divert installed", metadata: [
            "interface": "\(plan.interface)", "ports": "\(plan.divertedPorts)", "gatePort": "\(plan.gatePort)",
            "mode": "\(plan.failClosed ? "fail-closed" : "fail-open")",
        ])
        for (port, why) in plan.notDiverted.sorted(by: { $0.key < $1.key }) {
            logger.notice("port \(port) not diverted (forwarded by the kernel, never seen by the Gate): \(why)")
        }
        logger.info("nftables ruleset:\n\(plan.nftText)\(plan.routingText.joined(separator: "\n"))")
        for note in status.notes { logger.warning("\(note)") }
    }
}
