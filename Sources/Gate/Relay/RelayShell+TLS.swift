import NIOCore

extension RelayShell {
    /// The server accepted STARTTLS/STLS: unwrap both legs, or relay the encrypted session
    /// blindly (no upgrade offered by the Gate, or the decision says so).
    func beginTLS() {
        guard let upgrade = startTLS, let server else {
            logger.info("STARTTLS accepted: relaying the encrypted session unscanned")
            session = nil
            return
        }
        tls.upgradeStarted = .now()
        // The go-ahead must reach the client before it can send its ClientHello.
        client.flush()
        upgrade.begin(client, server) { [self] outcome in
            client.eventLoop.preconditionInEventLoop()
            tls.upgradeStarted = nil
            guard !closing else { return }
            switch outcome {
            case .unwrapped(let sni):
                tls.unwrapped = true
                tls.sni = sni
                session?.tlsEstablished()
                logger.info("STARTTLS unwrapped", metadata: ["sni": "\(sni ?? "-")"])
                // The TLS set-up switched reading on; the relay takes over from that state.
                clientReading = true
                serverReading = true
                updateReading()
            case .blind:
                logger.info("STARTTLS: relaying the encrypted session unscanned")
                session = nil
            case .failed:
                closeBoth()
            }
        }
    }
}

/// What the two channels' handlers and the Gate's upstream connector need from a relay,
/// whatever its session type.
protocol RelayEndpoint: AnyObject, Sendable {
    var client: any Channel { get }
    /// Connects upstream; set by the Gate, run once the client channel is active.
    var connectUpstream: (() -> Void)? { get set }
    /// Set by the Gate when TLS may be unwrapped after STARTTLS/STLS.
    var startTLS: StartTLSUpgrade? { get set }
    /// TLS around the session (implicit TLS sets it at the start).
    var tls: RelayTLSState { get set }
    func clientActive()
    func serverConnected(_ channel: any Channel)
    func serverConnectFailed(_ error: any Error)
    func read(_ side: RelaySide, _ buffer: ByteBuffer)
    func closed(_ side: RelaySide)
    func writabilityChanged()
}

extension RelayShell: RelayEndpoint {}

/// The thin handler on each of the two channels: bytes in, closes and writability to the relay.
final class RelaySideHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let side: RelaySide
    let relay: any RelayEndpoint

    init(side: RelaySide, relay: any RelayEndpoint) {
        self.side = side
        self.relay = relay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        relay.read(side, unwrapInboundIn(data))
    }

    func channelActive(context: ChannelHandlerContext) {
        if side == .client { relay.clientActive() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        relay.closed(side)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        relay.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
