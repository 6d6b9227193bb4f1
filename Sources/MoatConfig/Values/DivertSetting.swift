import Foundation

/// `[LinuxFirewall] InputDivert`: which incoming connections the Gate intercepts.
///
/// `Auto(interface:eth0 protected:25,110,143)` diverts connections that arrive on `eth0` for
/// one of the ports; `Off` diverts nothing (the default, so a fresh install touches no firewall).
public enum DivertSetting: Sendable, Hashable, CustomStringConvertible {
    case off
    case auto(interface: String, protectedPorts: [Int])

    static let expected = "Off or Auto(interface:<name> protected:<port>,<port>,...)"

    public init(parsing text: String) throws(ValueError) {
        let s = text.trimmingWhitespace()
        let lower = s.lowercased()
        if lower == "off" || lower == "no" || s.isEmpty {
            self = .off
            return
        }
        func bad(_ why: String) -> ValueError { ValueError("`\(text)` \(why)", expected: Self.expected) }
        guard lower.hasPrefix("auto("), s.hasSuffix(")") else { throw bad("is not a divert mode") }
        let inner = s.dropFirst("auto(".count).dropLast()
        var interface: String?
        var ports: [Int]?
        // Options are `key:value` separated by spaces; a port list may also contain spaces after commas.
        let normalized = inner.replacingCommaSpaces()
        for option in normalized.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let colon = option.firstIndex(of: ":") else { throw bad("has an option `\(option)` without a colon") }
            let key = option[..<colon].lowercased()
            let value = option[option.index(after: colon)...]
            switch key {
            case "interface":
                guard !value.isEmpty, value.count < 16 else { throw bad("has an invalid interface name `\(value)`") }
                interface = String(value)
            case "protected":
                var list: [Int] = []
                for item in value.split(separator: ",") {
                    guard let port = Int(item), (1...65535).contains(port) else {
                        throw bad("has a protected port `\(item)` that is not from 1 to 65535")
                    }
                    if !list.contains(port) { list.append(port) }
                }
                guard !list.isEmpty else { throw bad("lists no protected port") }
                ports = list
            default:
                throw bad("has an unknown option `\(key)`")
            }
        }
        guard let interface else { throw bad("names no interface") }
        guard let ports else { throw bad("lists no protected ports") }
        self = .auto(interface: interface, protectedPorts: ports)
    }

    public var description: String {
        switch self {
        case .off: return "Off"
        case .auto(let interface, let ports):
            return "Auto(interface:\(interface) protected:\(ports.map(String.init).joined(separator: ",")))"
        }
    }
}

extension Substring {
    /// `25, 110` -> `25,110`, so that a list written with spaces stays one option.
    fileprivate func replacingCommaSpaces() -> String {
        var out = ""
        var afterComma = false
        for c in self {
            if afterComma, c == " " || c == "\t" { continue }
            afterComma = c == ","
            out.append(c)
        }
        // A space before a comma would split the list as well.
        while out.contains(" ,") { out = out.replacingOccurrences(of: " ,", with: ",") }
        return out
    }
}
