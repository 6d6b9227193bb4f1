import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MailD
import MoatConfig
import MoatService
import NIOPosix
import Prometheus

/// The console's routes. Each one decodes the request, calls the daemon's service (or the
/// console's own login and session objects) and renders a page; none holds logic of its own.
struct ConsoleRoutes: Sendable {
    let service: any ConsoleService
    let sessions: ConsoleSessions
    let throttle: LoginThrottle
    let credentials: ConsoleCredentials
    let idleTimeout: @Sendable () -> TimeInterval
    let accessLog: AccessLog
    let logger: Logger
    /// What /metrics serves; nil: no metrics are collected (404).
    var metrics: PrometheusCollectorRegistry? = nil
    var metricsToken: @Sendable () -> String = { "" }

    func router() -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        // Outermost first: the access log sees the final status; the headers cover errors too.
        router.add(middleware: AccessLogMiddleware(log: accessLog))
        router.add(middleware: SecurityHeaders<ConsoleContext>())
        router.add(middleware: SessionGuard(sessions: sessions, idleTimeout: idleTimeout, metricsToken: metricsToken))

        router.get("/console.css") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/css; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: Layout.stylesheet)))
        }
        router.get("/login") { _, _ in Responses.html(LoginPage.render()) }
        router.post("/login", use: login)
        router.post("/logout", use: logout)

        router.get("/") { _, context in
            Responses.html(StatusPage.render(await service.appInfo(), spamSymbols: service.topSpamSymbols(), csrf: context.csrf))
        }
        router.post("/reload", use: reload)
        router.get("/configuration", use: configuration)
        router.post("/configuration", use: change)
        router.get("/threats") { _, context in
            Responses.html(ThreatsPage.render(service.recentThreats(), csrf: context.csrf))
        }
        router.get("/archive-password") { _, context in
            Responses.html(ArchivePasswordPage.render(csrf: context.csrf))
        }
        router.post("/archive-password", use: archivePassword)
        router.get("/ca.pem", use: caCertificate)
        addStorageRoutes(to: router)
        if let metrics {
            router.get("/metrics") { _, _ in MetricsRoute.response(metrics) }
        }
        return router
    }

    // MARK: login and logout

    @Sendable func login(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await Form.body(of: request)
        let user = form["user"] ?? ""
        let password = form["password"] ?? ""
        let client = context.client
        if case .locked(let until) = throttle.begin(client) {
            logger.warning("console login refused: address locked after failed logins",
                           metadata: ["client": "\(client)", "until": "\(Layout.time(until))"])
            let seconds = max(1, Int(until.timeIntervalSinceNow.rounded(.up)))
            return Responses.html(LoginPage.render(error: "Too many failed logins from \(client): try again in \(seconds) seconds.", user: user),
                                  status: .tooManyRequests, headers: [.retryAfter: String(seconds)])
        }
        let credentials = credentials
        // PBKDF2 is slow by design: off the event loops and Swift's cooperative threads.
        let valid = try await NIOThreadPool.singleton.runIfActive { credentials.verify(user: user, password: password) }
        guard valid else {
            let lockedUntil = throttle.finish(client, succeeded: false)
            logger.warning("console login failed", metadata: ["client": "\(client)", "user": "\(Self.loggable(user))"])
            if let lockedUntil {
                logger.warning("console logins from \(client) locked until \(Layout.time(lockedUntil)) after repeated failures")
            }
            return Responses.html(LoginPage.render(error: "Wrong user name or password.", user: user), status: .unauthorized)
        }
        throttle.finish(client, succeeded: true)
        let (token, _) = sessions.create(user: user, client: client)
        logger.notice("console login", metadata: ["client": "\(client)", "user": "\(Self.loggable(user))"])
        return Responses.redirect(to: "/", headers: [.setCookie: ConsoleSessions.cookie(token)])
    }

    @Sendable func logout(_ request: Request, context: ConsoleContext) async throws -> Response {
        if let token = context.sessionToken { sessions.end(token) }
        logger.notice("console logout", metadata: ["client": "\(context.client)"])
        return Responses.redirect(to: "/login", headers: [.setCookie: ConsoleSessions.expiredCookie])
    }

    /// What a client typed, fit for a log line: no control characters, at most 100 characters.
    static func loggable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(100).map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }

    // MARK: pages

    @Sendable func reload(_ request: Request, context: ConsoleContext) async throws -> Response {
        let outcome = await service.reload()
        logger.notice("console: reload", metadata: ["client": "\(context.client)"])
        let info = await service.appInfo()
        let notice: Notice
        switch outcome {
        case .reloaded(let changed):
            notice = .info("Reloaded: settings generation \(info.settingsGeneration); "
                + (changed.isEmpty ? "no setting changed." : "changed: \(changed.joined(separator: ", "))."))
        case .refused(let reason):
            notice = .error("Reload refused, the previous settings stay in force:\n" + reason)
        }
        return Responses.html(StatusPage.render(info, spamSymbols: service.topSpamSymbols(), csrf: context.csrf, notice: notice),
                              status: notice.isInfo ? .ok : .badRequest)
    }

    @Sendable func configuration(_ request: Request, context: ConsoleContext) async throws -> Response {
        let file = Result { () throws(ConfigErrors) in try service.configurationFile() }
        var draft = ConfigurationPage.Draft()
        if let asked = request.uri.queryParameters["parameter"].map(String.init) {
            draft.parameter = asked
            // Lists and single values can be edited as shown; a rule set is changed a rule at a time.
            // A secret is never put in the page: it is typed anew.
            if case .success(let loaded) = file, let (key, spec) = try? loaded.values.schema.resolve(asked), !spec.type.isRuleSet {
                draft.parameter = key.description
                draft.value = spec.isSecret ? "" : loaded.values.formatted(key)
            }
        }
        return Responses.html(ConfigurationPage.render(file, csrf: context.csrf, draft: draft,
                                                       writable: service.canChangeConfiguration()))
    }

    @Sendable func change(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await Form.body(of: request)
        let draft = ConfigurationPage.Draft(parameter: form["parameter"] ?? "", value: form["value"] ?? "",
                                            action: form["action"] ?? "set")
        guard let edit = ConfigEditForm.edit(action: draft.action, value: draft.value) else {
            return Responses.error(.badRequest, "Unknown change `\(draft.action)`.")
        }
        let outcome = await service.change(edit, parameter: draft.parameter)
        let notice: Notice
        var status = HTTPResponse.Status.ok
        switch outcome {
        case .refused(let text):
            notice = .error(text)
            status = .badRequest
            logger.info("console: change refused", metadata: ["client": "\(context.client)", "parameter": "\(Self.loggable(draft.parameter))"])
        case .unchanged(let key):
            notice = .info("\(key) already has that value; the file was not changed.")
        case .applied(let key, .reloaded, let generation):
            notice = .info("\(key) changed; moatd reloaded the file: settings generation \(generation).")
            logger.notice("console: configuration changed",
                          metadata: ["client": "\(context.client)", "parameter": "\(key)", "change": "\(draft.action)"])
        case .applied(let key, .refused(let reason), let generation):
            notice = .error("\(key) was written, but moatd refused the reload and keeps settings generation \(generation):\n\(reason)")
            status = .badRequest
        }
        let file = Result { () throws(ConfigErrors) in try service.configurationFile() }
        let kept = status == .ok ? ConfigurationPage.Draft() : draft
        return Responses.html(ConfigurationPage.render(file, csrf: context.csrf, draft: kept, notice: notice,
                                                       writable: service.canChangeConfiguration()), status: status)
    }

    @Sendable func archivePassword(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await Form.body(of: request)
        let id = (form["archive_id"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let result = Result { () throws(ArchivePassword.RecoveryFailure) in try service.archivePassword(archiveId: id) }
        if case .success = result {
            logger.notice("console: archive password shown", metadata: ["client": "\(context.client)", "archive": "\(Self.loggable(id))"])
        }
        return Responses.html(ArchivePasswordPage.render(archiveId: id, result: result, csrf: context.csrf),
                              status: (try? result.get()) == nil ? .badRequest : .ok)
    }

    @Sendable func caCertificate(_ request: Request, context: ConsoleContext) async throws -> Response {
        do {
            return Responses.file(try service.caCertificatePEM(), contentType: "application/x-pem-file", name: "moat-ca.pem")
        } catch {
            return Responses.error(.internalServerError, "Moat's CA is not available: \(error)")
        }
    }
}

/// The change form's action, as cfset's flags: set (none), add (-a), erase (-e), reset (-r).
enum ConfigEditForm {
    static func edit(action: String, value: String) -> ConfigEdit? {
        switch action {
        case "set": .set(value)
        case "add": .add(value)
        case "erase": .erase(value)
        case "reset": .reset
        default: nil
        }
    }
}

extension ConsoleContext {
    /// Every page after login has forms; the guard has put the session here.
    var csrf: String { session?.csrfToken ?? "" }
}

extension Notice {
    var isInfo: Bool { if case .info = self { true } else { false } }
}

extension ParameterType {
    var isRuleSet: Bool { if case .rules = self { true } else { false } }
}
