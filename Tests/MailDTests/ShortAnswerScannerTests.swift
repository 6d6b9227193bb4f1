import Foundation
import Testing
@testable import MailD
import ThreatEngine

/// A scanner that owes one result per part and gives fewer must not make the parts it left
/// out look clean: they are unchecked, and BlockUnchecked decides.
@Suite struct ShortAnswerScannerTests {
    /// Answers every batch of parts with no result at all.
    final class SilentScanner: ThreatScanning {
        let inner: any ThreatScanning
        init(_ inner: any ThreatScanning) { self.inner = inner }
        var signatureInfo: SignatureInfo { inner.signatureInfo }
        var limits: ScanLimits { inner.limits }
        var maxConcurrentScans: Int { inner.maxConcurrentScans }
        func scan(bytes: [UInt8], name: String?, limits: ScanLimits?) async -> ScanResult {
            await inner.scan(bytes: bytes, name: name, limits: limits)
        }
        func scan(parts: [ScanPart], limits: ScanLimits?) async -> [ScanResult] { [] }
        func scan(fileAt path: String, limits: ScanLimits?) async -> ScanResult { await inner.scan(fileAt: path, limits: limits) }
        func reload(limits: ScanLimits?) async throws { try await inner.reload(limits: limits) }
    }

    @Test func partsTheScannerDidNotAnswerAreUncheckedNotClean() async throws {
        let core = MailCore(scanner: SilentScanner(SharedCore.scanner),
                            spoolDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("moat-spool-\(UUID().uuidString)").path)
        let message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        let report = await core.check(envelope: Envelope(source: .commandLine), message: .bytes(message),
                                      profile: CheckProfile(name: "Milter", limits: SharedCore.limits))
        #expect(report.status == .unchecked, "got \(report.status)")
        #expect(report.unchecked.contains { $0.reason == .engineError })
    }
}
