// RFC 7489 §6.3: the DMARC record published at `_dmarc.<domain>`.

public struct DMARCRecord: Sendable, Hashable {
    public enum Alignment: String, Sendable, Hashable {
        case relaxed = "r", strict = "s"
    }

    public var policy: DMARCPolicy
    /// `sp=`, for subdomains of the domain the record was found at (`p=` when absent).
    public var subdomainPolicy: DMARCPolicy?
    public var dkimAlignment: Alignment
    public var spfAlignment: Alignment
    /// `pct=`, 0-100.
    public var percent: Int

    /// Nil when the text is not a DMARC record (RFC 7489 §6.6.3: records not starting with
    /// `v=DMARC1` are discarded) or has no usable policy.
    public static func parse(_ text: [UInt8]) -> DMARCRecord? {
        guard let tags = try? TagList.parse(ArraySlice(text)),
              tags.tags.first?.name == "v", tags["v"] == "DMARC1" else { return nil }
        let policy: DMARCPolicy
        if let p = tags["p"].flatMap({ DMARCPolicy(rawValue: $0.lowercased()) }) {
            policy = p
        } else if tags["rua"] != nil {
            policy = .none  // §6.6.3: a bad p= with a reporting address is taken as p=none
        } else {
            return nil
        }
        var percent = 100
        if let pct = tags["pct"], pct.count <= 3, let n = Int(pct), (0...100).contains(n) { percent = n }
        return DMARCRecord(
            policy: policy,
            subdomainPolicy: tags["sp"].flatMap { DMARCPolicy(rawValue: $0.lowercased()) },
            dkimAlignment: tags["adkim"].flatMap { Alignment(rawValue: $0.lowercased()) } ?? .relaxed,
            spfAlignment: tags["aspf"].flatMap { Alignment(rawValue: $0.lowercased()) } ?? .relaxed,
            percent: percent)
    }

    public static func parse(_ text: String) -> DMARCRecord? { parse(Array(text.utf8)) }
}
