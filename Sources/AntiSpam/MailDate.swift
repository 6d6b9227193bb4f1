import Foundation

/// RFC 5322 date-time (`[Day,] DD Mon YYYY HH:MM[:SS] zone`), tolerant of the usual
/// deviations (two-digit years, missing seconds, zone names). nil when it is not a date.
enum MailDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let zones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6,
        "pst": -8, "pdt": -7,
    ]

    static func parse(_ value: String) -> Date? {
        let words = value.lowercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
        var day: Int?, month: Int?, year: Int?, time: [Int]?, offset = 0
        for word in words.prefix(12) {
            if let m = months.firstIndex(where: { word.hasPrefix($0) }), month == nil, word.count <= 9 {
                month = m + 1
            } else if word.contains(":"), time == nil {
                let parts = word.split(separator: ":").compactMap { Int($0) }
                if parts.count >= 2 { time = parts }
            } else if (word.hasPrefix("+") || word.hasPrefix("-")), word.count == 5, let n = Int(word.dropFirst()) {
                offset = (word.hasPrefix("-") ? -1 : 1) * ((n / 100) * 3600 + (n % 100) * 60)
            } else if let z = zones[word.trimmingCharacters(in: ["(", ")"])] {
                offset = z * 3600
            } else if let n = Int(word) {
                if day == nil, n >= 1, n <= 31, month == nil || year == nil { day = n }
                else if year == nil { year = n < 50 ? 2000 + n : (n < 100 ? 1900 + n : n) }
            }
        }
        guard let day, let month, let year, let time, (1...9999).contains(year) else { return nil }
        var components = DateComponents()
        components.year = year
        components.month = month
        components.day = day
        components.hour = time[0]
        components.minute = time[1]
        components.second = time.count > 2 ? time[2] : 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        guard let utc = calendar.date(from: components) else { return nil }
        return utc.addingTimeInterval(TimeInterval(-offset))
    }
}
