import Foundation
import MailD
import ThreatEngine

enum Bench {
    static var defaultCorpus: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus").path
    }

    static let concurrency = ProcessInfo.processInfo.activeProcessorCount

    static func scanner() -> ThreatScanner {
        do {
            return try ThreatScanner(signatureDirectory: ProcessInfo.processInfo.environment["MOAT_SIGNATURES"] ?? "/var/lib/clamav")
        } catch {
            fatalError("cannot load signatures: \(error)")
        }
    }

    /// Runs `work` over every item with `concurrency` at once; returns the wall time in seconds.
    static func timed<T: Sendable>(_ items: [T], _ work: @escaping @Sendable (T) async -> Void) async -> Double {
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<min(concurrency, items.count) {
                let item = items[next]; next += 1
                group.addTask { await work(item) }
            }
            while await group.next() != nil {
                if next < items.count {
                    let item = items[next]; next += 1
                    group.addTask { await work(item) }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Seconds `clamscan` takes on `paths` with `database`, minus its start-up (loading the
    /// signatures, measured on an empty file).
    static func clamscan(_ paths: [String], database: String) -> Double? {
        func run(_ files: [String]) -> Double? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/clamscan")
            process.arguments = ["--no-summary", "--infected", "-d", database, "--max-filesize=400M", "--max-scansize=400M"] + files
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let start = Date()
            guard (try? process.run()) != nil else { return nil }
            process.waitUntilExit()
            return Date().timeIntervalSince(start)
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("moat-bench-empty").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        guard let startup = run([empty]), let total = run(paths) else { return nil }
        return max(0, total - startup)
    }

    static func line(_ label: String, messages: Int, bytes: Int, seconds: Double) -> String {
        let mb = Double(bytes) / 1_048_576
        return String(format: "%-10@ %8.0f msg/s %8.1f MB/s  (%d messages, %.1f MB, %.2f s)",
                      label as NSString, Double(messages) / seconds, mb / seconds, messages, mb, seconds)
    }

    static func residentKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}
