import Testing
@testable import MIME
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shared corpus: $MOAT_CORPUS, else ../shared/corpus relative to the repository
/// root (works from /work/main and from worktrees next to it under /work).
enum Corpus {
    static var directory: String? {
        if let env = getenv("MOAT_CORPUS"), env.pointee != 0 { return String(cString: env) }
        // #filePath = <repo>/Tests/MIMETests/CorpusTests.swift
        var repo = #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        if repo.isEmpty { repo = "." }
        for candidate in [repo + "/../shared/corpus", repo + "/shared/corpus", "/work/shared/corpus"] where fileExists(candidate + "/INDEX.tsv") {
            return candidate
        }
        return nil
    }

    struct Entry {
        var path: String
        var size: Int
        var features: [String]
    }

    static func index() throws -> (String, [Entry]) {
        let dir = try #require(directory, "corpus not found: set MOAT_CORPUS or put it at ../shared/corpus")
        let tsv = try #require(readFile(dir + "/INDEX.tsv"), "cannot read INDEX.tsv")
        var entries: [Entry] = []
        for line in string(tsv).split(separator: "\n").dropFirst() {
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard cols.count >= 5 else { continue }
            entries.append(Entry(path: String(cols[0]), size: Int(cols[1]) ?? -1, features: cols[4].split(separator: ",").map(String.init)))
        }
        return (dir, entries)
    }

    static func load(_ relative: String) throws -> [UInt8] {
        let dir = try #require(directory, "corpus not found")
        return try #require(readFile(dir + "/" + relative), "cannot read \(relative)")
    }

    static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return out
    }
}

@Suite("Corpus")
struct CorpusTests {
    @Test("every corpus message parses, keeps tree invariants and re-emits byte-identical")
    func wholeCorpus() throws {
        let (dir, entries) = try Corpus.index()
        #expect(entries.count >= 5000)
        var parsed = 0
        var totalParts = 0
        var maxParts = 0
        var withProblems = 0
        for entry in entries {
            let data = try #require(Corpus.readFile(dir + "/" + entry.path), "missing \(entry.path)")
            #expect(data.count == entry.size, "\(entry.path) size")
            let message = parse(data)
            parsed += 1
            let parts = message.allParts.count
            totalParts += parts
            maxParts = max(maxParts, parts)
            #expect(message.emit() == data, "\(entry.path) not re-emitted identically")
            let violations = invariantViolations(message)
            #expect(violations.isEmpty, "\(entry.path): \(violations.prefix(5))")
            #expect(reassemble(message) == data, "\(entry.path) not reassembled from the tree")
            // Sanity: parts are bounded by the limit and by the message size (each part
            // needs at least a delimiter line), problems are flags, not per-line logs.
            #expect(parts >= 1 && parts <= MIMELimits().maxParts)
            #expect(parts <= data.count / 3 + 2, "\(entry.path): \(parts) parts")
            let problems = message.allProblems.count
            #expect(problems <= parts * 24, "\(entry.path): \(problems) problems")
            if problems > 0 { withProblems += 1 }
        }
        print("corpus: \(parsed) messages parsed and re-emitted, \(totalParts) parts (max \(maxParts)), \(withProblems) with problems")
        #expect(parsed == entries.count)
    }
}
