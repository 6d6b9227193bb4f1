import MailD
import MoatService

/// Decodes a request, calls the service, encodes the answer: the control socket's only route.
public struct ControlRouter: Sendable {
    let service: any DaemonService

    public init(service: any DaemonService) {
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
        case .learn:
            guard let paths = request.paths, !paths.isEmpty else {
                return ControlResponse(ok: false, message: "learn needs at least one path")
            }
            let learnedClass: LearnedClass?
            switch request.learnAs {
            case "spam": learnedClass = .spam
            case "ham": learnedClass = .ham
            case "forget": learnedClass = nil
            default: return ControlResponse(ok: false, message: "learn needs spam, ham or forget")
            }
            guard let report = await service.learn(paths: paths, as: learnedClass) else {
                return ControlResponse(ok: false, message: "this daemon has no anti-spam model to teach")
            }
            return ControlResponse(ok: true, learnReport: report)
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
