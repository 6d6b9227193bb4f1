import Foundation
import MailD
import ThreatEngine

enum CorpusBench {
    static func run(directory: String) async {
        let index = (try? String(contentsOfFile: directory + "/INDEX.tsv", encoding: .utf8)) ?? ""
        let paths = index.split(separator: "\n").dropFirst().compactMap { row -> String? in
            row.split(separator: "\t").first.map { directory + "/" + $0 }
        }
        let messages: [[UInt8]] = paths.compactMap { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
        let bytes = messages.reduce(0) { $0 + $1.count }
        guard !messages.isEmpty else { fatalError("no messages in \(directory)/INDEX.tsv") }
        let scanner = Bench.scanner()
        let core = MailCore(scanner: scanner, spoolDirectory: NSTemporaryDirectory() + "/moat-bench-spool")
        let profile = CheckProfile(name: "Milter")
        print("corpus: \(messages.count) messages, \(bytes / 1024) KB; \(Bench.concurrency) scans at once; signatures: \(scanner.signatureInfo.signatureCount)\(scanner.signatureInfo.usingBuiltinSignatures ? " (built-in test set)" : "")")

        // Warm-up pass so both sides run with warm caches.
        _ = await Bench.timed(Array(messages.prefix(200))) { m in _ = await scanner.scan(bytes: m) }
        let engine = await Bench.timed(messages) { m in _ = await scanner.scan(bytes: m) }
        let moat = await Bench.timed(messages) { m in
            _ = await core.check(envelope: Envelope(source: .commandLine), message: .bytes(m), profile: profile)
        }
        print(Bench.line("engine", messages: messages.count, bytes: bytes, seconds: engine))
        print(Bench.line("moat", messages: messages.count, bytes: bytes, seconds: moat))
        print(String(format: "moat overhead over the engine: %+.1f%%", (moat - engine) / engine * 100))
        if let database = try? BuiltinDatabase.writeToTemporaryDirectory() {
            defer { try? FileManager.default.removeItem(atPath: database) }
            let database = scanner.signatureInfo.usingBuiltinSignatures ? database : scanner.signatureInfo.directory
            if let seconds = Bench.clamscan(paths, database: database) {
                print(Bench.line("clamscan", messages: messages.count, bytes: bytes, seconds: seconds) + " single process")
            }
        }
    }
}
