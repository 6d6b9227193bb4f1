import DNS
import Foundation
@testable import SenderAuth

/// dkimpy (Debian's python3-dkim), the reference the issue names: its command-line signers
/// (`dkimsign`, `arcsign`) sign messages Moat must verify, and its Python API verifies what Moat
/// signs and seals. dkimpy's verifiers ask DNS, but take a `dnsfunc`: the small script below
/// gives them one that reads the key records from a JSON file, so no DNS server is needed.
struct Dkimpy {
    let directory: URL
    private(set) var keys: [String: String] = [:]

    static let python = "/usr/bin/python3"

    static let script = """
        import json, sys, dkim
        mode, keyfile = sys.argv[1], sys.argv[2]
        keys = json.load(open(keyfile))
        def dnsfunc(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            return keys.get(name.rstrip('.').lower())
        message = sys.stdin.buffer.read()
        if mode == 'dkim':
            print('pass' if dkim.verify(message, dnsfunc=dnsfunc) else 'fail')
        elif mode == 'arc':
            cv, results, comment = dkim.arc_verify(message, dnsfunc=dnsfunc)
            print(cv.decode(), comment)
        elif mode == 'sign-length':
            selector, domain, key = sys.argv[3], sys.argv[4], open(sys.argv[5], 'rb').read()
            sig = dkim.sign(message, selector.encode(), domain.encode(), key, length=True,
                            canonicalize=(b'relaxed', b'relaxed'))
            sys.stdout.buffer.write(sig + message)
        """

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("moat-dkimpy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.script.write(to: directory.appendingPathComponent("check.py"), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Writes the key as dkimpy reads it (PKCS#8 PEM for RSA, the base64 seed for ed25519),
    /// publishes its record for dkimpy's verifiers, and returns the file.
    mutating func add(_ key: SigningKey, selector: String, domain: String) throws -> String {
        let path = directory.appendingPathComponent("\(selector).\(domain).key").path
        let text: String
        switch key {
        case .rsa: text = key.pemRepresentation
        case .ed25519(let k): text = k.rawRepresentation.base64EncodedString()
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        keys["\(selector)._domainkey.\(domain)"] = key.dnsRecord
        let json = try JSONSerialization.data(withJSONObject: keys)
        try json.write(to: directory.appendingPathComponent("keys.json"))
        return path
    }

    /// The same records for Moat.
    var table: DNSTable {
        var t = DNSTable()
        for (name, text) in keys { t.addTXT(name, text) }
        return t
    }

    /// Runs a program with `input` on standard input; its standard output, or an error with its
    /// standard error.
    func run(_ program: String, _ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // The input is small (a test message): written whole before reading the output.
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolFailure(description: "\(program) \(arguments) exited \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))")
        }
        return Array(out)
    }

    /// `dkimsign` (the command-line tool): the message with its DKIM-Signature in front.
    func dkimsign(_ message: [UInt8], selector: String, domain: String, keyFile: String,
                  header: String, body: String, algorithm: String) throws -> [UInt8] {
        try run("/usr/bin/dkimsign", [selector, domain, keyFile, "--hcanon", header, "--bcanon", body, "--signalg", algorithm],
                input: message)
    }

    /// `arcsign`: the message with dkimpy's ARC set in front (it reads `srvID`'s Authentication-Results).
    func arcsign(_ message: [UInt8], selector: String, domain: String, keyFile: String, srvID: String) throws -> [UInt8] {
        try run("/usr/bin/arcsign", [selector, domain, keyFile, srvID], input: message)
    }

    func signWithLength(_ message: [UInt8], selector: String, domain: String, keyFile: String) throws -> [UInt8] {
        try run(Self.python, [directory.appendingPathComponent("check.py").path, "sign-length", keysPath, selector, domain, keyFile],
                input: message)
    }

    /// dkimpy's verdict on the first DKIM-Signature: "pass" or "fail".
    func verifyDKIM(_ message: [UInt8]) throws -> String {
        String(decoding: try run(Self.python, [directory.appendingPathComponent("check.py").path, "dkim", keysPath], input: message),
               as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// dkimpy's ARC chain status ("pass", "fail", "none") and its comment.
    func verifyARC(_ message: [UInt8]) throws -> String {
        String(decoding: try run(Self.python, [directory.appendingPathComponent("check.py").path, "arc", keysPath], input: message),
               as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private var keysPath: String { directory.appendingPathComponent("keys.json").path }
}

struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}
