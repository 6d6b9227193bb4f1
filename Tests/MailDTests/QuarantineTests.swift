import Foundation
import Policy
import Storage
import Testing
@testable import MailD

/// QUARANTINE from rule to file: the original bytes kept before the answer, alone (held) or
/// with a final action, repack archives kept, and never a delivery when keeping fails.
@Suite struct QuarantineTests {
    struct Setup {
        let directory: String
        let records: MailRecords
        let core: MailCore
    }

    func setup(recorder: Bool = true) throws -> Setup {
        let directory = try Fixtures.temporaryDirectory().path
        let records = MailRecords(quarantineDirectory: directory + "/quarantine", node: "node-a", writer: nil)
        let core = MailCore(scanner: SharedCore.scanner, spoolDirectory: directory + "/spool",
                            recorder: recorder ? records : nil)
        return Setup(directory: directory, records: records, core: core)
    }

    static let envelope = Envelope(source: .milter, sender: "alice@example.com", recipients: ["bob@example.org", "carol@example.org"],
                                   clientAddress: "192.0.2.9")

    func decide(_ setup: Setup, _ rules: [String], _ message: [UInt8], spoolThreshold: Int = 16 << 20) async -> Decision {
        var profile = CheckProfile(name: "Milter", limits: SharedCore.limits, rules: rules, spoolThreshold: spoolThreshold)
        profile.repack = Repacker.Settings()
        return await setup.core.decide(envelope: Self.envelope, message: .bytes(message), profile: profile)
    }

    /// The kept file of a decision, with its sidecar.
    func kept(_ setup: Setup, _ decision: Decision) throws -> (bytes: [UInt8], sidecar: QuarantineFiles.Sidecar, path: String) {
        let id = try #require(decision.quarantine?.id)
        let day = try #require(try FileManager.default.contentsOfDirectory(atPath: setup.records.files.directory).first)
        let relative = "\(day)/\(id).eml"
        let bytes = try #require(setup.records.files.read(relative))
        let sidecar = try #require(setup.records.files.sidecar(relative))
        return (bytes, sidecar, setup.records.files.path(relative))
    }

    @Test func quarantineAloneHoldsTheOriginalBytes() async throws {
        let s = try setup()
        let message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        let decision = await decide(s, ["threat_category : QUARANTINE"], message)
        #expect(decision.action == .discard)
        #expect(decision.quarantine?.held == true)
        #expect(decision.reason.contains("quarantined"))
        let (bytes, sidecar, path) = try kept(s, decision)
        #expect(bytes == message)
        #expect(sidecar.envelope == Self.envelope)
        #expect(sidecar.record.verdict == "quarantine")
        #expect(sidecar.record.node == "node-a")
        #expect(sidecar.record.recipients == ["bob@example.org", "carol@example.org"])
        #expect(sidecar.record.threats.first?.localizedCaseInsensitiveContains("eicar") == true)
        #expect(sidecar.record.messageId == "<attach-eicar.com@example.com>")
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_uid == getuid())
        let row = MessageLogEntry(decision, node: "node-a")
        #expect(row.verdict == "quarantine")
        #expect(row.quarantineId == decision.quarantine?.id)
        // A clean message does not match the rule and passes untouched.
        let clean = await decide(s, ["threat_category : QUARANTINE"], Array("Subject: hi\r\n\r\nhello\r\n".utf8))
        #expect(clean.action == .pass)
        #expect(clean.quarantine == nil)
    }

    @Test(arguments: [
        ("QUARANTINE, REJECT \"held for review\"", FinalAction.reject("held for review"), "reject+quarantine"),
        ("QUARANTINE, DISCARD", FinalAction.discard, "discard+quarantine"),
        ("QUARANTINE, PASS", FinalAction.pass, "pass+quarantine"),
    ])
    func quarantineWithAFinalActionKeepsACopy(_ rule: String, _ action: FinalAction, _ verdict: String) async throws {
        let s = try setup()
        let message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        let decision = await decide(s, ["threat_category : \(rule)"], message)
        #expect(decision.action == action)
        #expect(decision.quarantine?.held == false)
        let (bytes, sidecar, _) = try kept(s, decision)
        #expect(bytes == message)
        #expect(sidecar.record.verdict == verdict)
        #expect(MessageLogEntry(decision, node: "n").verdict == verdict)
    }

    @Test func quarantineWithRepackKeepsTheOriginalAndTheArchive() async throws {
        let s = try setup()
        let message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        let decision = await decide(s, ["threat_category : QUARANTINE, REPACK"], message)
        guard case .repack = decision.action else { Issue.record("expected REPACK, got \(decision.action)"); return }
        #expect(decision.repackedMessage != nil)
        let (bytes, _, _) = try kept(s, decision)
        #expect(bytes == message)
        let day = try #require(try FileManager.default.contentsOfDirectory(atPath: s.records.files.directory).first)
        let names = try FileManager.default.contentsOfDirectory(atPath: s.records.files.directory + "/" + day)
        let archive = try #require(names.first { $0.hasSuffix(".zip") })
        let zip = try #require(s.records.files.read("\(day)/\(archive)"))
        #expect(zip.starts(with: [0x50, 0x4B]))  // PK: the archive the recipient got
        let sidecar = try #require(s.records.files.sidecar("\(day)/\(archive)"))
        #expect(sidecar.record.kind == .archive)
    }

    @Test func aRepackAloneKeepsItsArchive() async throws {
        let s = try setup()
        let decision = await decide(s, ["threat_category : REPACK"], Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com"))
        guard case .repack = decision.action else { Issue.record("expected REPACK"); return }
        #expect(decision.quarantine == nil)
        let day = try #require(try FileManager.default.contentsOfDirectory(atPath: s.records.files.directory).first)
        let names = try FileManager.default.contentsOfDirectory(atPath: s.records.files.directory + "/" + day)
        #expect(names.filter { $0.hasSuffix(".zip") }.count == 1)
    }

    @Test func aQuarantineThatCannotWriteRefusesForNowAndNeverDelivers() async throws {
        let s = try setup()
        // A file where the quarantine directory should be: nothing can be created in it.
        FileManager.default.createFile(atPath: s.records.files.directory, contents: Data("x".utf8))
        for rule in ["QUARANTINE", "QUARANTINE, PASS", "QUARANTINE, REJECT"] {
            let decision = await decide(s, ["threat_category : \(rule)"], Fixtures.messageWithAttachment(Fixtures.eicar, filename: "e.com"))
            guard case .tempfail = decision.action else { Issue.record("\(rule): expected TEMPFAIL, got \(decision.action)"); continue }
            #expect(decision.quarantine == nil)
            #expect(decision.reason.contains("quarantine failed"))
        }
    }

    @Test func aCoreWithoutQuarantineRefusesForNow() async throws {
        let s = try setup(recorder: false)
        let decision = await decide(s, ["threat_category : QUARANTINE"], Fixtures.messageWithAttachment(Fixtures.eicar, filename: "e.com"))
        guard case .tempfail = decision.action else { Issue.record("expected TEMPFAIL, got \(decision.action)"); return }
    }

    @Test func aSpooledMessageIsKeptByteForByte() async throws {
        let s = try setup()
        var message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        message += Array(String(repeating: "padding line\r\n", count: 2000).utf8)
        let decision = await decide(s, ["threat_category : QUARANTINE"], message, spoolThreshold: 1024)
        #expect(decision.action == .discard)
        #expect(try kept(s, decision).bytes == message)
    }
}

