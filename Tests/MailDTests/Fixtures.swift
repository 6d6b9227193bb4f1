import Foundation
import MailD
import ThreatEngine

/// Test inputs built the way real mail carries them: archives made by the real `zip`/python3,
/// messages written as MUAs write them.
enum Fixtures {
    /// The standard anti-virus test string; every engine detects it, nothing is harmful.
    static let eicar = Array(#"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#.utf8)

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("moat-maild-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a tool and fails the test's setup if it fails.
    static func run(_ tool: String, _ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "fixture", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments) failed"])
        }
    }

    /// A zip with the named files, made by Info-ZIP `zip` (`-P` encrypts with a password).
    static func zip(_ files: [String: [UInt8]], password: String? = nil) throws -> [UInt8] {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        var arguments = ["-q", "out.zip"]
        if let password { arguments = ["-q", "-P", password, "out.zip"] }
        try run("zip", arguments + files.keys.sorted(), in: dir)
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent("out.zip")))
    }

    /// A zip holding `megabytes` MB of zeros, deflated to a few hundred KB: a compression bomb.
    static func zipBomb(megabytes: Int) throws -> [UInt8] {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = """
            import zipfile
            with zipfile.ZipFile("bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
                with z.open("zeros.bin", "w", force_zip64=True) as f:
                    block = bytes(1 << 20)
                    for _ in range(\(megabytes)):
                        f.write(block)
            """
        try run("python3", ["-c", script], in: dir)
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent("bomb.zip")))
    }

    static func base64Lines(_ bytes: [UInt8], lineLength: Int = 76) -> String {
        let encoded = Data(bytes).base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(encoded)
        while !rest.isEmpty {
            lines.append(rest.prefix(lineLength))
            rest = rest.dropFirst(lineLength)
        }
        return lines.joined(separator: "\r\n")
    }

    /// A multipart/mixed message: a text part and one base64 attachment.
    static func messageWithAttachment(_ bytes: [UInt8], filename: String, type: String = "application/octet-stream",
                                      base64: String? = nil) -> [UInt8] {
        let text = """
            From: Alice <alice@example.com>\r
            To: Bob <bob@example.org>\r
            Subject: the file you asked for\r
            Message-ID: <attach-\(filename)@example.com>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Here it is.\r
            --b1\r
            Content-Type: \(type); name="\(filename)"\r
            Content-Disposition: attachment; filename="\(filename)"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(base64 ?? base64Lines(bytes))\r
            --b1--\r

            """
        return Array(text.utf8)
    }

    /// `inner` forwarded as a message/rfc822 attachment.
    static func forwarding(_ inner: [UInt8], boundary: String = "fwd") -> [UInt8] {
        let head = """
            From: Carol <carol@example.net>\r
            To: Bob <bob@example.org>\r
            Subject: Fwd: the file you asked for\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="\(boundary)"\r
            \r
            --\(boundary)\r
            Content-Type: text/plain\r
            \r
            See below.\r
            --\(boundary)\r
            Content-Type: message/rfc822\r
            Content-Disposition: attachment\r
            \r

            """
        return Array(head.utf8) + inner + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    /// A plain text body with a uuencoded file inline, as old clients send attachments.
    static func uuencodedInText(_ bytes: [UInt8], filename: String) -> [UInt8] {
        var lines: [String] = ["begin 644 \(filename)"]
        var index = 0
        func enc(_ v: UInt8) -> Character { v == 0 ? "`" : Character(UnicodeScalar(v + 32)) }
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 45, bytes.count)])
            var line = String(enc(UInt8(chunk.count)))
            var i = 0
            while i < chunk.count {
                let b0 = chunk[i], b1 = i + 1 < chunk.count ? chunk[i + 1] : 0, b2 = i + 2 < chunk.count ? chunk[i + 2] : 0
                line.append(enc(b0 >> 2))
                line.append(enc(((b0 << 4) | (b1 >> 4)) & 0x3F))
                line.append(enc(((b1 << 2) | (b2 >> 6)) & 0x3F))
                line.append(enc(b2 & 0x3F))
                i += 3
            }
            lines.append(line)
            index += 45
        }
        lines += ["`", "end"]
        let text = """
            From: Old Client <old@example.com>\r
            To: Bob <bob@example.org>\r
            Subject: file attached the old way\r
            \r
            Hi Bob, the file follows.\r
            \r
            \(lines.joined(separator: "\r\n"))\r
            \r
            Bye.\r

            """
        return Array(text.utf8)
    }

    /// A message nested `depth` times in message/rfc822 parts, the innermost carrying `payload`.
    static func nested(_ payload: [UInt8], depth: Int) -> [UInt8] {
        var message = messageWithAttachment(payload, filename: "deep.bin")
        // Each level its own boundary, as MUAs generate them.
        for level in 0..<depth { message = forwarding(message, boundary: "fwd-level-\(level)") }
        return message
    }
}

/// One engine for the whole test process: loading signatures is the slow part.
enum SharedCore {
    /// Tests share the engine and run in parallel, and time in the engine's queue counts
    /// against ScanTimeout: a generous limit keeps results about content, not machine load.
    /// Tests about time-outs set their own.
    static let limits = ScanLimits(scanTimeout: .seconds(900))

    static let scanner: ThreatScanner = {
        // The official databases are not on test machines; Moat's own test database is used.
        try! ThreatScanner(signatureDirectory: "/nonexistent-moat-test-signatures", limits: limits)
    }()

    static func core() throws -> MailCore {
        MailCore(scanner: scanner, spoolDirectory: FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-spool-\(UUID().uuidString)").path)
    }

    static func check(_ message: [UInt8], profile: CheckProfile = CheckProfile(name: "Milter", limits: SharedCore.limits)) async throws -> CheckReport {
        try await core().check(envelope: Envelope(source: .commandLine), message: .bytes(message), profile: profile)
    }
}
