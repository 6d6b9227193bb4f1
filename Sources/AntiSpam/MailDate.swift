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
        var day: Int?, month: Int?, year: Int?, time: [Int]?, offset = 0
        for word in words(value, limit: 12) {
            if month == nil, let m = monthIndex(word), word.count <= 9 {
                month = m + 1
            } else if word.utf8.contains(UInt8(ascii: ":")), time == nil {
                // (utf8.contains: String.contains(String) goes through Foundation's range(of:).)
                let parts = word.split(separator: ":").compactMap { Int($0) }
                if parts.count >= 2 { time = parts }
            } else if (word.hasPrefix("+") || word.hasPrefix("-")), word.count == 5, let n = Int(word.dropFirst()) {
                offset = (word.hasPrefix("-") ? -1 : 1) * ((n / 100) * 3600 + (n % 100) * 60)
            } else if let z = zones[zoneName(word)] {
                offset = z * 3600
            } else if let n = Int(word) {
                if day == nil, n >= 1, n <= 31, month == nil || year == nil { day = n }
                else if year == nil { year = n < 50 ? 2000 + n : (n < 100 ? 1900 + n : n) }
            }
        }
        guard let day, let month, let year, let time, (1...9999).contains(year),
              time.prefix(3).allSatisfy({ (0..<100).contains($0) }) else { return nil }
        // Arithmetic instead of Calendar.date(from:), which cost more than the rest of the
        // anti-spam header rules together; out-of-range fields carry over as Calendar's did.
        let days = daysFromCivil(year: year, month: month, day: 1) + (day - 1)
        let seconds = days * 86_400 + time[0] * 3600 + time[1] * 60 + (time.count > 2 ? time[2] : 0)
        return Date(timeIntervalSince1970: TimeInterval(seconds - offset))
    }

    /// The month a word starts with (`dec`, `december`), compared on its first three bytes.
    static func monthIndex(_ word: String) -> Int? {
        var utf8 = word.utf8.makeIterator()
        guard let a = utf8.next(), let b = utf8.next(), let c = utf8.next() else { return nil }
        let key = UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)
        return monthKeys.firstIndex(of: key)
    }

    private static let monthKeys: [UInt32] = months.map { name in
        name.utf8.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// The first `limit` words, split at spaces, tabs and commas, ASCII letters lowered: on the
    /// bytes, since this runs for every Date and Received header (the names it looks for are
    /// ASCII; Unicode case mapping and Character-wise splitting cost more than the rest).
    static func words(_ value: String, limit: Int) -> [String] {
        var words: [String] = []
        var word: [UInt8] = []
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\t") {
                guard !word.isEmpty else { continue }
                words.append(String(decoding: word, as: UTF8.self))
                word.removeAll(keepingCapacity: true)
                if words.count == limit { return words }
            } else {
                word.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
            }
        }
        if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
        return words
    }

    /// A zone as it stands in a comment, "(UTC)", without its parentheses; untouched otherwise
    /// (most words), with no walk through its characters.
    static func zoneName(_ word: String) -> String {
        let utf8 = word.utf8
        guard utf8.first == UInt8(ascii: "(") || utf8.last == UInt8(ascii: ")") else { return word }
        let inner = utf8.drop(while: { $0 == UInt8(ascii: "(") }).reversed().drop(while: { $0 == UInt8(ascii: ")") })
        return String(decoding: inner.reversed(), as: UTF8.self)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
