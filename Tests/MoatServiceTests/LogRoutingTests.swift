import Logging
import MoatConfig
import Testing
@testable import MoatService

/// Each component's level and destination, from its section or `[Root]`.
struct LogRoutingTests {
    @Test func componentsInheritFromRootUnlessSet() throws {
        let routing = LogRouting()
        routing.apply(try settings("""
            [Root]
            DefaultLogLevel = Warning
            LogLevel = Info
            Log = Syslog:MAIL
            [MailD]
            LogLevel = Debug
            [ClamD]
            Log = /var/log/moat-clamd.log
            """))
        #expect(routing.route(for: "moatd").level == .info)
        #expect(routing.route(for: "moatd").target == .syslog(facility: "MAIL"))
        #expect(routing.route(for: "MailD").level == .debug)
        #expect(routing.route(for: "MailD").target == .syslog(facility: "MAIL"))
        #expect(routing.route(for: "ClamD").level == .warning)
        #expect(routing.route(for: "ClamD").target == .file(path: "/var/log/moat-clamd.log"))
        // A label without a section of its own (Gate, MailD.Milter) takes the defaults.
        #expect(routing.route(for: "Gate").level == .warning)
        #expect(routing.route(for: "Gate").target == .syslog(facility: "MAIL"))
    }

    @Test func reloadReplacesTheRoutes() throws {
        let routing = LogRouting()
        routing.apply(try settings("[HTTPD]\nLogLevel = Error\n"))
        #expect(routing.route(for: "HTTPD").level == .error)
        routing.apply(try settings(""))
        #expect(routing.route(for: "HTTPD").level == .notice)
    }
}
