import MailD
import MoatService
import Storage

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
            return ControlResponse(ok: true, scanReports: await service.scan(paths: paths, profile: request.profile,
                                                                                  spam: request.spam ?? false))
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
        case .quarantineList, .quarantineShow, .quarantineRelease, .quarantineDelete, .logSearch:
            return await storage(request)
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

    /// The quarantine and message log commands: the service decides, errors come back as text.
    private func storage(_ request: ControlRequest) async -> ControlResponse {
        do {
            switch request.command {
            case .quarantineList:
                return ControlResponse(ok: true, quarantine: try await service.quarantineList(request.quarantineQuery ?? QuarantineQuery()))
            case .quarantineShow:
                return ControlResponse(ok: true, quarantineDetail: try await service.quarantineShow(id: try id(request)))
            case .quarantineRelease:
                return ControlResponse(ok: true, release: try await service.quarantineRelease(id: try id(request), by: by(request)))
            case .quarantineDelete:
                let id = try id(request)
                try await service.quarantineDelete(id: id, by: by(request))
                return ControlResponse(ok: true, message: "deleted \(id)")
            case .logSearch:
                return ControlResponse(ok: true, logEntries: try await service.logSearch(request.logQuery ?? LogQuery()))
            default:
                return ControlResponse(ok: false, message: "not a storage command")
            }
        } catch {
            return ControlResponse(ok: false, message: "\(error)")
        }
    }

    struct MissingId: Error, CustomStringConvertible {
        var description: String { "the command needs a quarantine id" }
    }

    private func id(_ request: ControlRequest) throws -> String {
        guard let id = request.id, !id.isEmpty else { throw MissingId() }
        return id
    }

    private func by(_ request: ControlRequest) -> String {
        "moat-ctl" + (request.by.map { " (\($0))" } ?? "")
    }
}
