import AntiSpam
import Foundation
import MIME
import Storage

/// Train on k-1 folds, score the held-out fold, for every fold; then speed and model size.
struct KFoldRun {
    let corpus: Corpus
    let out: String

    /// The engine's settings; MOAT_SPAM_WINDOW and MOAT_SPAM_INTERESTING try other model
    /// parameters (model selection by cross-validation, never rules fitted to messages).
    static var settings: AntiSpamSettings {
        var s = AntiSpamSettings()
        let env = ProcessInfo.processInfo.environment
        if let w = env["MOAT_SPAM_WINDOW"].flatMap(Int.init) { s.bigramWindow = w }
        if let n = env["MOAT_SPAM_INTERESTING"].flatMap(Int.init) { s.maxInterestingFeatures = n }
        if let p = env["MOAT_SPAM_BAYES_POINTS"].flatMap(Double.init) { s.statisticalSpamPoints = p }
        return s
    }

    func run() throws {
        let messages = corpus.entries.map { MessageParser.parse(corpus.bytes(of: $0)) }
        print("corpus: \(messages.count) labelled messages (\(corpus.entries.filter(\.isSpam).count) spam), \(corpus.folds) folds")

        // Rules only: an engine that has learned nothing.
        let untrained = try SpamEngine(store: nil)
        var rules = "path\tlabel\tfold\tpoints\tspam\tsymbols\n"
        for (e, m) in zip(corpus.entries, messages) {
            let r = untrained.check(m)
            rules += row(e, r)
        }
        try rules.write(toFile: out + "/moat-rules.tsv", atomically: true, encoding: .utf8)

        var scored = "path\tlabel\tfold\tpoints\tspam\tsymbols\n"
        var checkSeconds = 0.0, checked = 0, learnSeconds = 0.0, learned = 0
        for fold in 0..<corpus.folds {
            let engine = SpamEngine(inMemory: Self.settings)
            let start = Date()
            for (e, m) in zip(corpus.entries, messages) where e.fold != fold {
                try engine.learn(m, as: e.isSpam ? .spam : .ham)
                learned += 1
            }
            learnSeconds += Date().timeIntervalSince(start)
            let test = zip(corpus.entries, messages).filter { $0.0.fold == fold }
            let (results, seconds) = Self.checkConcurrently(engine, test.map(\.1), clients: 2)
            checkSeconds += seconds
            checked += test.count
            for ((e, _), r) in zip(test, results) { scored += row(e, r) }
            print("fold \(fold): learned \(engine.learnedCounts.spam) spam, \(engine.learnedCounts.ham) ham; scored \(test.count)")
        }
        try scored.write(toFile: out + "/moat.tsv", atomically: true, encoding: .utf8)
        let speed = String(format: "moat\t%.1f\t%.2f\t%.1f\n", Double(checked) / checkSeconds,
                           checkSeconds / Double(checked) * 1000 * 2, Double(learned) / learnSeconds)
        try ("engine\tmessages_per_s_2_clients\tms_per_message\tlearned_per_s\n" + speed)
            .write(toFile: out + "/moat-speed.txt", atomically: true, encoding: .utf8)
        if ProcessInfo.processInfo.environment["MOAT_SPAM_SKIP_MEMORY"] == nil {
            try memory(messages).write(toFile: out + "/moat-memory.txt", atomically: true, encoding: .utf8)
        }
    }

    private func row(_ e: Corpus.Entry, _ r: SpamResult) -> String {
        let symbols = r.symbols.map { "\($0.name)(\(String(format: "%.2f", $0.score)))" }.joined(separator: ",")
        return "\(e.path)\t\(e.isSpam ? "spam" : "ham")\t\(e.fold)\t\(String(format: "%.3f", r.points))\t\(r.isSpam ? 1 : 0)\t\(symbols)\n"
    }

    /// Checks with `clients` threads taking messages from a shared counter, as `clients`
    /// concurrent connections would; returns the results in order and the wall time.
    static func checkConcurrently(_ engine: SpamEngine, _ messages: [MIMEMessage], clients: Int) -> ([SpamResult], Double) {
        final class Box: @unchecked Sendable {
            var results: [SpamResult?]
            var next = 0
            let lock = NSLock()
            init(_ n: Int) { results = Array(repeating: nil, count: n) }
        }
        let box = Box(messages.count)
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: clients) { _ in
            while true {
                box.lock.lock()
                let i = box.next
                box.next += 1
                box.lock.unlock()
                guard i < messages.count else { return }
                let r = engine.check(messages[i])
                box.lock.lock()
                box.results[i] = r
                box.lock.unlock()
            }
        }
        return (box.results.map { $0! }, Date().timeIntervalSince(start))
    }

    /// Resident memory and SQLite size of a model that learned every labelled message, with
    /// the growth per learned message, to state the size at 10,000.
    private func memory(_ messages: [MIMEMessage]) throws -> String {
        let dir = NSTemporaryDirectory() + "moat-spam-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rssBefore = Self.residentBytes()
        let engine = try SpamEngine(settings: Self.settings, store: LearnedModelStore(path: dir + "/model.sqlite"))
        var text = "learned\tfeatures\trss_growth_mb\tsqlite_mb\n"
        let start = Date()
        for (i, (e, m)) in zip(corpus.entries, messages).enumerated() {
            try engine.learn(m, as: e.isSpam ? .spam : .ham)
            if (i + 1) % 1000 == 0 || i + 1 == messages.count {
                let files = try FileManager.default.contentsOfDirectory(atPath: dir)
                let sqlite = try files.reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? Int) ?? 0) }
                text += String(format: "%d\t%d\t%.1f\t%.1f\n", i + 1, engine.learnedCounts.features,
                               Double(Self.residentBytes() - rssBefore) / 1_048_576, Double(sqlite) / 1_048_576)
            }
        }
        text += String(format: "# learning with the SQLite store: %.1f messages/s\n", Double(messages.count) / Date().timeIntervalSince(start))
        return text
    }

    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
