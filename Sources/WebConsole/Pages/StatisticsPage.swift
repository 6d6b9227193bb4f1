import Foundation
import Storage

/// Charts and tops from the database, so that a cluster shows its totals: messages per hour
/// (last day) and per day (last week) by what became of them, threats and spam per hour, the
/// threats found most and the senders blocked most.
enum StatisticsPage {
    static let groups: [(name: String, colour: String, matches: @Sendable (String) -> Bool)] = [
        ("delivered", "#16702e", { $0 == "pass" }),
        ("repacked", "#b7791f", { $0 == "repack" }),
        ("quarantined", "#6b46c1", { $0.contains("quarantine") }),
        ("refused", "#b00020", { $0 == "reject" || $0 == "tempfail" }),
        ("discarded", "#6b7280", { $0 == "discard" }),
    ]

    static func render(hourly: [HourlyCount], recent: [MessageLogEntry], recentLimit: Int, now: Date, csrf: String) -> HTML {
        let hour = 3600.0
        let thisHour = (now.timeIntervalSince1970 / hour).rounded(.down) * hour
        let dayBuckets = (0..<24).map { Date(timeIntervalSince1970: thisHour - Double(23 - $0) * hour) }
        let today = (now.timeIntervalSince1970 / 86400).rounded(.down) * 86400
        let weekBuckets = (0..<7).map { Date(timeIntervalSince1970: today - Double(6 - $0) * 86400) }
        let series = groups.map { BarChart.Series(name: $0.name, colour: $0.colour) }

        func verdictCounts(_ start: Date, length: TimeInterval) -> [Int] {
            let inBucket = hourly.filter { $0.hour >= start && $0.hour < start.addingTimeInterval(length) }
            return groups.map { group in inBucket.filter { group.matches($0.verdict) }.reduce(0) { $0 + $1.messages } }
        }
        let perHour = BarChart(title: "Messages per hour, last 24 hours", series: series, buckets: dayBuckets.map {
            .init(label: hourLabel($0), values: verdictCounts($0, length: hour))
        })
        let perDay = BarChart(title: "Messages per day, last 7 days", series: series, buckets: weekBuckets.map {
            .init(label: dayLabel($0), values: verdictCounts($0, length: 86400))
        })
        let lastDay = recent.filter { $0.time >= dayBuckets[0] }
        let threatsAndSpam = BarChart(
            title: "Threats and spam per hour, last 24 hours",
            series: [.init(name: "with threats", colour: "#b00020"), .init(name: "spam (5 points or more)", colour: "#b7791f")],
            buckets: dayBuckets.map { start in
                let rows = lastDay.filter { $0.time >= start && $0.time < start.addingTimeInterval(hour) }
                return .init(label: hourLabel(start), values: [rows.filter { !$0.threats.isEmpty }.count,
                                                               rows.filter { ($0.spamScore ?? 0) >= 5 }.count])
            })
        let blocked = recent.filter { ["reject", "discard", "tempfail"].contains($0.verdict) || $0.verdict.contains("quarantine") }
        let content: HTML = """
            <p>From the database shared by every gateway of the cluster (\(Set(hourly.map(\.interface)).count) interfaces counted).</p>
            \(perHour.render())\(perDay.render())\(threatsAndSpam.render())
            <h2>Threats found most, last 7 days</h2>\(top(recent.flatMap(\.threats).map(threatName), header: "Threat"))
            <h2>Senders blocked most, last 7 days</h2>\(top(blocked.compactMap(\.sender), header: "Sender"))
            \(recent.count >= recentLimit ? "<p>Threats, spam and tops are counted over the latest \(recentLimit) messages of the week.</p>" as HTML : "")
            """
        return Layout.page(title: "Statistics", path: "/statistics", csrf: csrf, content: content)
    }

    /// `Eicar-Test-Signature (KnownVirus) in 1.2 "x.com"` → `Eicar-Test-Signature`.
    static func threatName(_ text: String) -> String {
        String(text.prefix { $0 != " " })
    }

    static func top(_ values: [String], header: String) -> HTML {
        var tally: [String: Int] = [:]
        for value in values { tally[value, default: 0] += 1 }
        let counts = tally.sorted { (a: (key: String, value: Int), b: (key: String, value: Int)) -> Bool in
            a.value != b.value ? a.value > b.value : a.key < b.key
        }
        guard !counts.isEmpty else { return "<p>None.</p>" }
        let rows: [HTML] = counts.prefix(10).map { (entry: (key: String, value: Int)) -> HTML in
            let name = HTML.untrusted(entry.key)
            return "<tr><td>\(name)</td><td>\(entry.value)</td></tr>"
        }
        return "<table><tr><th>\(header)</th><th>Messages</th></tr>\(rows)</table>"
    }

    static func hourLabel(_ date: Date) -> String { format(date, "HH:00") }
    static func dayLabel(_ date: Date) -> String { format(date, "MM-dd") }

    static func format(_ date: Date, _ pattern: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = pattern
        return formatter.string(from: date)
    }
}
