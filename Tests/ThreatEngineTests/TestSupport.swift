import Foundation
@testable import ThreatEngine

/// Shared fixtures. Every scanner in these tests loads from a fresh empty directory, so the
/// tests use Moat's built-in signatures even on a host where freshclam filled /var/lib/clamav.
enum Fixture {
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
    static var eicarBytes: [UInt8] { Array(eicar.utf8) }

    static let testFilesDirectory = "/usr/share/clamav-testfiles"

    /// `zip -P secret encsample.zip eicar.txt` (Info-ZIP 3.0, ZipCrypto) where eicar.txt holds the
    /// EICAR string: undetectable without the password, so it must come back unchecked.
    static let encryptedZipBase64 = """
        UEsDBAoACQAAAOBceV08z1FoUAAAAEQAAAAJABwAZWljYXIudHh0VVQJAAPUyAZr1MgGa3V4CwAB\
        BAAAAAAEAAAAAOjh6I6xwmHgiTnLsPWocg1FJB2NP2kMA4fSTbpZJPZ61nUXF4Q+IS284TEBaKn5\
        a1nagd6jpplpLADZa9Jun8LfbKh/G7PC2f9NpTePEkCiUEsHCDzPUWhQAAAARAAAAFBLAQIeAwoA\
        CQAAAOBceV08z1FoUAAAAEQAAAAJABgAAAAAAAEAAACkgQAAAABlaWNhci50eHRVVAUAA9TIBmt1\
        eAsAAQQAAAAABAAAAABQSwUGAAAAAAEAAQBPAAAAowAAAAAA
        """

    static var encryptedZip: [UInt8] { Array(Data(base64Encoded: encryptedZipBase64)!) }

    /// A new private directory under the system temp dir.
    static func makeTemporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-engine-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A scanner on the built-in signatures.
    /// The empty directory is removed again at once: a reload finds it missing, which is
    /// "no signatures" just the same.
    static func scanner(limits: ScanLimits = .default, maxConcurrentScans: Int? = nil) throws -> ThreatScanner {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try ThreatScanner(signatureDirectory: directory, limits: limits, maxConcurrentScans: maxConcurrentScans)
    }

    /// Runs a python3 script (the tests build archives with python's zipfile) and returns the
    /// bytes of the file it wrote to the path given as argv[1].
    static func python(_ script: String) throws -> [UInt8] {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = "\(directory)/out.bin"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, output]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError.pythonFailed(process.terminationStatus)
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    /// A zip with EICAR nested `depth` archives deep (depth 1 = eicar.com inside one zip).
    static func nestedZip(depth: Int) throws -> [UInt8] {
        try python("""
            import io, sys, zipfile
            data, name = \(pythonBytes(eicarBytes)), 'eicar.com'
            for level in range(\(depth)):
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as z:
                    z.writestr(name, data)
                data, name = buffer.getvalue(), 'level%d.zip' % level
            open(sys.argv[1], 'wb').write(data)
            """)
    }

    static func pythonBytes(_ bytes: [UInt8]) -> String {
        "bytes([" + bytes.map(String.init).joined(separator: ",") + "])"
    }
}

enum FixtureError: Error {
    case pythonFailed(Int32)
}
