import Logging
import MailD
import MoatConfig
import NIOCore
import NIOPosix

/// What the connections of one filter interface share: the profile in force, the spool
/// directory of the messages they read, the log.
public protocol FilterService: Sendable {
    var core: MailCore { get }
    var profiles: ProfileCache { get }
    var spoolDirectory: String { get }
    var logger: Logger { get }
}

/// The socket of a request/reply filter interface (spamd, rspamd, clamd). moatd and the tests
/// get each one's listener the same way; the interface says only what is its own: its
/// component name, its "busy, try later" answer and the pipeline of one connection.
public protocol FilterSocket: Sendable {
    associatedtype Service: FilterService
    /// The listener's name in the log ("MailD.Spamd").
    static var component: String { get }
    /// The answer past the connection cap (see `InterfaceListener`).
    static var busyReply: [UInt8] { get }
    /// The pipeline of one connection.
    static func initialize(_ channel: any Channel, service: Service) -> EventLoopFuture<Void>
}

extension FilterSocket {
    public static func listener(address: ListenAddress, service: Service,
                                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                                maxConnections: Int = InterfaceListener.defaultMaxConnections) -> InterfaceListener {
        InterfaceListener(name: component, address: address, group: group, logger: service.logger,
                          maxConnections: maxConnections, refusal: busyReply, metrics: service.core.metrics) { channel in
            initialize(channel, service: service)
        }
    }
}
