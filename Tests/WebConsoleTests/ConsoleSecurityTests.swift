import Foundation
import Testing
@testable import WebConsole

/// The console's security objects on their own, with the clock given.
@Suite struct ConsoleSecurityTests {
    @Test func sessionsEndAfterTheIdleTimeoutAndUseRenewsThem() {
        let sessions = ConsoleSessions()
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let (token, session) = sessions.create(user: "admin", client: "127.0.0.1", now: start)
        #expect(session.csrfToken.count == 43)
        #expect(session.csrfToken != token)
        #expect(sessions.use(token, idleTimeout: 1800, now: start.addingTimeInterval(1700)) != nil)
        // Used at 1700 s, so still alive 1700 s later.
        #expect(sessions.use(token, idleTimeout: 1800, now: start.addingTimeInterval(3400)) != nil)
        #expect(sessions.use(token, idleTimeout: 1800, now: start.addingTimeInterval(5201)) == nil)
        #expect(sessions.count == 0, "an expired session is removed")
        #expect(sessions.use("unknown", idleTimeout: 1800) == nil)
    }

    @Test func sessionTableIsBounded() {
        let sessions = ConsoleSessions(capacity: 3)
        let start = Date()
        let first = sessions.create(user: "admin", client: "a", now: start).token
        for i in 1...3 { _ = sessions.create(user: "admin", client: "a", now: start.addingTimeInterval(Double(i))) }
        #expect(sessions.count == 3)
        #expect(sessions.use(first, idleTimeout: 60, now: start.addingTimeInterval(5)) == nil, "the least recently used went")
    }

    @Test func throttleLocksOneAddressAfterFiveFailuresForAMinute() {
        let throttle = LoginThrottle()
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        for i in 0..<5 {
            #expect(throttle.begin("192.0.2.1", now: t0) == .allowed)
            let locked = throttle.finish("192.0.2.1", succeeded: false, now: t0)
            #expect((locked != nil) == (i == 4))
        }
        #expect(throttle.begin("192.0.2.1", now: t0.addingTimeInterval(59)) == .locked(until: t0.addingTimeInterval(60)))
        #expect(throttle.begin("192.0.2.2", now: t0.addingTimeInterval(1)) == .allowed, "other addresses are not affected")
        #expect(throttle.begin("192.0.2.1", now: t0.addingTimeInterval(61)) == .allowed, "the lockout ends")
    }

    @Test func throttleCountsAttemptsInProgressAndForgetsAfterSuccess() {
        let throttle = LoginThrottle()
        let now = Date()
        for _ in 0..<5 { #expect(throttle.begin("198.51.100.1", now: now) == .allowed) }
        if case .locked = throttle.begin("198.51.100.1", now: now) {} else { Issue.record("a sixth concurrent attempt must wait") }
        let fresh = LoginThrottle()
        for _ in 0..<4 {
            _ = fresh.begin("198.51.100.2", now: now)
            fresh.finish("198.51.100.2", succeeded: false, now: now)
        }
        _ = fresh.begin("198.51.100.2", now: now)
        fresh.finish("198.51.100.2", succeeded: true, now: now)
        for _ in 0..<4 {
            #expect(fresh.begin("198.51.100.2", now: now) == .allowed)
            fresh.finish("198.51.100.2", succeeded: false, now: now)
        }
    }

    @Test func passwordHashIsSaltedSlowAndChecked() throws {
        let a = try PasswordHash.make("correct horse battery")
        let b = try PasswordHash.make("correct horse battery")
        #expect(a != b, "a random salt each time")
        let fields = a.split(separator: "$")
        #expect(fields.count == 4)
        #expect(fields[0] == "pbkdf2-sha256")
        #expect(fields[1] == "600000")
        #expect(Data(base64Encoded: String(fields[2]))?.count == 16)
        #expect(PasswordHash.verify("correct horse battery", against: a))
        #expect(!PasswordHash.verify("correct horse batterY", against: a))
        #expect(!PasswordHash.verify("correct horse battery", against: "pbkdf2-sha256$1000$AAAA$AAAA"), "too few rounds")
        #expect(!PasswordHash.verify("x", against: "garbage"))
    }

    @Test func htmlInterpolationEscapes() {
        let value = "<a href=\"x\">'&'</a>"
        let html: HTML = "<td>\(value)</td>"
        #expect(html.text == "<td>&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;</td>")
        let nested: HTML = "<tr>\(html)</tr>"
        #expect(nested.text == "<tr>" + html.text + "</tr>")
    }

    @Test func formDecoding() {
        let form = Form(encoded: "a=1+2&b=%3Cx%3E&a=ignored&c=&=x&d")
        #expect(form["a"] == "1 2")
        #expect(form["b"] == "<x>")
        #expect(form["c"] == "")
        #expect(form["d"] == "")
    }
}

@Suite struct ConsoleLogTextTests {
    @Test func typedTextCannotForgeLogLines() {
        #expect(ConsoleRoutes.loggable("admin\nNOTICE: console login user=root") == "admin?NOTICE: console login user=root")
        #expect(ConsoleRoutes.loggable(String(repeating: "x", count: 500)).count == 100)
    }
}