/// A check of a small message may run on its connection's event loop (`CheckExecution`); the
/// quarantined copy and a repack's archive are written and fsynced, which must not hold up
/// that loop: they are written on the pool.
@Suite struct QuarantineOffTheLoopTests {
    /// Stands for a connection's event loop: a serial queue that knows when it runs a job.
    final class LoopLikeExecutor: TaskExecutor {
        private let queue = DispatchQueue(label: "loop-like")
        private static let key = DispatchSpecificKey<Bool>()
        init() { queue.setSpecific(key: Self.key, value: true) }
        static var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }
        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    /// MailRecords, noting on which executor each file was written.
    final class WhereRecorder: VerdictRecording, @unchecked Sendable {
        let inner: MailRecords
        private let lock = NSLock()
        private var notes: [String] = []
        init(_ inner: MailRecords) { self.inner = inner }
        var written: [String] { lock.withLock { notes } }
        private func note(_ what: String) {
            lock.withLock { notes.append("\(what) on the loop: \(LoopLikeExecutor.isCurrent)") }
        }
        func quarantine(_ bytes: [UInt8], report: CheckReport, verdict: String, reason: String) throws -> String {
            note("quarantine")
            return try inner.quarantine(bytes, report: report, verdict: verdict, reason: reason)
        }
        func keepArchive(_ archive: [UInt8], archiveId: String, report: CheckReport, reason: String) {
            note("archive")
            inner.keepArchive(archive, archiveId: archiveId, report: report, reason: reason)
        }
        func record(_ decision: Decision) { inner.record(decision) }
    }

    @Test func quarantineAndRepackArchivesAreWrittenOffTheLoop() async throws {
        let directory = try Fixtures.temporaryDirectory().path
        let recorder = WhereRecorder(MailRecords(quarantineDirectory: directory + "/quarantine", node: "node-a", writer: nil))
        let core = MailCore(scanner: SharedCore.scanner, spoolDirectory: directory + "/spool", recorder: recorder)
        let loop = LoopLikeExecutor()
        let message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        for rule in ["threat_category : QUARANTINE", "threat_category : REPACK"] {
            var profile = CheckProfile(name: "Milter", limits: SharedCore.limits, rules: [rule])
            profile.repack = Repacker.Settings()
            let (decision, checkedOnLoop) = await Task(executorPreference: loop) {
                await CheckExecution.$executor.withValue(loop) {
                    let decision = await core.decide(envelope: QuarantineTests.envelope, message: .bytes(message), profile: profile)
                    return (decision, LoopLikeExecutor.isCurrent)
                }
            }.value
            #expect(checkedOnLoop)
            #expect(decision.action != .pass)
        }
        #expect(recorder.written == ["quarantine on the loop: false", "archive on the loop: false"])
    }
}
