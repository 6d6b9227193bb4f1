import Foundation

/// Writes one test zone file and signs it with ldns-keygen/ldns-signzone (NSEC, ECDSA P-256).
enum ZoneSigner {
    struct Written {
        var path: String
        /// The zone's DNSKEY record, the trust anchor (signed zones only).
        var key: String?
    }

    static func write(_ zone: TestDNSServer.Zone, in directory: String) throws -> Written {
        let origin = zone.name + "."
        var text = """
            $ORIGIN \(origin)
            $TTL 300
            @ IN SOA ns.\(origin) hostmaster.\(origin) 1 3600 600 86400 300
            @ IN NS ns.\(origin)
            ns IN A 127.0.0.1

            """
        text += zone.records.joined(separator: "\n") + "\n"
        let path = "\(directory)/\(zone.name).zone"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        guard zone.signing != .unsigned else { return Written(path: path, key: nil) }

        let keygen = run("/usr/bin/ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", origin], in: directory)
        let base = keygen.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard keygen.status == 0, !base.isEmpty else {
            throw TestDNSServer.Failure(description: "ldns-keygen for \(origin): \(keygen.output)")
        }
        var arguments = ["-f", path + ".signed"]
        if zone.signing == .expiredSignature { arguments += ["-i", "20190101", "-e", "20200101"] }
        let sign = run("/usr/bin/ldns-signzone", arguments + [path, base], in: directory)
        guard sign.status == 0 else { throw TestDNSServer.Failure(description: "ldns-signzone \(origin): \(sign.output)") }
        let keyLine = try String(contentsOfFile: "\(directory)/\(base).key", encoding: .utf8)
            .split(separator: "\n").first { $0.contains("DNSKEY") }.map { String($0.split(separator: ";")[0]) }
        if zone.signing == .brokenSignature {
            // Change TXT and TLSA data after signing: the RRSIGs no longer match what is served.
            var signed = try String(contentsOfFile: path + ".signed", encoding: .utf8)
            signed = signed.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count >= 5 else { return String(line) }
                if fields[3] == "TXT", let quote = line.firstIndex(of: "\"") {
                    return String(line[...quote]) + "x" + String(line[line.index(after: quote)...])
                }
                if fields[3] == "TLSA", let last = line.last {
                    return String(line.dropLast()) + (last == "0" ? "1" : "0")
                }
                return String(line)
            }.joined(separator: "\n")
            try signed.write(toFile: path + ".signed", atomically: true, encoding: .utf8)
        }
        return Written(path: path + ".signed", key: keyLine)
    }

    static func run(_ executable: String, _ arguments: [String], in directory: String) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
