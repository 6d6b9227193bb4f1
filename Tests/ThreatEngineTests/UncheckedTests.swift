import Foundation
import Testing
@testable import ThreatEngine

@Suite struct UncheckedTests {
    /// libclamav 1.4 answers CL_CLEAN when it cannot create a scan's temporary directory (it
    /// only logs an error): such a scan looked at nothing and must not come back clean.
    @Test func scratchDirectoryMissingIsUncheckedNotClean() async throws {
        let directory = try Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scratch = directory + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let scanner = try ThreatScanner(signatureDirectory: directory + "/no-signatures", temporaryDirectory: scratch)
        try FileManager.default.removeItem(atPath: scratch)
        let result = await scanner.scan(bytes: Fixture.eicarBytes, name: "eicar.com")
        guard case .unchecked(.engineError(let detail)) = result else {
            Issue.record("expected an engine error, got \(result)")
            return
        }
        #expect(detail.contains("temporary directory"), "\(detail)")
    }

    @Test func encryptedZipIsUnchecked() async throws {
        let scanner = try Fixture.scanner()
        let result = await scanner.scan(bytes: Fixture.encryptedZip, name: "secret.zip")
        #expect(result == .unchecked(.encrypted))
    }

    @Test func encryptedZipIsUncheckedWithoutHeuristicAnalysis() async throws {
        let scanner = try Fixture.scanner()
        var limits = scanner.limits
        limits.heuristicAnalysis = false
        let result = await scanner.scan(bytes: Fixture.encryptedZip, name: "secret.zip", limits: limits)
        #expect(result == .unchecked(.encrypted))
    }

    @Test func zipBombIsUnchecked() async throws {
        let scanner = try Fixture.scanner()
        // 100 MiB of zeros deflate to about 100 KiB: a ratio near 1000, default limit 500.
        let bomb = try Fixture.python("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
                with z.open('zeros.bin', 'w', force_zip64=False) as member:
                    chunk = bytes(1 << 20)
                    for _ in range(100):
                        member.write(chunk)
            """)
        #expect(bomb.count < 200_000)
        let result = await scanner.scan(bytes: bomb, name: "bomb.zip")
        #expect(result == .unchecked(.limitExceeded("MaxCompressionRatio")))
    }

    @Test func gzipBombIsUnchecked() async throws {
        let scanner = try Fixture.scanner()
        // No declared size in gzip: the ratio is found from the extracted size.
        let bomb = try Fixture.python("""
            import gzip, sys
            with gzip.open(sys.argv[1], 'wb', compresslevel=9) as out:
                chunk = bytes(1 << 20)
                for _ in range(20):
                    out.write(chunk)
            """)
        let result = await scanner.scan(bytes: bomb, name: "zeros.gz")
        #expect(result == .unchecked(.limitExceeded("MaxCompressionRatio")))
    }

    @Test func compressibleButSmallMemberIsNotABomb() async throws {
        let scanner = try Fixture.scanner()
        let zip = try Fixture.python("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
                z.writestr('spaces.txt', b' ' * 200000)
            """)
        #expect(await scanner.scan(bytes: zip, name: "spaces.zip") == .clean)
    }

    @Test func nestingDeeperThanArchiveMaxLevelIsUnchecked() async throws {
        let scanner = try Fixture.scanner()
        var limits = scanner.limits
        limits.archiveMaxLevel = 3
        let deep = try Fixture.nestedZip(depth: 5)
        #expect(await scanner.scan(bytes: deep, name: "deep.zip", limits: limits)
            == .unchecked(.limitExceeded("ArchiveMaxLevel")))
        // Within the limit the same construction is opened all the way down.
        let shallow = try Fixture.nestedZip(depth: 3)
        #expect(await scanner.scan(bytes: shallow, name: "shallow.zip", limits: limits).threats.map(\.name)
            == ["Moat.Test.EICAR"])
    }

    @Test func engineRecursionLimitIsUncheckedToo() async throws {
        // Backstop: libclamav's own MaxRecursion, reported through the exceeds-max heuristic.
        let limits = ScanLimits(packerMaxLevel: 0, archiveMaxLevel: 0, mailMaxLevel: 0, containerMaxLevel: 0)
        let scanner = try Fixture.scanner(limits: limits)
        var permissive = limits
        permissive.archiveMaxLevel = 64
        let deep = try Fixture.nestedZip(depth: 8)
        #expect(await scanner.scan(bytes: deep, name: "deep.zip", limits: permissive)
            == .unchecked(.limitExceeded("MaxRecursion")))
    }

    @Test func tinyTimeoutOnBigInputIsUnchecked() async throws {
        let scanner = try Fixture.scanner(limits: ScanLimits(scanTimeout: .milliseconds(1)))
        let big = [UInt8](repeating: 0x41, count: 48 << 20)
        let started = ContinuousClock.now
        let result = await scanner.scan(bytes: big, name: "big.bin")
        #expect(result == .unchecked(.timeout))
        #expect(ContinuousClock.now - started < .seconds(600), "bounded by the deadline, not by the input")
    }

    @Test func engineScanTimeIsUncheckedTimeout() async throws {
        // libclamav's own CL_ENGINE_MAX_SCANTIME (1 ms) hits long before the outer deadline (60 s).
        let scanner = try Fixture.scanner(limits: ScanLimits(scanTimeout: .milliseconds(1)))
        var perScan = scanner.limits
        perScan.scanTimeout = .seconds(60)
        let members = try Fixture.python("""
            import os, sys, zipfile
            with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED) as z:
                for index in range(400):
                    z.writestr('part%d.bin' % index, os.urandom(64 * 1024))
            """)
        #expect(await scanner.scan(bytes: members, name: "many.zip", limits: perScan) == .unchecked(.timeout))
    }

    /// libclamav blocks in open(2) on a FIFO nobody writes to: a scan that can never finish by
    /// itself. The outer deadline must still answer on time.
    @Test func deadlineIsEnforcedWhenLibclamavHangs() async throws {
        let scanner = try Fixture.scanner(maxConcurrentScans: 1)
        let fifo = try FIFO()
        defer { fifo.release() }
        let started = ContinuousClock.now
        let result = await scanner.scan(fileAt: fifo.path, limits: ScanLimits(scanTimeout: .milliseconds(300)))
        #expect(result == .unchecked(.timeout))
        #expect(ContinuousClock.now - started < .seconds(600), "a hung libclamav must not hold the caller: without the outer deadline this never returns")
        // The hung worker was replaced: the single-worker pool still scans.
        let next = await scanner.scan(bytes: Fixture.eicarBytes)
        #expect(next.threats.map(\.name) == ["Moat.Test.EICAR"])
    }
}

/// A named pipe for tests that need libclamav to block.
struct FIFO {
    let path: String

    init() throws {
        path = try Fixture.makeTemporaryDirectory() + "/pipe"
        guard mkfifo(path, 0o600) == 0 else { throw FixtureError.pythonFailed(errno) }
    }

    /// Lets a blocked reader go: a writer's open completes the reader's open, the close gives
    /// it end-of-file. (Probing for a reader the same way would release it, so tests never do.)
    /// If the reader has not reached open(2) yet, the unlink makes its open fail instead.
    func release() {
        let fd = open(path, O_WRONLY | O_NONBLOCK)
        if fd >= 0 { close(fd) }
        unlink(path)
        rmdir((path as NSString).deletingLastPathComponent)
    }
}
