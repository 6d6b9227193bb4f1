/// The parts of an address header the classifier and the rules use.
struct MailAddress: Sendable, Equatable {
    var displayName: String
    /// `local@domain` lower-cased, or empty if none could be found.
    var address: String

    var domain: String {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return String(address[address.index(after: at)...])
    }

    /// First address of a header value: the `<...>` part if there is one, else the first
    /// word with an `@`.
    init(header value: String) {
        if let open = value.lastIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            address = String(value[value.index(after: open)..<close]).trimmingWhitespace().lowercased()
            displayName = String(value[..<open]).trimmingWhitespace()
                .trimmingCharacters(in: ["\"", "'", " "])
        } else {
            let word = value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).first { $0.containsASCII("@") }
            address = word.map { String($0).lowercased() } ?? ""
            displayName = ""
        }
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// The registrable-looking part of a host name: its last two labels, or three when the
/// second-level label is short (`example.co.uk`). Close enough without the public suffix
/// list for comparing hosts and grouping features.
func baseDomain(_ host: String) -> String {
    let labels = host.split(separator: ".")
    guard labels.count > 2 else { return host }
    let keep = labels[labels.count - 2].count <= 3 && labels.last!.count == 2 ? 3 : 2
    return labels.suffix(keep).joined(separator: ".")
}
