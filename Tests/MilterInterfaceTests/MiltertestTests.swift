import Foundation
import Testing
@testable import MilterInterface

/// Protocol-level cases against the real listener with `miltertest` (OpenDKIM's milter test
/// driver, Debian package miltertest), the way an MTA drives a filter.
@Suite("miltertest", .serialized)
struct MiltertestTests {
    static let tool = "/usr/bin/miltertest"

    func run(_ body: String, server: LiveServer) async throws -> ToolResult {
        try #require(FileManager.default.isExecutableFile(atPath: Self.tool), "miltertest is not installed (scripts/deps/milter.txt)")
        let dir = try Support.temporaryDirectory("moat-miltertest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
            function check(result, what) if result ~= nil then error(what .. ": " .. result) end end
            function expect(reply, what)
              if mt.getreply(conn) ~= reply then error(string.format("%s: reply '%c'", what, mt.getreply(conn))) end
            end
            mt.set_timeout(120)
            conn = mt.connect("inet:\(server.port)@127.0.0.1", 5, 0.2)
            if conn == nil then error("cannot connect") end
            \(body)
            print("script done")
            """
        try script.write(toFile: dir + "/t.lua", atomically: true, encoding: .utf8)
        let result = try await blocking { try runTool(Self.tool, ["-v", "-v", "-s", dir + "/t.lua"]) }
        return result
    }

    static func message(_ n: Int, body: String) -> String {
        """
        mt.macro(conn, SMFIC_MAIL, "i", "QID\(n)")
        check(mt.mailfrom(conn, "<alice@example.com>"), "mail")
        check(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
        check(mt.header(conn, "From", "alice@example.com"), "header")
        check(mt.header(conn, "Subject", "message \(n)"), "header")
        check(mt.bodystring(conn, [[\(body)]]), "body")
        check(mt.eom(conn), "eom")
        """
    }

    static let eicarBody = "Hello\r\n" + Support.eicar + "\r\n"

    /// milter_protocol 6 (Postfix's and Sendmail's default offer): a clean message accepted,
    /// then on the same connection an EICAR message rejected with the rule's text, then
    /// another clean one.
    @Test func version6SeveralMessagesOnOneConnection() async throws {
        let server = try await LiveServer()
        let result = try await run("""
            check(mt.negotiate(conn, nil, nil, nil), "negotiate")
            mt.macro(conn, SMFIC_CONNECT, "j", "mx.example.org")
            check(mt.conninfo(conn, "client.example.com", "192.0.2.1"), "conninfo")
            check(mt.helo(conn, "client.example.com"), "helo")
            \(Self.message(1, body: "clean text\r\n"))
            expect(SMFIR_ACCEPT, "clean message")
            check(mt.abort(conn), "abort")
            \(Self.message(2, body: Self.eicarBody))
            if not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "The message contains a THREAT") then error("no 550 reply") end
            check(mt.abort(conn), "abort")
            \(Self.message(3, body: "clean again\r\n"))
            expect(SMFIR_ACCEPT, "third message")
            mt.disconnect(conn)
            """, server: server)
        await server.stop()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("script done"))
        let lines = server.log.lines
        #expect(lines.contains { $0.contains("milter message rejected (550 5.7.1 The message contains a THREAT)") && $0.contains("queue id QID2") })
        #expect(lines.filter { $0.contains("milter message accepted") }.count == 2)
    }

    /// milter_protocol 2 (old Postfix, Sendmail 8.13): no NR_* bits, so every step is answered
    /// with CONTINUE; the verdict is the same.
    @Test func version2AnswersEveryStep() async throws {
        let server = try await LiveServer()
        let result = try await run("""
            check(mt.negotiate(conn, 2, 0x7F, 0x3F), "negotiate")
            check(mt.conninfo(conn, "client.example.com", "192.0.2.1"), "conninfo")
            expect(SMFIR_CONTINUE, "connect")
            check(mt.helo(conn, "client.example.com"), "helo")
            expect(SMFIR_CONTINUE, "helo")
            check(mt.mailfrom(conn, "<alice@example.com>"), "mail")
            expect(SMFIR_CONTINUE, "mail")
            check(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
            expect(SMFIR_CONTINUE, "rcpt")
            check(mt.header(conn, "Subject", "old"), "header")
            expect(SMFIR_CONTINUE, "header")
            check(mt.bodystring(conn, [[\(Self.eicarBody)]]), "body")
            expect(SMFIR_CONTINUE, "body")
            check(mt.eom(conn), "eom")
            if not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "The message contains a THREAT") then error("no 550 reply") end
            mt.disconnect(conn)
            """, server: server)
        await server.stop()
        #expect(result.status == 0, "\(result.output)")
    }

    /// Sendmail's `INPUT_MAIL_FILTER(`moat', `S=inet:7357@127.0.0.1, F=T, T=S:30s;R:30s;E:5m')`:
    /// Sendmail 8.14+ offers version 6, actions 0x1FF and all steps (0x1FFFFF, with MDS_256K
    /// when built with _FFR_MDS_NEGOTIATE); Moat's answer must stay within that offer.
    @Test func sendmailNegotiation() async throws {
        let server = try await LiveServer()
        let result = try await run("""
            check(mt.negotiate(conn, 6, 0x101FFFFF, 0x1FF), "negotiate")
            if not mt.test_action(conn, SMFIF_ADDHDRS) then error("no ADDHDRS") end
            if not mt.test_action(conn, SMFIF_CHGBODY) then error("no CHGBODY") end
            if mt.test_action(conn, SMFIF_ADDRCPT) then error("asked for ADDRCPT") end
            if not mt.test_option(conn, SMFIP_NOUNKNOWN) then error("no NOUNKNOWN") end
            check(mt.conninfo(conn, "client.example.com", "192.0.2.1"), "conninfo")
            check(mt.helo(conn, "client.example.com"), "helo")
            \(Self.message(1, body: "clean\r\n"))
            expect(SMFIR_ACCEPT, "clean message")
            mt.disconnect(conn)
            """, server: server)
        await server.stop()
        #expect(result.status == 0, "\(result.output)")
    }

    /// RSET in the middle of a message (ABORT), then a new message: the first one's recipients
    /// and headers are gone; the EICAR of the aborted message does not count.
    @Test func abortMidMessage() async throws {
        let server = try await LiveServer()
        let result = try await run("""
            check(mt.negotiate(conn, nil, nil, nil), "negotiate")
            check(mt.conninfo(conn, "client.example.com", "192.0.2.1"), "conninfo")
            check(mt.mailfrom(conn, "<alice@example.com>"), "mail")
            check(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
            check(mt.header(conn, "Subject", "aborted"), "header")
            check(mt.bodystring(conn, [[\(Self.eicarBody)]]), "body")
            check(mt.abort(conn), "abort")
            \(Self.message(2, body: "clean\r\n"))
            expect(SMFIR_ACCEPT, "message after abort")
            mt.disconnect(conn)
            """, server: server)
        await server.stop()
        #expect(result.status == 0, "\(result.output)")
        #expect(!server.log.lines.contains { $0.contains("rejected") })
    }

    /// BlockUnchecked with a message that times out is 451; here: a message larger than the
    /// limit with BlockUnchecked = Yes gets the permanent refusal.
    @Test func oversizedMessageWithBlockUnchecked() async throws {
        var options = MilterInterface.Options()
        options.maxMessageSize = 10_000
        let server = try await LiveServer(profile: Support.profile(blockUnchecked: true), options: options)
        let result = try await run("""
            check(mt.negotiate(conn, nil, nil, nil), "negotiate")
            check(mt.conninfo(conn, "client.example.com", "192.0.2.1"), "conninfo")
            check(mt.mailfrom(conn, "<alice@example.com>"), "mail")
            check(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
            check(mt.header(conn, "Subject", "big"), "header")
            check(mt.bodyrandom(conn, 30000), "body")
            check(mt.eom(conn), "eom")
            if not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "The message could not be checked") then error("no 550 reply") end
            mt.disconnect(conn)
            """, server: server)
        await server.stop()
        #expect(result.status == 0, "\(result.output)")
        #expect(server.log.lines.contains { $0.contains("unchecked: larger than the limit of 10000 bytes") })
    }
}
