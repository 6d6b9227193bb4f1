import Testing
@testable import Policy

/// Random mutations of valid rules never crash: each compiles, or fails with a column inside the rule.
struct FuzzTests {
    /// SplitMix64, so failures reproduce.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds = [
        "threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT \"The message contains a THREAT\"",
        "body match (\".*buy.*\") : REJECT \"This is a SPAM message\"",
        "total_spam_score gt 0.80 : REJECT \"This is a SPAM message\"",
        "to in file(\"/etc/moat/recipients\"), not tls : TEMPFAIL",
        "src_ip in (10.0.0.0/8, \"::1\") : ADD_HEADER(\"X-Internal\", \"yes\"), PASS",
        "header(\"List-Id\") match \"^<a\" : SET tag = list, REPACK(\"x\")",
        "message_size >= 10M, attachment_name match \"\\\\.(exe|js)$\" : BLOCK as Executable",
        "PASS",
        "unchecked : TEMPFAIL \"later\"",
        "protocol in (Smtp, Pop3, Imap) : SCAN_MAIL",
    ]

    static let alphabet: [Character] = Array("abcKV_ ,:()\"\\0.9>=!<-/@#;é\t")
    static let fragments = [" in ", " not ", " match ", "file(", "(", ")", "\"", ",", ":", " gt ", "PASS", "\"[", "0.8", "header("]

    static func mutate(_ rule: String, _ rng: inout Generator) -> String {
        var chars = Array(rule)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let at = chars.isEmpty ? 0 : Int.random(in: 0..<chars.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !chars.isEmpty: chars.remove(at: at)
            case 1: chars.insert(alphabet.randomElement(using: &rng)!, at: at)
            case 2 where chars.count > 1 && at + 1 < chars.count: chars.swapAt(at, at + 1)
            case 3: chars.insert(contentsOf: fragments.randomElement(using: &rng)!, at: at)
            case 4: chars = Array(chars.prefix(at))
            default:
                let end = min(chars.count, at + Int.random(in: 1...8, using: &rng))
                chars.insert(contentsOf: chars[at..<end], at: at)
            }
        }
        return String(chars)
    }

    @Test(arguments: 0..<seeds.count)
    func mutationsNeverCrash(_ seedIndex: Int) {
        var rng = Generator(state: UInt64(seedIndex) &* 7919 &+ 1)
        var compiled = 0
        var failed = 0
        for _ in 0..<1000 {
            let rule = Self.mutate(Self.seeds[seedIndex], &rng)
            do {
                let rules = try RuleSet.compile([rule], name: "Fuzz", kind: .firewall, readFile: testReader)
                _ = rules.evaluate(sample)
                _ = rules.evaluate(clean)
                compiled += 1
            } catch {
                failed += 1
                #expect(error.ruleIndex == 0)
                #expect(error.column >= 1 && error.column <= rule.count + 1, "\(rule): \(error)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(compiled + failed == 1000)
        #expect(failed > 0)
    }

    @Test func seedsCompile() throws {
        _ = try RuleSet.compile(Self.seeds, name: "Fuzz", kind: .firewall, readFile: testReader)
    }
}
