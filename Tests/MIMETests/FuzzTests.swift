import Testing
@testable import MIME

/// Deterministic mutation fuzzing (no libFuzzer): corpus messages are mutated with
/// MIME-aware edits and every result must parse without trapping, keep the tree
/// invariants, re-emit byte-identical and give the same tree when fed in pieces.
@Suite("Fuzz")
struct FuzzTests {
    static let tokens: [String] = [
        "\n--", "\r\n--", "--\r\n", "\n\n", "\r\n\r\n", "\r", "\n", " ", "\t", "=", "==", ";", "\"", "\\", ":",
        "=?utf-8?B?", "=?iso-8859-1?Q?=E9", "?=", "begin 644 x.exe\n", "\nend\n", "M", "`\n",
        "Content-Type: multipart/mixed; boundary=\"b\"\n", "Content-Type: message/rfc822\n\n",
        "Content-Transfer-Encoding: base64\n", "Content-Transfer-Encoding: quoted-printable\n",
        "Content-Transfer-Encoding: x-uuencode\n", "filename*0*=utf-8''%E2%82", "; filename*1=\"", "--b\n", "--b--\n",
        "Content-Disposition: attachment; filename=", "\u{0}", "\u{FF}",
    ]

    static func boundaries(in data: [UInt8]) -> [[UInt8]] {
        let message = parse(data, limits: MIMELimits(validateBodies: false))
        return message.allParts.compactMap { $0.contentType.boundary.map { Array($0.utf8) } }
    }

    static func mutate(_ input: [UInt8], rng: inout SplitMix64) -> [UInt8] {
        var data = input
        let found = boundaries(in: input)
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
            let pos = data.isEmpty ? 0 : Int.random(in: 0...data.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where pos < data.count:
                data[pos] = UInt8.random(in: 0...255, using: &rng)
            case 1:
                data.insert(contentsOf: Array(tokens.randomElement(using: &rng)!.utf8), at: pos)
            case 2 where !found.isEmpty:
                let b = found.randomElement(using: &rng)!
                let line = (Bool.random(using: &rng) ? [0x0A] : [0x0D, 0x0A]) + [0x2D, 0x2D] + b
                    + (Bool.random(using: &rng) ? [0x2D, 0x2D] : []) + [0x0A]
                data.insert(contentsOf: line, at: pos)
            case 3 where pos < data.count:
                let end = min(data.count, pos + Int.random(in: 1...200, using: &rng))
                data.removeSubrange(pos..<end)
            case 4 where pos < data.count:
                let end = min(data.count, pos + Int.random(in: 1...500, using: &rng))
                data.insert(contentsOf: Array(data[pos..<end]), at: Int.random(in: 0...data.count, using: &rng))
            case 5:
                data.removeSubrange(pos...)
            default:
                if pos < data.count { data[pos] = [0x0A, 0x0D, 0x2D, 0x3D, 0x20][Int.random(in: 0..<5, using: &rng)] }
            }
        }
        return data
    }

    static func checkRobust(_ data: [UInt8], _ label: String, rng: inout SplitMix64) {
        let m = parse(data)
        #expect(m.emit() == data, "\(label): emit")
        let violations = invariantViolations(m)
        #expect(violations.isEmpty, "\(label): \(violations.prefix(3))")
        #expect(reassemble(m) == data, "\(label): reassemble")
        for part in m.allParts {
            _ = m.decodedBody(of: part)
            _ = m.text(of: part)
        }
        // A replacement of a random part must leave a message that parses again.
        if let part = m.allParts.randomElement(using: &rng) {
            let out = m.emit(replacing: [part.path: .textPart("x")])
            #expect(invariantViolations(parse(out)).isEmpty, "\(label): rewrite")
        }
        var parser = MessageParser()
        let cut = Int.random(in: 0...data.count, using: &rng)
        parser.feed(data[..<cut])
        parser.feed(data[cut...])
        #expect(parser.finish().root == m.root, "\(label): split")
    }

    @Test func mutatedCorpusMessages() throws {
        let (dir, entries) = try Corpus.index()
        // Every non-SpamAssassin-corpus message (the torture and edge-case sets) plus a
        // sample of the rest, skipping the multi-megabyte ones to keep the run short.
        let chosen = entries.enumerated().filter { i, e in
            e.size < 300_000 && (!e.path.hasPrefix("spamassassin-publiccorpus") || i % 25 == 0)
        }.map(\.element)
        #expect(chosen.count > 500)
        var rng = SplitMix64(seed: 20251125)
        var runs = 0
        for entry in chosen {
            let original = try #require(Corpus.readFile(dir + "/" + entry.path))
            for round in 0..<3 {
                let mutated = Self.mutate(original, rng: &rng)
                Self.checkRobust(mutated, "\(entry.path)#\(round)", rng: &rng)
                runs += 1
            }
        }
        print("fuzz: \(runs) mutated messages")
    }

    @Test func randomGarbage() {
        var rng = SplitMix64(seed: 42)
        let alphabet = Array("-\r\n=:;\" \tabcB?Q0123456789begin end".utf8)
        for i in 0..<300 {
            let n = Int.random(in: 0..<2000, using: &rng)
            let data: [UInt8] = (0..<n).map { _ in
                Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            Self.checkRobust(data, "garbage#\(i)", rng: &rng)
        }
    }

    @Test func hostileShapesStayBounded() {
        // Many nested message/rfc822 headers, a huge header, many tiny parts, endless "=?".
        let cases: [[UInt8]] = [
            Array(String(repeating: "Content-Type: message/rfc822\n\n", count: 5000).utf8),
            Array(("Subject: " + String(repeating: "=?utf-8?q?", count: 20000) + "\n\nx").utf8),
            Array(("Content-Type: multipart/mixed; boundary=b\n\n" + String(repeating: "--b\n", count: 30000)).utf8),
            Array((String(repeating: "X: y\n", count: 50000) + "\nbody").utf8),
            Array(("Content-Type: text/plain\n\n" + String(repeating: "begin 644 a\n", count: 5000)).utf8),
        ]
        for (i, data) in cases.enumerated() {
            let m = parse(data)
            #expect(m.emit() == data)
            #expect(m.allParts.count <= MIMELimits().maxParts)
            #expect(invariantViolations(m).isEmpty, "case \(i)")
        }
    }
}
