import HTTPTypes
import Hummingbird
import NIOCore

/// Per request: who is asking (the client's address, for the login throttle and the logs)
/// and, once the session check passed, the session.
struct ConsoleContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// `192.0.2.1` or `::1`; `local` over a UNIX socket.
    let client: String
    var session: ConsoleSession?
    var sessionToken: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        switch source.channel.remoteAddress {
        case .v4(let address)?: client = address.host
        case .v6(let address)?: client = address.host
        default: client = "local"
        }
    }
}
