/// What the daemon offers to `moat-ctl` and the console. Both front-ends call these and hold
/// no logic of their own.
public protocol ControlService: Sendable {
    func appInfo() async -> AppInfo
    /// Rereads the configuration file. An invalid file is refused whole; the daemon keeps
    /// its settings and the error comes back to the caller.
    func reload() async -> ReloadOutcome
    /// Scans message files, mboxes and Maildirs with the daemon's engine.
    func scan(paths: [String], profile: String?) async -> [NamedReport]
}

public enum ReloadOutcome: Sendable, Equatable {
    case reloaded(changed: [String])
    case refused(reason: String)
}

/// Decodes a request, calls the service, encodes the answer: the control socket's only route.
public struct ControlRouter: Sendable {
    let service: any ControlService

    public init(service: any ControlService) {
        self.service = service
    }

    public func respond(to request: ControlRequest) async -> ControlResponse {
        switch request.command {
        case .appinfo:
            return ControlResponse(ok: true, appInfo: await service.appInfo())
        case .scan:
            guard let paths = request.paths, !paths.isEmpty else {
                return ControlResponse(ok: false, message: "scan needs at least one path")
            }
            return ControlResponse(ok: true, scanReports: await service.scan(paths: paths, profile: request.profile))
        case .reload:
            switch await service.reload() {
            case .reloaded(let changed):
                let text = changed.isEmpty ? "reloaded; no setting changed" : "reloaded; changed: " + changed.joined(separator: ", ")
                return ControlResponse(ok: true, message: text)
            case .refused(let reason):
                return ControlResponse(ok: false, message: "reload refused, the previous settings stay in force:\n" + reason)
            }
        }
    }
}
