import Foundation
import Logging
import MailD
import Testing
@testable import MoatService

/// The engine moatd and `moat-ctl scan --local` set up, and the scan loop both run.
struct EngineSetupTests {
    @Test func engineTimeIsTheMostGenerousOfTheProfilesServed() throws {
        let values = try settings("[MailD]\nSpamdScanTimeout = 10m\n[ClamD]\nScanTimeout = 20s\n")
        let all = EngineSetup.daemonProfiles.map { ProfileChoice.profile(named: $0, values: values) }
        #expect(EngineSetup.engineLimits(serving: all).scanTimeout == .seconds(600))
        #expect(EngineSetup.engineLimits(serving: [ProfileChoice.profile(named: "ClamD", values: values)]).scanTimeout == .seconds(20))
    }

    @Test func messageScanReportsEachMessageAndEachUnreadablePath() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let values = try settings("[Root]\nSignatureDir = \(directory)/signatures\n")
        let profile = ProfileChoice.profile(named: "Milter", values: values)
        let scanner = try EngineSetup.scanner(values, serving: [profile], temporaryDirectory: nil,
                                              logger: Logger(label: "EngineSetupTests"))
        #expect(scanner.signatureInfo.usingBuiltinSignatures)
        #expect(scanner.workerPIDs.allSatisfy { $0 != getpid() }, "libclamav runs in worker processes")
        let core = MailCore(scanner: scanner, spoolDirectory: directory + "/spool")
        let clean = directory + "/clean.eml"
        try "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello\r\n".write(toFile: clean, atomically: true, encoding: .utf8)
        let eicar = directory + "/eicar.eml"
        let body = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
        try "From: a@example.org\r\nSubject: x\r\n\r\n\(body)\r\n".write(toFile: eicar, atomically: true, encoding: .utf8)
        let reports = await MessageScan(core: core, profile: profile)
            .reports(for: [clean, eicar, directory + "/missing.eml"])
        #expect(reports.map(\.name) == [clean, eicar, directory + "/missing.eml"])
        #expect(reports[0].report?.status == .clean)
        #expect(reports[1].report?.status == .threat)
        #expect(reports[2].report == nil)
        #expect(reports[2].error != nil)

        // Many messages at once, several in flight: each report still stands at its message's place.
        var many: [String] = []
        for index in 0..<24 {
            let path = directory + "/many-\(index).eml"
            try FileManager.default.copyItem(atPath: index % 3 == 0 ? eicar : clean, toPath: path)
            many.append(path)
        }
        let manyReports = await MessageScan(core: core, profile: profile).reports(for: many, concurrency: 5)
        #expect(manyReports.map(\.name) == many)
        #expect(manyReports.enumerated().allSatisfy { $1.report?.status == ($0 % 3 == 0 ? .threat : .clean) })
    }

    /// The scan workers never see moatd's state, configuration, control socket or PID file.
    @Test func workersDoNotSeeMoatdsStateOrConfiguration() throws {
        let values = try settings("[Root]\nVarDir = /srv/moat-state\nControlSocket = /run/moat-x/ctl.sock\nPidFile = /run/moat-y/moatd.pid\n")
        #expect(EngineSetup.maskedPaths(values) == ["/etc/moat", "/run/moat-x", "/run/moat-y", "/srv/moat-state"])
    }
}
