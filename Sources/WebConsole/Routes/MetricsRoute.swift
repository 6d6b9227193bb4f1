import HTTPTypes
import Hummingbird
import Prometheus

/// `GET /metrics`: what moatd counts, in Prometheus's text format. Like every page it needs a
/// console session, or else the bearer token of `[HTTPD] MetricsToken`, which is what a
/// scraper has (it cannot fill a login form).
enum MetricsRoute {
    static let path = "/metrics"
    /// Shorter tokens are ignored: a guessable secret would open the figures to anyone.
    static let minimumTokenLength = 16

    static func response(_ registry: PrometheusCollectorRegistry) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: registry.emitToBuffer())))
    }

    static func bearerMatches(_ request: Request, token: String) -> Bool {
        guard token.utf8.count >= minimumTokenLength, let value = request.headers[.authorization] else { return false }
        let prefix = "Bearer "
        guard value.count > prefix.count, value.prefix(prefix.count).lowercased() == prefix.lowercased() else { return false }
        return ConstantTime.equal(String(value.dropFirst(prefix.count)), token)
    }
}
