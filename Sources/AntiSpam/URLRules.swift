import Foundation

/// Link tricks: a link that shows one place and goes to another, hosts that hide their name.
struct URLRules: SpamRule {
    static let shorteners: Set<String> = [
        "bit.ly", "tinyurl.com", "goo.gl", "t.co", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly",
        "shorturl.at", "tiny.cc", "rb.gy", "t.ly", "s.id", "v.gd", "bl.ink", "lnkd.in", "x.co",
    ]

    func evaluate(_ m: AnalysedMessage, now: Date, into symbols: inout [SpamSymbol]) {
        var mismatch = false, ip = false, puny = false, short = false, userinfo = false
        for url in m.urls {
            if let shown = url.shownText, let shownHost = Self.hostShown(in: shown), !url.host.isEmpty,
               baseDomain(shownHost) != baseDomain(url.host) {
                mismatch = true
            }
            if url.isIPLiteral { ip = true }
            if url.isPunycode { puny = true }
            if Self.shorteners.contains(url.host) || Self.shorteners.contains(baseDomain(url.host)) { short = true }
            if url.hasUserInfo { userinfo = true }
        }
        if mismatch { symbols.append(.init(name: "URL_HOST_MISMATCH", score: 2.5, description: "link text shows another host than the link")) }
        if ip { symbols.append(.init(name: "URL_IP_LITERAL", score: 1.5, description: "link to a numeric address")) }
        if puny { symbols.append(.init(name: "URL_PUNYCODE", score: 1.0, description: "link to an internationalised (punycode) host")) }
        if short { symbols.append(.init(name: "URL_SHORTENER", score: 0.5, description: "link through a URL shortener")) }
        if userinfo { symbols.append(.init(name: "URL_USERINFO", score: 2.0, description: "link with user@ before the host")) }
    }

    /// The host a link text shows when it reads as a URL or a bare host name.
    static func hostShown(in text: String) -> String? {
        let t = text.trimmingWhitespace()
        guard !t.isEmpty, !t.containsASCII(" "), t.count < 200 else { return nil }
        if let url = MessageURL(t), !url.host.isEmpty { return url.host }
        // "paypal.com" without a scheme: a dotted name ending in letters.
        let labels = t.lowercased().split(separator: ".")
        guard labels.count >= 2, let tld = labels.last, tld.count >= 2, tld.allSatisfy({ $0.isLetter }),
              t.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else { return nil }
        return t.lowercased()
    }
}
