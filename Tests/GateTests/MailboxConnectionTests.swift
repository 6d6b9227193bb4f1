import NIOCore
import Testing
@testable import Gate

/// The connection-wide state POP3 and IMAP share, event by event: STARTTLS injection rules,
/// passthrough only after the queue drained, close after the server's EOF.
@Suite struct MailboxConnectionTests {
    typealias Connection = MailboxConnection<Int, POP3RelaySession.Action>

    @Test func startTLSDropsInjectedBytesAndWaitsForTheQueue() {
        var c = Connection()
        #expect(c.screenClient(buf("x")) == nil, "relaying: parsed")
        c.startTLSSent()
        #expect(c.screenClient(buf("abc")) == [.injectionDiscarded(from: .client, byteCount: 3)])
        #expect(c.screenClient(ByteBuffer()) == [])
        #expect(c.screenServer(buf("+OK")) == nil, "the reply is parsed")
        c.output.hold(MailCheckID(rawValue: 1), 0)
        c.startTLSAnswered(accepted: true)
        #expect(c.screenServer(buf("evil")) == [.injectionDiscarded(from: .server, byteCount: 4)])
        #expect(c.flush([]) == [], "a held reply is in front")
        _ = c.output.resolve(MailCheckID(rawValue: 1), with: buf("msg"))
        #expect(c.flush([]) == [.sendToClient(buf("msg")), .startTLSPassthrough])
        #expect(c.phase == .passthrough)
        #expect(c.screenClient(buf("tls")) == [.sendToServer(buf("tls"))])
        #expect(c.screenServer(buf("tls")) == [.sendToClient(buf("tls"))])
        let resumed = c.resumeAfterTLS()
        #expect(resumed && c.phase == .relaying)
        let again = c.resumeAfterTLS()
        #expect(!again, "once")
    }

    @Test func refusedStartTLSGoesOn() {
        var c = Connection()
        c.startTLSAnswered(accepted: true)
        #expect(c.phase == .relaying, "nothing outstanding: no-op")
        c.startTLSSent()
        c.startTLSAnswered(accepted: false)
        #expect(c.phase == .relaying)
        #expect(c.flush([]) == [])
    }

    @Test func serverEOFClosesAfterTheQueue() {
        var c = Connection()
        c.output.hold(MailCheckID(rawValue: 1), 0)
        #expect(c.serverClosed() == nil)
        #expect(c.flush([]) == [])
        _ = c.output.resolve(MailCheckID(rawValue: 1), with: buf("last"))
        #expect(c.flush([]) == [.sendToClient(buf("last")), .close(.serverClosed)])
        #expect(!c.isOpen)
        #expect(c.serverClosed() == [])
        #expect(c.screenClient(buf("x")) == [])
        #expect(c.clientClosed() == [])
    }

    @Test func passthroughServerCloseAndClientClose() {
        var c = Connection()
        c.startTLSSent()
        c.startTLSAnswered(accepted: true)
        _ = c.flush([])
        #expect(c.serverClosed() == [.close(.serverClosed)])
        var d = Connection()
        d.output.append(buf("queued"))
        #expect(d.clientClosed() == [.close(.clientClosed)])
        #expect(d.output.isEmpty)
    }

    @Test func closeSendsWhatIsReadyButNothingHeld() {
        var c = Connection()
        c.output.append(buf("ready"))
        c.output.hold(MailCheckID(rawValue: 1), 0)
        c.output.append(buf("after"))
        #expect(c.close([.sendToServer(buf("q"))], .clientProtocolViolation)
                == [.sendToServer(buf("q")), .sendToClient(buf("ready")), .close(.clientProtocolViolation)])
        #expect(c.output.isEmpty && !c.parsesServer)
    }
}
