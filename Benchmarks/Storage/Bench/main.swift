import Foundation
import Logging
import Storage

// moat-storage-bench DATABASE SQLITE_PATH ROWS SEARCHES
// Fills the message log with ROWS rows (1 to 3 recipients each, from a pool of ROWS/20
// addresses, times over the last 30 days), then times SEARCHES searches by recipient (the
// console's and `moat-ctl log search --recipient`'s query, newest 100) and prints the figures.
let arguments = CommandLine.arguments
guard arguments.count == 5, let rows = Int(arguments[3]), let searches = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: moat-storage-bench DATABASE|'' SQLITE_PATH ROWS SEARCHES\n".utf8))
    exit(64)
}
let logger = Logger(label: "bench")
let store = try await GatewayStores.open(database: arguments[1], sqlitePath: arguments[2], logger: logger)
var generator = SystemRandomNumberGenerator()
let pool = max(1, rows / 20)
// MOAT_BENCH_RANDOM_IDS=1: random (version 4) ids, as before the time-ordered ones, to compare
// the two on the same build.
let randomIds = ProcessInfo.processInfo.environment["MOAT_BENCH_RANDOM_IDS"] == "1"
func address(_ n: Int) -> String { "user\(n)@example\(n % 97).org" }

let existing = try await store.searchLog(LogQuery(limit: 1)).count
let clock = ContinuousClock()
if existing == 0 {
    let now = Date()
    let batch = 2000
    let started = clock.now
    var inserted = 0
    while inserted < rows {
        let count = min(batch, rows - inserted)
        let entries = (0..<count).map { _ in
            let recipients = (0..<Int.random(in: 1...3, using: &generator)).map { _ in address(Int.random(in: 0..<pool, using: &generator)) }
            return MessageLogEntry(id: randomIds ? UUID().uuidString : RecordID.make(),
                                   time: now.addingTimeInterval(-Double.random(in: 0..<(30 * 86400), using: &generator)),
                                   node: "bench", interface: "Milter", clientAddress: "192.0.2.1",
                                   sender: address(Int.random(in: 0..<pool, using: &generator)), recipients: recipients,
                                   messageId: "<\(UUID().uuidString)@bench>", subject: "benchmark message", size: 4096,
                                   verdict: ["pass", "pass", "pass", "reject", "discard"].randomElement(using: &generator)!,
                                   spamScore: 0.5, reason: "bench")
        }
        inserted += try await store.insertLog(entries)
    }
    let seconds = Double((clock.now - started).components.attoseconds) / 1e18 + Double((clock.now - started).components.seconds)
    print("\(store.backendName): inserted \(inserted) rows in \(String(format: "%.1f", seconds)) s (\(Int(Double(inserted) / seconds)) rows/s)")
} else {
    print("\(store.backendName): the database already holds rows; searching them")
}

var times: [Double] = []
var found = 0
for _ in 0..<searches {
    let recipient = address(Int.random(in: 0..<pool, using: &generator))
    let started = clock.now
    found += try await store.searchLog(LogQuery(recipient: recipient, limit: 100)).count
    let elapsed = clock.now - started
    times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
}
times.sort()
let sorted = times
@MainActor func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
print(String(format: "%@: %d searches by recipient, %.1f rows each: median %.2f ms, p95 %.2f ms, max %.2f ms",
             store.backendName, searches, Double(found) / Double(max(1, searches)), percentile(0.5), percentile(0.95), times.last ?? 0))
await store.close()
