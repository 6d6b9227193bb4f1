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
    var host = host
    // Per link of every message: the bytes of an ordinary host name are read in place (the
    // split and join below were 65 K instructions per Milter message).
    if let fast = host.withUTF8({ asciiBaseDomain($0) }) { return fast.isEmpty ? host : fast }
    let labels = host.split(separator: ".")
    guard labels.count > 2 else { return host }
    let keep = labels[labels.count - 2].count <= 3 && labels.last!.count == 2 ? 3 : 2
    return labels.suffix(keep).joined(separator: ".")
}

/// `baseDomain` of a host of printable ASCII without empty labels, where a label's length in
/// bytes is its length in characters; "" for the whole host; nil for any other host.
private func asciiBaseDomain(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    guard let lastByte = bytes.last, lastByte != UInt8(ascii: "."), bytes.first != UInt8(ascii: ".") else { return nil }
    // The last three dots; -1 stands for the start of the host.
    var last = -1, second = -1, third = -1
    var previous: UInt8 = 0
    for (i, byte) in bytes.enumerated() {
        guard byte > 0x20, byte < 0x7F else { return nil }
        if byte == UInt8(ascii: ".") {
            if previous == UInt8(ascii: ".") { return nil }
            (third, second, last) = (second, last, i)
        }
        previous = byte
    }
    guard second >= 0 else { return "" }  // two labels or fewer
    let shortSecondLevel = last - second - 1 <= 3 && bytes.count - last - 1 == 2
    let start = (shortSecondLevel ? third : second) + 1
    return start == 0 ? "" : String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self)
}
