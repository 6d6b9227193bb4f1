import Foundation
import Testing
@testable import MailD

/// Every message of the shared corpus goes through the whole check without a crash, and the
/// messages the corpus index marks as carrying EICAR are found.
@Suite struct CorpusScanTests {
    static var corpus: URL? {
        if let path = ProcessInfo.processInfo.environment["MOAT_CORPUS"], !path.isEmpty { return URL(fileURLWithPath: path) }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        for candidate in [url.appendingPathComponent("shared/corpus"), URL(fileURLWithPath: "/work/shared/corpus")]
        where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("INDEX.tsv").path) {
            return candidate
        }
        return nil
    }

    @Test func wholeCorpusIsChecked() async throws {
        let corpus = try #require(Self.corpus, "the shared corpus is missing: set MOAT_CORPUS")
        let index = try String(contentsOf: corpus.appendingPathComponent("INDEX.tsv"), encoding: .utf8)
        let rows = index.split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        let core = try SharedCore.core()
        var checked = 0, threats = 0, eicarMissed: [String] = []
        for row in rows where row.count >= 5 {
            let path = corpus.appendingPathComponent(String(row[0])).path
            let report = await core.check(envelope: Envelope(source: .commandLine), message: .file(path: path),
                                          profile: CheckProfile(name: "Milter", limits: SharedCore.limits))
            #expect(report.size == Int(row[1]), "\(row[0])")
            checked += 1
            if report.status == .threat { threats += 1 }
            if row[4].split(separator: ",").contains("eicar"), report.status != .threat { eicarMissed.append(String(row[0])) }
        }
        #expect(checked >= 5000)
        #expect(eicarMissed.isEmpty, "EICAR not found in \(eicarMissed)")
    }
}
