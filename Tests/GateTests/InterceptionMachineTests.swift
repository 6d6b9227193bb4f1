import Testing
@testable import Gate

/// TLS interception event by event: what Moat does with a client's TLS depends only on what
/// it learned, in order, and a leaf is never issued for a server that did not verify.
@Suite struct InterceptionMachineTests {
    struct Refused: Error {}
    static let pair = TLSPassThroughList.Pair(client: "10.0.0.2", server: "10.0.1.25:465")

    static func machine(port: Int = 465, replaceable: Bool = true, _ configure: (inout GateSettings) -> Void = { _ in })
        -> InterceptionMachine {
        var settings = GateSettings()
        configure(&settings)
        return InterceptionMachine(settings: .init(settings, port: port, upstreamReplaceable: replaceable), pair: pair)
    }

    static func withoutLogs(_ effects: [InterceptionMachine.Effect]) -> [InterceptionMachine.Effect] {
        effects.filter { if case .log = $0 { false } else { true } }
    }

    @Test func notToBeUnwrappedTheHeldClientHelloGoesOnUntouched() {
        var m = Self.machine()
        #expect(m.handle(.clientHello(sni: "mail.example.org", unwrap: false)) == [.relayBlind, .cancelDeadline])
        #expect(m.state == .blind)
        #expect(m.handle(.upstreamHandshake(.success(nil), provedName: true)) == [], "nothing is unwrapped afterwards")
    }

