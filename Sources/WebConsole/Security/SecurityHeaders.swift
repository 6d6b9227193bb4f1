import HTTPTypes
import Hummingbird

/// On every answer, errors included: no framing, no scripts or styles from elsewhere, nothing
/// kept in caches. An error thrown below becomes a plain page here, so none escapes these
/// headers.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    static var fields: [(HTTPField.Name, String)] {
        [
            (HTTPField.Name("Content-Security-Policy")!, "default-src 'self'; form-action 'self'; frame-ancestors 'none'"),
            (HTTPField.Name("X-Frame-Options")!, "DENY"),
            (.cacheControl, "no-store"),
            (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
            (HTTPField.Name("Referrer-Policy")!, "same-origin"),
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            let text = error.status == .notFound ? "There is no such page." : "The request could not be served."
            response = Responses.error(error.status, text)
        } catch {
            context.logger.error("console request failed", metadata: ["error": "\(error)"])
            response = Responses.error(.internalServerError, "The request could not be served; see moatd's log.")
        }
        for (name, value) in Self.fields { response.headers[name] = value }
        return response
    }
}
