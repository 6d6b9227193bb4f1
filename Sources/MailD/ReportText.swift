/// `moat-ctl scan`'s human output: one line per message, then one per part.
public enum ReportText {
    public static func lines(_ report: CheckReport, name: String) -> [String] {
        var out: [String]
        switch report.status {
        case .clean:
            out = ["\(name): clean"]
        case .threat:
            let names = Array(Set(report.threats.map { "\($0.name) (\($0.category))" })).sorted()
            out = ["\(name): THREAT " + names.joined(separator: ", ")]
        case .unchecked:
            let reasons = Array(Set(report.unchecked.map(\.description))).sorted()
            out = ["\(name): UNCHECKED " + reasons.joined(separator: ", ")]
        }
        for fact in report.messageUnchecked { out.append("  message: unchecked (\(fact))") }
        if let spam = report.spam {
            let symbols = spam.symbols.map { "\($0.name)(\(Self.points($0.score)))" }
            out.append("  spam: \(Self.points(spam.points)) points" + (symbols.isEmpty ? "" : ": " + symbols.joined(separator: " ")))
        }
        for part in report.parts {
            var line = "  part \(part.path.isEmpty ? "0" : part.path) \(part.contentType)"
            if let filename = part.filename { line += " \"\(filename)\"" }
            line += " \(part.size) bytes: "
            var findings = part.threats.map { "\($0.name) (\($0.category))" }
            findings += part.unchecked.map { "unchecked (\($0))" }
            line += findings.isEmpty ? "clean" : findings.joined(separator: ", ")
            out.append(line)
        }
        return out
    }

    static func points(_ value: Double) -> String {
        let tenths = (value * 10).rounded() / 10
        return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
    }
}
