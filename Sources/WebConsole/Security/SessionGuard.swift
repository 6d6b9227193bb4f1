import Foundation
import HTTPTypes
import Hummingbird

/// Everything but the login page (and its stylesheet) needs a live session: without one the
/// answer is a redirect to /login. With one, every POST must carry the session's CSRF token
/// and, when the browser says where the request comes from (Origin, Referer), come from the
/// console itself; otherwise 403.
struct SessionGuard: RouterMiddleware {
    static let publicPaths: Set<String> = ["/login", "/console.css"]

    let sessions: ConsoleSessions
    let idleTimeout: @Sendable () -> TimeInterval
    /// `[HTTPD] MetricsToken`, read at each request; empty: no token opens anything.
    var metricsToken: @Sendable () -> String = { "" }

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response) async throws -> Response {
        if Self.publicPaths.contains(request.uri.path) {
            if request.method == .post, !SameOrigin.allows(request) {
                return Responses.error(.forbidden, "The request did not come from this console.")
            }
            return try await next(request, context)
        }
        if request.uri.path == MetricsRoute.path, request.method == .get, MetricsRoute.bearerMatches(request, token: metricsToken()) {
            return try await next(request, context)
        }
        guard let token = request.cookies[ConsoleSessions.cookieName]?.value, !token.isEmpty,
              let session = sessions.use(token, idleTimeout: idleTimeout())
        else {
            return Responses.redirect(to: "/login")
        }
        var context = context
        context.session = session
        context.sessionToken = token
        guard request.method != .get, request.method != .head else { return try await next(request, context) }

        guard SameOrigin.allows(request) else {
            context.logger.warning("console request refused: cross-origin", metadata: ["client": "\(context.client)", "path": "\(request.uri.path)"])
            return Responses.error(.forbidden, "The request did not come from this console.")
        }
        // The token is read from the body; the route reads the same form again (it is kept).
        var request = request
        let buffer = try await request.collectBody(upTo: Form.maxBodySize)
        let form = Form(encoded: String(buffer: buffer))
        guard let given = form["csrf"], ConstantTime.equal(given, session.csrfToken) else {
            context.logger.warning("console request refused: missing or wrong CSRF token",
                                   metadata: ["client": "\(context.client)", "path": "\(request.uri.path)"])
            return Responses.error(.forbidden, "The form has expired or did not come from this console; reload the page and try again.")
        }
        return try await next(request, context)
    }
}

/// A request the browser says comes from another site is refused. Browsers send Origin on
/// every POST; Referer is checked when there is no Origin. Neither present (curl, old
/// browsers) is allowed: the CSRF token and SameSite=Strict still apply.
enum SameOrigin {
    static func allows(_ request: Request) -> Bool {
        guard let host = request.head.authority else {
            return request.headers[.origin] == nil && request.headers[.referer] == nil
        }
        let own = "https://" + host.lowercased()
        if let origin = request.headers[.origin] {
            return origin.lowercased() == own
        }
        if let referer = request.headers[.referer] {
            let lower = referer.lowercased()
            return lower == own || lower.hasPrefix(own + "/")
        }
        return true
    }
}
