import FilterTestSupport
import Foundation
import SystemSetupSupport
import Testing
@testable import ClamdInterface

/// Debian's clamav-milter 1.4 configured with Moat's clamd socket as its `ClamdSocket`, driven
/// by miltertest (the MTA side of the milter protocol, scripted in Lua): what an MTA that
/// already runs clamav-milter sees when Moat replaces clamd.
///
/// clamav-milter negotiates SMFIP_NOEOH: `mt.eoh` then raises a Lua error that miltertest
/// does not print (it just exits 1), so the script sends EOH only when it was negotiated.
struct ClamavMilterPeer {
    let directory: String
    let port: Int
    let process: Process

    /// Starts clamav-milter in the foreground on a free loopback port.
    static func start(clamdPort: Int) throws -> ClamavMilterPeer {
        let milter = try Support.tool("/usr/sbin/clamav-milter", package: "clamav-milter")
        _ = try Support.tool("/usr/bin/miltertest", package: "miltertest")
        let directory = Support.temporaryPath("clamav-milter")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try freePort()
        var config = """
            MilterSocket inet:\(port)@127.0.0.1
            ClamdSocket tcp:127.0.0.1:\(clamdPort)
            Foreground yes
            OnInfected Reject
            OnFail Defer
            RejectMsg Moat found %v
            AddHeader Replace
            LogInfected Basic
            LogClean Basic
            LogVerbose yes
            LogFile \(directory)/milter.log
            PidFile \(directory)/milter.pid

            """
        if geteuid() == 0 { config += "User root\n" }
        try config.write(toFile: directory + "/clamav-milter.conf", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: milter)
        process.arguments = ["-c", directory + "/clamav-milter.conf"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let peer = ClamavMilterPeer(directory: directory, port: port, process: process)
        // clamav-milter accepts milter connections before its first probe of clamd has marked
        // the socket alive; a message sent in between is deferred ("Failed to initiate
        // streaming"). Ready means the probe succeeded (logged with LogVerbose).
        let deadline = Date().addingTimeInterval(60)
        while !peer.log.contains("Probe for slot 1 returned: success"), process.isRunning, Date() < deadline {
            usleep(50_000)
        }
        return peer
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    var log: String { (try? String(contentsOfFile: directory + "/milter.log", encoding: .utf8)) ?? "" }

    /// A TCP port nobody listens on now (bound to port 0 and released).
    static func freePort() throws -> Int { try LoopbackPorts.reserve() }

    struct Outcome {
        /// The milter reply to the last step the script reached (`c`, `a`, `y`, `t`, `r`, ...).
        var reply: Character?
        var step: String
        /// Lines the script printed (`smtpreply=...`, `status=...`).
        var lines: [String]
        var raw: Support.Output
        func value(_ key: String) -> String? {
            lines.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
    }

    /// One message through miltertest: connection, envelope, the message's header fields,
    /// EOH (if negotiated), the body from a file, EOM.
    func send(_ message: String) async throws -> Outcome {
        let file = Support.temporaryPath("milter-message")
        let split = message.components(separatedBy: "\r\n\r\n")
        let headerLines = split[0].components(separatedBy: "\r\n")
        try split.dropFirst().joined(separator: "\r\n\r\n").write(toFile: file + ".body", atomically: true, encoding: .utf8)
        defer { unlink(file + ".body"); unlink(file + ".lua") }
        // Long brackets: no escapes inside (the EICAR string has backslashes).
        func lua(_ text: String) -> String { "[==[" + text + "]==]" }
        var headers = ""
        for line in headerLines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers += "step(\(lua("header " + name)), mt.header(conn, \(lua(name)), \(lua(value))))\n"
        }
        let script = """
            local conn = mt.connect(\(lua("inet:\(port)@127.0.0.1")), 60, 0.25)
            if conn == nil then error("cannot connect to clamav-milter") end
            mt.set_timeout(300)
            local function finish(name)
                mt.echo("step=" .. name)
                mt.echo("reply=" .. string.char(math.floor(mt.getreply(conn))))
                mt.echo("smtpreply=" .. tostring(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "Moat found Moat.Test.EICAR")))
                local status = mt.getheader(conn, "X-Virus-Status", 0)
                mt.echo("status=" .. tostring(status))
                mt.disconnect(conn)
                os.exit(0)
            end
            function step(name, err)
                if err ~= nil then error(name .. ": " .. err) end
                if mt.getreply(conn) ~= SMFIR_CONTINUE then finish(name) end
            end
            step("conninfo", mt.conninfo(conn, "client.example.com", "192.0.2.1"))
            step("mailfrom", mt.mailfrom(conn, "<alice@example.com>"))
            step("rcptto", mt.rcptto(conn, "<bob@example.org>"))
            \(headers)
            if not mt.test_option(conn, SMFIP_NOEOH) then step("eoh", mt.eoh(conn)) end
            step("body", mt.bodyfile(conn, \(lua(file + ".body"))))
            local err = mt.eom(conn)
            if err ~= nil then error("eom: " .. err) end
            finish("eom")

            """
        try script.write(toFile: file + ".lua", atomically: true, encoding: .utf8)
        let output = try await Support.run("/usr/bin/miltertest", ["-s", file + ".lua"], timeout: 120)
        let lines = output.stdout.split(separator: "\n").map(String.init)
        var outcome = Outcome(reply: nil, step: "", lines: lines, raw: output)
        outcome.reply = outcome.value("reply")?.first
        outcome.step = outcome.value("step") ?? ""
        return outcome
    }
}

@Suite(.serialized) struct ClamavMilterTests {
    @Test func clamavMilterRejectsWhatMoatsClamdFinds() async throws {
        // Generous: under the whole suite's load a scan can take far longer than the default 30 s.
        // Harness limits, not speed assertions: under the whole suite's load a scan and a
        // milter reply can take far longer than the defaults (30 s).
        let server = try await ClamdServer.start("ScanTimeout = 300s\n")
        let milter = try ClamavMilterPeer.start(clamdPort: server.port)
        defer { milter.stop() }

        let infected = try await milter.send(Support.eicarMail)
        #expect(infected.raw.status == 0, "\(infected.raw)")
        #expect(infected.step == "eom" && infected.reply == "y", "SMFIR_REPLYCODE at end of message: \(infected.lines) \(milter.log)")
        #expect(infected.value("smtpreply") == "true", "550 5.7.1 with the name Moat's clamd gave: \(infected.lines)")
        #expect(milter.log.contains("Moat.Test.EICAR"), "\(milter.log)")

        let clean = try await milter.send(Support.clean)
        #expect(clean.raw.status == 0, "\(clean.raw)")
        #expect(clean.step == "eom" && (clean.reply == "a" || clean.reply == "c"), "accepted: \(clean.lines) \(milter.log)")
        #expect(clean.value("status") == "Clean", "X-Virus-Status from a scan that answered OK: \(clean.lines)")

        // OnFail Defer: with Moat's clamd gone, clamav-milter defers instead of passing mail.
        await server.stop()
        let unreachable = try await milter.send(Support.eicarMail)
        #expect(unreachable.reply == "t", "SMFIR_TEMPFAIL without clamd: \(unreachable.lines) \(milter.log)")
    }
}
