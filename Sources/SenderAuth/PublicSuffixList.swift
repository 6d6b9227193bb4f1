import Foundation

// The Public Suffix List (publicsuffix.org) as Debian's `publicsuffix` package installs it, for
// RFC 7489 §3.2's organisational domain: the public suffix of a name plus one label.

public struct PublicSuffixList: Sendable {
    public static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    private var rules: Set<String> = []
    private var wildcards: Set<String> = []
    private var exceptions: Set<String> = []
    /// True when the list file could not be read and the small built-in list is used instead.
    public private(set) var isFallback = false

    /// Reads the list at `path`; when it is missing or empty, falls back to `PublicSuffixList.fallback`.
    public init(contentsOf path: String = PublicSuffixList.debianPath) {
        if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
            self.init(text: text)
            if !rules.isEmpty || !wildcards.isEmpty { return }
        }
        self = .fallback
    }

    /// Parses the list's text format: one rule a line, `//` comments, `*.` wildcards, `!` exceptions.
    public init(text: String) {
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            guard let word = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first, !word.hasPrefix("//") else { continue }
            var rule = String(word).lowercased()
            let exception = rule.hasPrefix("!")
            if exception { rule.removeFirst() }
            let wildcard = rule.hasPrefix("*.")
            if wildcard { rule.removeFirst(2) }
            guard let ascii = Punycode.asciiName(rule) else { continue }
            if exception { exceptions.insert(ascii) } else if wildcard { wildcards.insert(ascii) } else { rules.insert(ascii) }
        }
    }

    /// When the file is missing: the default rule (the last label is the suffix) and the
    /// second-level suffixes under which most mail domains live.
    public static let fallback: PublicSuffixList = {
        var list = PublicSuffixList(text: """
            co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk
            com.au net.au org.au edu.au gov.au co.nz org.nz net.nz co.jp ne.jp or.jp ac.jp go.jp
            com.br net.br org.br gov.br com.cn net.cn org.cn gov.cn com.mx org.mx gob.mx co.in net.in org.in
            co.za org.za com.tr com.tw com.hk com.sg com.ar com.ru co.il co.kr or.kr com.pl
            """.split(whereSeparator: \.isWhitespace).joined(separator: "\n"))
        list.isFallback = true
        return list
    }()

    /// The public suffix of `name` (the default rule `*` when no rule matches).
    public func publicSuffix(of name: String) -> String {
        let normalized = DomainName.normalized(name)
        let labels = normalized.split(separator: ".")
        return Self.suffix(of: normalized, labels, count: suffixLabelCount(labels))
    }

    /// RFC 7489 §3.2: the public suffix plus one label; the name itself when it is a suffix.
    public func organizationalDomain(of name: String) -> String {
        let normalized = DomainName.normalized(name)
        let labels = normalized.split(separator: ".")
        let suffixLabels = suffixLabelCount(labels)
        guard labels.count > suffixLabels else { return normalized }
        return Self.suffix(of: normalized, labels, count: suffixLabels + 1)
    }

    /// How many of the last labels are the public suffix: the longest matching rule wins; an
    /// exception rule's suffix is the rule minus its first label.
    private func suffixLabelCount(_ labels: [Substring]) -> Int {
        guard var candidate = labels.last.map(String.init) else { return 0 }
        var best = 1
        for count in 1...labels.count {
            if count > 1 { candidate = labels[labels.count - count] + "." + candidate }
            if exceptions.contains(candidate) { return count - 1 }
            if rules.contains(candidate) { best = max(best, count) }
            if count < labels.count, wildcards.contains(candidate) { best = max(best, count + 1) }
        }
        return best
    }

    /// The last `count` labels joined by dots: the name's own tail when its labels are all
    /// there is between its dots (no empty label to leave out), as nearly every name is.
    private static func suffix(of name: String, _ labels: [Substring], count: Int) -> String {
        guard count > 0 else { return "" }
        let first = labels[labels.count - count]
        var dots = 0
        for byte in name.utf8[first.startIndex...] where byte == UInt8(ascii: ".") { dots += 1 }
        if dots == count - 1, labels.last?.endIndex == name.endIndex { return String(name[first.startIndex...]) }
        return labels.suffix(count).joined(separator: ".")
    }
}

/// RFC 3492 Punycode, only the encoding, for the list's U-label rules (DNS names are A-labels).
enum Punycode {
    static func asciiName(_ name: String) -> String? {
        var out: [String] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.allSatisfy(\.isASCII) { out.append(String(label)); continue }
            guard let encoded = encode(String(label)) else { return nil }
            out.append("xn--" + encoded)
        }
        return out.joined(separator: ".")
    }

    static func encode(_ label: String) -> String? {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        let input = label.unicodeScalars.map { Int($0.value) }
        var output = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }
        var n = 0x80, delta = 0, bias = 72
        func digit(_ d: Int) -> UInt8 { UInt8(d < 26 ? d + 97 : d + 22) }
        func adapt(_ delta: Int, _ points: Int, _ first: Bool) -> Int {
            var d = first ? delta / damp : delta / 2
            d += d / points
            var k = 0
            while d > ((base - tMin) * tMax) / 2 { d /= base - tMin; k += base }
            return k + (base - tMin + 1) * d / (d + skew)
        }
        while handled < input.count {
            guard let m = input.filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += product
            n = m
            for c in input {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}
