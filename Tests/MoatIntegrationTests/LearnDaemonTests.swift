import Foundation
import Testing

/// `moat-ctl learn` teaches the running moatd's anti-spam model (files, mboxes, Maildirs),
/// `appinfo` says how much it learned, and the model survives a restart.
@Suite(.serialized, .offCooperativePool) struct LearnDaemonTests {
    static func message(_ subject: String, _ body: String) -> String {
        "From: a@example.com\nSubject: \(subject)\nMessage-ID: <\(UUID().uuidString)@example.com>\n\n\(body)\n"
    }

    @Test func learnSpamAndHamThenForgetAndRestart() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let mbox = sandbox.root.appendingPathComponent("spam.mbox").path
        try ("From x Mon Jan  1 00:00:00 2024\n" + Self.message("cheap pills", "discount pharmacy")
             + "\nFrom x Mon Jan  1 00:00:01 2024\n" + Self.message("casino bonus", "win now")).write(toFile: mbox, atomically: true, encoding: .utf8)
        let maildir = sandbox.root.appendingPathComponent("Maildir")
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(at: maildir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Self.message("minutes", "agenda of the meeting").write(to: maildir.appendingPathComponent("cur/1:2,S"), atomically: true, encoding: .utf8)
        try Self.message("half-written", "still being delivered").write(to: maildir.appendingPathComponent("tmp/2"), atomically: true, encoding: .utf8)

        var daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let spam = try ctl("learn", "spam", mbox, config: sandbox.config)
        #expect(spam.status == 0, "\(spam)")
        #expect(spam.stdout.contains("\(mbox)#1: learned"))
        #expect(spam.stdout.contains("2 of 2 messages changed the model; learned: 2 spam, 0 ham"), "\(spam.stdout)")
        let ham = try ctl("learn", "ham", maildir.path, config: sandbox.config)
        #expect(ham.stdout.contains("1 of 1 messages changed the model; learned: 2 spam, 1 ham"), "Maildir's tmp/ is not read: \(ham.stdout)")
        let again = try ctl("learn", "spam", mbox, config: sandbox.config)
        #expect(again.stdout.contains("already learned"))
        #expect(again.stdout.contains("0 of 2 messages changed the model"))

        let info = try ctl("appinfo", config: sandbox.config)
        #expect(info.stdout.contains("anti-spam: learned 2 spam, 1 ham"), "\(info.stdout)")
        #expect(info.stdout.contains("statistical model not used until 200 of each are learned"))

        let forget = try ctl("learn", "spam", "--forget", mbox, config: sandbox.config)
        #expect(forget.stdout.contains("forgotten (had been learned as spam)"))
        #expect(forget.stdout.contains("learned: 0 spam, 1 ham"))
        let missing = try ctl("learn", "ham", "/nonexistent/mail.eml", config: sandbox.config)
        #expect(missing.status != 0)

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let restarted = try ctl("appinfo", config: sandbox.config)
        #expect(restarted.stdout.contains("anti-spam: learned 0 spam, 1 ham"), "the model is on disk: \(restarted.stdout)")
        daemon.signal(SIGTERM)
        _ = daemon.waitForExit()
    }
}
