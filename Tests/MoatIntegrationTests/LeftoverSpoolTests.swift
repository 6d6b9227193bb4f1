import Foundation
import Testing

/// Spool files left by a crash are whole messages nobody acknowledged: moatd removes them at
/// start, before it listens, and says so; nothing else is touched.
@Suite(.serialized, .offCooperativePool) struct LeftoverSpoolTests {
    @Test func leftoverSpoolFilesAreRemovedAtStart() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let varDir = sandbox.root.path + "/var"
        let fm = FileManager.default
        for dir in ["spool", "spool/spamd", "spool/rspamd", "spool/clamd", "gate"] {
            try fm.createDirectory(atPath: varDir + "/" + dir, withIntermediateDirectories: true)
        }
        let leftovers = ["spool/milter-", "spool/part-", "spool/spamd/msg-", "spool/rspamd/msg-", "spool/clamd/msg-", "gate/smtp-"]
            .map { varDir + "/" + $0 + UUID().uuidString }
        let unrelated = [varDir + "/spool/notes.txt", varDir + "/spool/msg-not-a-uuid", varDir + "/spool/spamd/keep-" + UUID().uuidString,
                         varDir + "/gate/msg-" + UUID().uuidString, sandbox.root.path + "/milter-" + UUID().uuidString]
        for path in leftovers + unrelated { fm.createFile(atPath: path, contents: Data("Subject: half a message\r\n".utf8)) }
        // A directory and a symbolic link with spool names are not files Moat wrote.
        let directory = varDir + "/spool/part-" + UUID().uuidString
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let link = varDir + "/spool/milter-" + UUID().uuidString
        try fm.createSymbolicLink(atPath: link, withDestinationPath: unrelated[0])

        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        for path in leftovers { #expect(!fm.fileExists(atPath: path), "\(path) is still there") }
        for path in unrelated + [directory, link] { #expect(fm.fileExists(atPath: path), "\(path) was removed") }
        let log = daemon.log
        #expect(log.contains("removed 6 leftover spool files"), "\(log)")
        #expect(log.contains(varDir + "/spool/spamd (1)") && log.contains(varDir + "/gate (1)") && log.contains(varDir + "/spool (2)"), "\(log)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// Two daemons on one VarDir (tests side by side, a second instance): the second one finds
    /// the first running and removes nothing, since those files belong to live messages.
    @Test func aDaemonSharingVarDirRemovesNothing() throws {
        let first = try Sandbox()
        defer { first.remove() }
        let varDir = first.root.path + "/var"
        let daemon = try Daemon(first)
        try daemon.waitUntilAnswering()
        let live = varDir + "/spool/milter-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: varDir + "/spool", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: live, contents: Data("Subject: being checked\r\n".utf8))

        let second = try Sandbox()
        defer { second.remove() }
        try second.write(try second.read().replacingOccurrences(of: "VarDir = \(second.root.path)/var", with: "VarDir = \(varDir)"))
        let other = try Daemon(second)
        try other.waitUntilAnswering()
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(other.log.contains("another moatd uses \(varDir)"), "\(other.log)")
        other.signal(SIGTERM)
        #expect(other.waitForExit() == 0)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}

/// Outside systemd the soft descriptor limit is often 1024: moatd raises it to the hard limit
/// and warns when that is below what the connection caps can take.
@Suite(.serialized, .offCooperativePool) struct DescriptorLimitTests {
    @Test func softLimitIsRaisedAndAShortLimitIsReported() throws {
        let sandbox = try Sandbox(extra: "SpamdSocket = 127.0.0.1:\(freeLoopbackPort())\nSpamdMaxConnections = 5000\n")
        defer { sandbox.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        process.arguments = ["--nofile=256:4096", Binaries.path("moatd"), "--config", sandbox.config]
        FileManager.default.createFile(atPath: sandbox.log, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: sandbox.log))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        var text = ""
        for _ in 0..<100 {
            text = (try? String(contentsOfFile: sandbox.log, encoding: .utf8)) ?? ""
            if text.contains("listening") { break }
            usleep(100_000)
        }
        #expect(text.contains("descriptor limit raised from 256 to 4096"), "\(text)")
        #expect(text.contains("descriptor limit 4096 is below the 10512 the connection caps can take"), "\(text)")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
