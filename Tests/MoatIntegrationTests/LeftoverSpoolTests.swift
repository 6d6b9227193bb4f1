import Foundation
import Testing

/// Spool files left by a crash are whole messages nobody acknowledged: moatd removes them at
/// start, before it listens, and says so; nothing else is touched.
@Suite(.serialized) struct LeftoverSpoolTests {
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
