import Foundation
import Testing
@testable import MailD
import ThreatEngine

/// The acceptance cases: EICAR wherever mail hides it, found with its part and
/// category; what cannot be checked says why.
@Suite struct CheckThreatTests {
    func threatPart(_ report: CheckReport) -> PartReport? { report.parts.first { !$0.threats.isEmpty } }

    @Test func eicarAsAnAttachment() async throws {
        let report = try await SharedCore.check(Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com"))
        #expect(report.status == .threat)
        let part = try #require(threatPart(report))
        #expect(part.path == "2")
        #expect(part.filename == "eicar.com")
        #expect(part.size == Fixtures.eicar.count)
        #expect(part.threats.first?.category == "KnownVirus")
        #expect(report.parts.first { $0.path == "1" }?.isClean == true, "the text part is clean")
        #expect(report.messageId == "<attach-eicar.com@example.com>")
    }

    @Test func eicarInsideAZip() async throws {
        let zip = try Fixtures.zip(["eicar.com": Fixtures.eicar, "readme.txt": Array("hello".utf8)])
        let report = try await SharedCore.check(Fixtures.messageWithAttachment(zip, filename: "files.zip", type: "application/zip"))
        #expect(report.status == .threat)
        #expect(threatPart(report)?.filename == "files.zip")
        #expect(threatPart(report)?.threats.first?.category == "KnownVirus")
    }

    @Test func eicarInAZipInAForwardedMessage() async throws {
        let zip = try Fixtures.zip(["eicar.com": Fixtures.eicar])
        let inner = Fixtures.messageWithAttachment(zip, filename: "files.zip", type: "application/zip")
        let report = try await SharedCore.check(Fixtures.forwarding(inner))
        #expect(report.status == .threat)
        let part = try #require(threatPart(report))
        #expect(part.path == "2.0.2", "second part of the message attached as part 2")
        #expect(part.filename == "files.zip")
    }

    @Test func eicarUuencodedInsideAPlainTextBody() async throws {
        let report = try await SharedCore.check(Fixtures.uuencodedInText(Fixtures.eicar, filename: "eicar.com"))
        #expect(report.status == .threat)
        let part = try #require(threatPart(report))
        #expect(part.filename == "eicar.com")
        #expect(part.path == "1", "the first uuencoded block of the body")
    }

    @Test(arguments: [7, 13, 60, 200])
    func eicarInBase64WithBrokenLineLengths(_ lineLength: Int) async throws {
        // Lines of odd lengths and a stray garbage character: MUAs and malware both do this.
        var base64 = Fixtures.base64Lines(Fixtures.eicar, lineLength: lineLength)
        base64.insert(contentsOf: "\r\n \t", at: base64.index(base64.startIndex, offsetBy: 5))
        let report = try await SharedCore.check(
            Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.txt", base64: base64))
        #expect(report.status == .threat)
        #expect(threatPart(report)?.path == "2")
    }

    /// A virus scan alone (the clamd interface answers OK or FOUND; `moat-ctl scan` without
    /// --spam) finds the same threats, and no spam score is computed for it.
    @Test func aVirusScanAloneFindsTheSameThreatsWithoutScoringSpam() async throws {
        let gtube = Array("XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X".utf8)
        let message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com") + gtube + [0x0D, 0x0A]
        let profile = CheckProfile(name: "ClamD", limits: SharedCore.limits)
        let clamd = try await SharedCore.core().check(envelope: Envelope(source: .clamd), message: .bytes(message), profile: profile,
                                                                  scoresSpam: false)
        #expect(clamd.status == .threat)
        #expect(clamd.threats.first?.category == "KnownVirus")
        #expect(clamd.spam == nil)
        let milter = try await SharedCore.check(message)
        #expect(milter.status == .threat)
        #expect(milter.spam != nil)
    }

    @Test func cleanMessageIsClean() async throws {
        let report = try await SharedCore.check(Fixtures.messageWithAttachment(Array("just a text file\n".utf8), filename: "a.txt"))
        #expect(report.status == .clean)
        #expect(report.parts.count == 2)
        #expect(report.threats.isEmpty && report.unchecked.isEmpty)
    }

    @Test func encryptedZipIsUnchecked() async throws {
        let zip = try Fixtures.zip(["secret.doc": Array(repeating: 0x41, count: 4096)], password: "infected")
        let report = try await SharedCore.check(Fixtures.messageWithAttachment(zip, filename: "secret.zip", type: "application/zip"))
        #expect(report.status == .unchecked)
        let part = try #require(report.parts.first { $0.filename == "secret.zip" })
        #expect(part.unchecked.contains(UncheckedFact(.encrypted)))
    }

    @Test func compressionBombIsUnchecked() async throws {
        let bomb = try Fixtures.zipBomb(megabytes: 200)
        #expect(bomb.count < 1 << 20, "200 MB of zeros deflate to well under 1 MB")
        let report = try await SharedCore.check(Fixtures.messageWithAttachment(bomb, filename: "bomb.zip", type: "application/zip"))
        #expect(report.status == .unchecked)
        let part = try #require(report.parts.first { $0.filename == "bomb.zip" })
        #expect(part.unchecked.contains(UncheckedFact(.limitExceeded, "MaxCompressionRatio")), "\(part.unchecked)")
    }

    @Test func messageNestedDeeperThanMailMaxLevelIsUnchecked() async throws {
        var profile = CheckProfile(name: "Milter", limits: SharedCore.limits)
        profile.limits.mailMaxLevel = 3
        let shallow = try await SharedCore.check(Fixtures.nested(Fixtures.eicar, depth: 3), profile: profile)
        #expect(shallow.status == .threat, "3 levels are within MailMaxLevel = 3")
        let deep = try await SharedCore.check(Fixtures.nested(Fixtures.eicar, depth: 4), profile: profile)
        #expect(deep.status == .unchecked)
        let part = try #require(deep.parts.first { $0.filename == "deep.bin" })
        #expect(part.unchecked == [UncheckedFact(.limitExceeded, "MailMaxLevel")])
    }

    @Test func truncatedMultipartIsReportedMalformedButStillScanned() async throws {
        var message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        message.removeLast("--b1--\r\n".utf8.count)
        let report = try await SharedCore.check(message)
        #expect(report.status == .threat, "a threat wins over unchecked")
        #expect(report.unchecked.contains { $0.reason == .malformed })
    }

    @Test func largeMessagesAreSpooledAndGiveTheSameResult() async throws {
        let filler = (0..<300_000).map { _ in UInt8.random(in: 0...255) }
        let zip = try Fixtures.zip(["eicar.com": Fixtures.eicar, "filler.txt": filler])
        let message = Fixtures.messageWithAttachment(zip + [], filename: "files.zip", type: "application/zip")
        var profile = CheckProfile(name: "Milter", limits: SharedCore.limits)
        profile.spoolThreshold = 64 * 1024
        #expect(message.count > profile.spoolThreshold)
        let spoolDir = FileManager.default.temporaryDirectory.appendingPathComponent("moat-spool-\(UUID().uuidString)").path
        let core = MailCore(scanner: SharedCore.scanner, spoolDirectory: spoolDir)
        let report = await core.check(envelope: Envelope(source: .commandLine), message: .bytes(message), profile: profile)
        #expect(report.status == .threat)
        #expect(threatPart(report)?.filename == "files.zip")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: spoolDir)) ?? []
        #expect(leftovers.isEmpty, "spooled parts are removed after the scan")
    }

    @Test func unreadableSpoolFileIsUncheckedNotClean() async throws {
        let core = try SharedCore.core()
        let report = await core.check(envelope: Envelope(source: .commandLine), message: .file(path: "/nonexistent/message.eml"),
                                      profile: CheckProfile(name: "Milter", limits: SharedCore.limits))
        #expect(report.status == .unchecked)
        #expect(report.messageUnchecked.first?.reason == .engineError)
    }
}