    @Test func theServerIsReachedAndVerifiedBeforeTheClientIsAnswered() {
        var m = Self.machine()
        #expect(m.handle(.clientHello(sni: "mail.example.org", unwrap: true))
                == [.connectUpstream(.verify(hostname: "mail.example.org"), serverName: "mail.example.org")])
        #expect(m.handle(.deadline).contains(.closeClient), "the deadline still runs while the server is verified")
        var n = Self.machine()
        _ = n.handle(.clientHello(sni: "mail.example.org", unwrap: true))
        #expect(n.handle(.upstreamHandshake(.success(nil), provedName: false))
                == [.answerClient(sni: "mail.example.org", upstream: nil, verified: true), .cancelDeadline])
        #expect(n.state == .unwrapped(sni: "mail.example.org"))
    }

    @Test func noSNIMeansTheChainOnlyIsChecked() {
        var m = Self.machine()
        #expect(m.handle(.clientHello(sni: nil, unwrap: true)) == [.connectUpstream(.chainOnly, serverName: nil)])
    }

    @Test func aServerThatFailsVerificationIsRefusedOrRelayedNeverVouchedFor() {
        var refuse = Self.machine()
        _ = refuse.handle(.clientHello(sni: "mail.example.org", unwrap: true))
        #expect(Self.withoutLogs(refuse.handle(.upstreamHandshake(.failure(Refused()), provedName: false)))
                == [.closeUpstream, .cancelDeadline, .fail])
        var relay = Self.machine { $0.upstreamVerifyFailure = .relay }
        _ = relay.handle(.clientHello(sni: "mail.example.org", unwrap: true))
        #expect(Self.withoutLogs(relay.handle(.upstreamHandshake(.failure(Refused()), provedName: false)))
                == [.closeUpstream, .relayBlind, .cancelDeadline], "implicit TLS: a fresh connection gets the ClientHello")
        var afterStartTLS = Self.machine(port: 587, replaceable: false) { $0.upstreamVerifyFailure = .relay }
        _ = afterStartTLS.handle(.clientHello(sni: "mail.example.org", unwrap: true))
        #expect(Self.withoutLogs(afterStartTLS.handle(.upstreamHandshake(.failure(Refused()), provedName: false)))
                == [.closeUpstream, .passThrough(.init(client: nil, server: Self.pair.server), .seconds(3600)), .cancelDeadline, .fail],
                "after STARTTLS the upstream cannot be replaced: refused now, relayed from the retry on")
    }

    @Test func port25GivesALeafOfTheUntrustedCAWhenTheNameIsNotProved() {
        var m = Self.machine(port: 25, replaceable: false)
        #expect(m.handle(.clientHello(sni: "mx.example.org", unwrap: true)) == [.connectUpstream(.opportunistic, serverName: "mx.example.org")])
        #expect(Self.withoutLogs(m.handle(.upstreamHandshake(.success(nil), provedName: false)))
                == [.answerClient(sni: "mx.example.org", upstream: nil, verified: false), .cancelDeadline])
        var proved = Self.machine(port: 25, replaceable: false)
        _ = proved.handle(.clientHello(sni: "mx.example.org", unwrap: true))
        #expect(proved.handle(.upstreamHandshake(.success(nil), provedName: true))
                == [.answerClient(sni: "mx.example.org", upstream: nil, verified: true), .cancelDeadline])
        var relayed = Self.machine(port: 25, replaceable: false) { $0.unverifiedUpstream = .relay }
        _ = relayed.handle(.clientHello(sni: "mx.example.org", unwrap: true))
        #expect(!relayed.handle(.upstreamHandshake(.success(nil), provedName: false)).contains { if case .answerClient = $0 { true } else { false } })
        #expect(relayed.state == .failed)
    }

    @Test func aClientThatRefusesTheLeafIsRememberedOnlyWhenAsked() {
        var m = Self.machine { $0.passThroughRejectingClients = true; $0.passThroughTime = .seconds(600) }
        _ = m.handle(.clientHello(sni: "mail.example.org", unwrap: true))
        _ = m.handle(.upstreamHandshake(.success(nil), provedName: true))
        #expect(Self.withoutLogs(m.handle(.clientHandshakeFailed(Refused()))) == [.passThrough(Self.pair, .seconds(600))])
        var n = Self.machine()
        _ = n.handle(.clientHello(sni: "mail.example.org", unwrap: true))
        _ = n.handle(.upstreamHandshake(.success(nil), provedName: true))
        #expect(Self.withoutLogs(n.handle(.clientHandshakeFailed(Refused()))) == [])
        var closed = Self.machine { $0.passThroughRejectingClients = true }
        _ = closed.handle(.clientHello(sni: "mail.example.org", unwrap: true))
        _ = closed.handle(.upstreamHandshake(.success(nil), provedName: true))
        #expect(Self.withoutLogs(closed.handle(.clientHandshakeFailed(ChannelErrorKind.eof))) == [], "a client that just left is no refusal")
    }

    @Test func theDeadlineClosesOnlyUndecidedSessions() {
        var waiting = Self.machine()
        #expect(Self.withoutLogs(waiting.handle(.deadline)) == [.closeClient])
        var decided = Self.machine()
        _ = decided.handle(.clientHello(sni: nil, unwrap: false))
        #expect(decided.handle(.deadline) == [])
    }

    /// Any order of events, any settings: `answerClient` comes only right after a successful
    /// upstream handshake, at most once, and says `verified` only for what the server proved.
    @Test func aLeafIsNeverIssuedWithoutAVerifiedUpstream() {
        var rng = SplitMix(seed: 42)
        for _ in 0..<2000 {
            let port = [25, 465, 587, 993].randomElement(using: &rng)!
            var m = Self.machine(port: port, replaceable: Bool.random(using: &rng)) {
                $0.verifyMxCertificates = [GateSettings.MxVerification.no, .yes, .dane].randomElement(using: &rng)!
                $0.unverifiedUpstream = Bool.random(using: &rng) ? .relay : .untrustedCa
                $0.upstreamVerifyFailure = Bool.random(using: &rng) ? .relay : .refuse
            }
            var answered = 0
            var policy: TLSInterception.UpstreamPolicy?
            for _ in 0..<6 {
                let event: InterceptionMachine.Event
                let proved = Bool.random(using: &rng)
                switch Int.random(in: 0..<7, using: &rng) {
                case 0: event = .clientHello(sni: Bool.random(using: &rng) ? "mail.example.org" : nil, unwrap: Bool.random(using: &rng))
                case 1: event = .upstreamHandshake(.success(nil), provedName: proved)
                case 2: event = .upstreamHandshake(.failure(Refused()), provedName: proved)
                case 3: event = .upstreamUnreachable(Refused())
                case 4: event = .deadline
                case 5: event = .clientHandshakeFailed(Refused())
                default: event = .blindFailed
                }
                let effects = m.handle(event)
                for effect in effects {
                    if case .connectUpstream(let p, _) = effect { policy = p }
                    guard case .answerClient(_, _, let verified) = effect else { continue }
                    answered += 1
                    guard case .upstreamHandshake(.success, let provedName) = event else {
                        Issue.record("a leaf after \(event)")
                        continue
                    }
                    #expect(!verified || policy != .opportunistic || provedName)
                }
            }
            #expect(answered <= 1)
        }
    }
}
