import MIME

/// The features the statistical model learns and scores, each a hashed string with a prefix
/// naming where it came from, so that "free" in the Subject and "free" in the body are
/// different evidence.
///
/// - body and Subject words, plus orthogonal sparse bigrams (each word paired with the next
///   `window - 1` words, the distance part of the feature) as rspamd's OSB does;
/// - sender domains (From, Reply-To, Return-Path), the From display name, the mailer;
/// - Received: host names and the /16 of addresses;
/// - URL hosts and their base domains;
/// - MIME shape: part types, transfer encodings, charsets, attachment extensions.
///
/// Headers that carry other filters' verdicts (X-Spam-*, X-Barracuda-*, X-ASG-*, X-Virus-*)
/// are never features: anyone can write them, and they would teach the model to trust them.
struct FeatureExtractor: Sendable {
    var tokenizer: Tokenizer
    var window: Int

    init(limits: AntiSpamLimits, window: Int = 3) {
        tokenizer = Tokenizer(maxTokens: limits.maxBodyTokens)
        self.window = window
    }

    func features(of m: AnalysedMessage) -> Set<UInt64> {
        var out = Set<UInt64>()
        out.reserveCapacity(4096)

        var bodyWords: [String] = []
        for part in m.textParts {
            if bodyWords.count >= tokenizer.maxTokens { break }
            bodyWords += tokenizer.tokens(part.text).prefix(tokenizer.maxTokens - bodyWords.count)
        }
        addWords(bodyWords, prefix: "b", into: &out)
        addWords(tokenizer.tokens(m.subject), prefix: "s", into: &out)

        for word in tokenizer.tokens(m.from.displayName).prefix(10) { out.insert(FeatureHash.hash("fn", word)) }
        addDomain(m.from.domain, prefix: "fd", into: &out)
        if let r = m.replyTo { addDomain(r.domain, prefix: "rt", into: &out) }
        if let r = m.returnPath { addDomain(r.domain, prefix: "rp", into: &out) }
        for word in tokenizer.tokens(m.mailer).prefix(10) { out.insert(FeatureHash.hash("xm", word)) }
        out.insert(FeatureHash.hash("hx", m.mailer.isEmpty ? "no-mailer" : "mailer"))
        out.insert(FeatureHash.hash("rc", String(min(m.received.count, 8))))
        for received in m.received.prefix(6) { addReceived(received, into: &out) }

        for url in m.urls.prefix(100) where !url.host.isEmpty {
            out.insert(FeatureHash.hash("uh", url.host))
            out.insert(FeatureHash.hash("ud", baseDomain(url.host)))
        }
        out.insert(FeatureHash.hash("un", String(min(m.urls.count, 20) / 4)))

        for type in m.mimeTypes.prefix(50) { out.insert(FeatureHash.hash("ct", type)) }
        for part in m.textParts {
            out.insert(FeatureHash.hash("te", part.transferEncoding.description))
            out.insert(FeatureHash.hash("cs", (part.declaredCharset ?? "none").lowercased()))
        }
        for a in m.attachments.prefix(20) {
            let ext = a.filename.split(separator: ".").last.map { String($0).lowercased() } ?? ""
            out.insert(FeatureHash.hash("ax", ext))
        }
        return out
    }

    private func addWords(_ words: [String], prefix: StaticString, into out: inout Set<UInt64>) {
        let hashes = words.map { FeatureHash.hash(prefix, $0) }
        for i in hashes.indices {
            out.insert(hashes[i])
            var d = 1
            while d < window, i + d < hashes.count {
                out.insert(FeatureHash.pair(hashes[i], hashes[i + d], distance: d))
                d += 1
            }
        }
    }

    private func addDomain(_ domain: String, prefix: StaticString, into out: inout Set<UInt64>) {
        guard !domain.isEmpty else {
            out.insert(FeatureHash.hash(prefix, "<none>"))
            return
        }
        out.insert(FeatureHash.hash(prefix, domain))
        out.insert(FeatureHash.hash(prefix, baseDomain(domain)))
    }

    /// Host names and address /16s of a Received line, e.g.
    /// `from mail.example.org (mail.example.org [192.0.2.7]) by mx.example.net ...`.
    private func addReceived(_ value: String, into out: inout Set<UInt64>) {
        let words = value.prefix(400).split(whereSeparator: { " \t()[];".contains($0) })
        for word in words.prefix(30) {
            let w = word.lowercased()
            let octets = w.split(separator: ".")
            if octets.count == 4, octets.allSatisfy({ Int($0).map { (0...255).contains($0) } ?? false }) {
                out.insert(FeatureHash.hash("ri", octets.prefix(2).joined(separator: ".")))
            } else if octets.count >= 2, w.containsASCII("."), !w.containsASCII("@"), w.count < 80,
                      w.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) {
                out.insert(FeatureHash.hash("rh", baseDomain(w)))
            }
        }
    }
}
