import MoatConfig

/// HTML text in which every interpolated string is escaped unless it is itself `HTML`: a
/// value from the configuration, a mail address or a threat name can never become markup.
struct HTML: Sendable, ExpressibleByStringInterpolation {
    private(set) var text: String

    init(stringLiteral value: String) { text = value }

    init(stringInterpolation: StringInterpolation) { text = stringInterpolation.text }

    /// Markup built elsewhere (by code, never from input).
    init(trusted text: String) { self.text = text }

    struct StringInterpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity * 2)
        }

        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ value: String) { text += HTML.escape(value) }
        mutating func appendInterpolation(_ value: Int) { text += String(value) }
        mutating func appendInterpolation(_ html: HTML) { text += html.text }
        mutating func appendInterpolation(_ parts: [HTML]) { text += parts.map(\.text).joined() }
        mutating func appendInterpolation(_ value: String?) { text += HTML.escape(value ?? "") }
    }

    /// Text from a peer or a message (subjects, Message-IDs, addresses): control characters,
    /// line separators and bidi overrides made visible and the length capped
    /// (`LogText.escape`), then HTML-escaped.
    static func untrusted(_ value: String?) -> HTML { HTML(trusted: escape(LogText.escape(value ?? ""))) }

    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func + (a: HTML, b: HTML) -> HTML { HTML(trusted: a.text + b.text) }
}
