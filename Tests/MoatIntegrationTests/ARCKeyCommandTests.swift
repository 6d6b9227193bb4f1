import Foundation
import Testing

/// `moat-ctl arc-key`: a new key file (0600, never over an existing one) and its DNS record.
@Suite(.offCooperativePool) struct ARCKeyCommandTests {
    @Test func makesAKeyAndPrintsItsRecord() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moat-arckey-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = dir.appendingPathComponent("arc.key").path
        let made = try run(Binaries.path("moat-ctl"), ["arc-key", key, "--domain", "gateway.example", "--selector", "s2026"])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.hasPrefix("s2026._domainkey.gateway.example. IN TXT ( \"v=DKIM1; k=rsa; p=MII"))
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try String(contentsOfFile: key, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        // Never over a key in use; --show prints the same record again.
        let again = try run(Binaries.path("moat-ctl"), ["arc-key", key, "--domain", "gateway.example"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("not replaced"))
        let shown = try run(Binaries.path("moat-ctl"), ["arc-key", key, "--domain", "gateway.example", "--selector", "s2026", "--show"])
        #expect(shown.stdout == made.stdout)
        let ed = try run(Binaries.path("moat-ctl"), ["arc-key", dir.appendingPathComponent("ed.key").path,
                                                     "--domain", "gateway.example", "--type", "ed25519"])
        #expect(ed.stdout.contains("k=ed25519; p="))
        #expect(try run(Binaries.path("moat-ctl"), ["arc-key", key + "x", "--domain", "d", "--type", "dsa"]).status == 64)
    }
}
