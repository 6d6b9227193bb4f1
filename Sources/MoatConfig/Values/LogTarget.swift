/// `Log` parameters: where a component writes its log.
///
/// `Auto` is standard error (the systemd journal catches it), `Syslog[:FACILITY]` the local
/// syslog, an absolute path a file of its own.
public enum LogTarget: Sendable, Hashable, CustomStringConvertible {
    case auto
    case stderr
    case syslog(facility: String)
    case file(path: String)

    static let expected = "Auto, Stderr, Syslog[:DAEMON|MAIL|LOCAL0..LOCAL7] or an absolute file path"
    static let facilities = ["DAEMON", "MAIL", "USER"] + (0...7).map { "LOCAL\($0)" }

    public init(parsing text: String) throws(ValueError) {
        let s = text.trimmingWhitespace()
        switch s.lowercased() {
        case "auto", "": self = .auto; return
        case "stderr": self = .stderr; return
        case "syslog": self = .syslog(facility: "DAEMON"); return
        default: break
        }
        if s.lowercased().hasPrefix("syslog:") {
            let facility = s.dropFirst("syslog:".count).uppercased()
            guard Self.facilities.contains(facility) else {
                throw ValueError("`\(text)` names an unknown syslog facility", expected: Self.expected)
            }
            self = .syslog(facility: facility)
            return
        }
        guard s.hasPrefix("/") else { throw ValueError("`\(text)` is not a log target", expected: Self.expected) }
        self = .file(path: s)
    }

    public var description: String {
        switch self {
        case .auto: return "Auto"
        case .stderr: return "Stderr"
        case .syslog(let f): return "Syslog:\(f)"
        case .file(let p): return p
        }
    }
}
