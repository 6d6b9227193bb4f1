import FilterTestSupport
import Foundation
import SystemSetupSupport
import Testing

/// Machine-wide test set-up is idempotent and safe when done at the same moment: the race that
/// once failed `eximVariantRspamd` ("useradd: user 'Debian-exim' already exists") cannot happen.
@Suite(.serialized) struct SystemSetupTests {
    @Test func concurrentUserCreationSucceedsEverywhere() async throws {
        let name = "moat-t-\(UUID().uuidString.prefix(8).lowercased())"
        defer { _ = SystemSetup.run("/usr/sbin/userdel", [name]) }
        // Under the lock (suites of this process and of other test processes)...
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { try await SystemSetup.ensureSystemUser(name) } }
            try await group.waitForAll()
        }
        #expect(getpwnam(name) != nil)
        // ...and without it (a process running older test code): "already exists" is fine.
        let other = "moat-t-\(UUID().uuidString.prefix(8).lowercased())"
        defer { _ = SystemSetup.run("/usr/sbin/userdel", [other]) }
        let failures = await withTaskGroup(of: String?.self) { group -> [String] in
            for _ in 0..<6 {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        DispatchQueue.global().async {
                            do { try SystemSetup.ensureSystemUserLocked(other); continuation.resume(returning: nil) }
                            catch { continuation.resume(returning: "\(error)") }
                        }
                    }
                }
            }
            var out: [String] = []
            for await failure in group { if let failure { out.append(failure) } }
            return out
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(getpwnam(other) != nil)
    }

    @Test func concurrentEximPreparationsAllSucceed() async throws {
        let results = await withTaskGroup(of: String?.self) { group -> [String?] in
            for _ in 0..<4 {
                group.addTask {
                    do {
                        let peer = try await EximPeer.prepare(spamdAddress: "127.0.0.1 1")
                        return FileManager.default.isExecutableFile(atPath: peer.exim) ? nil : "no exim at \(peer.exim)"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            var out: [String?] = []
            for await result in group { out.append(result) }
            return out
        }
        #expect(results.allSatisfy { $0 == nil }, "\(results)")
        #expect(getpwnam("Debian-exim") != nil)
    }
}
