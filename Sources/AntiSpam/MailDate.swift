import Foundation

/// RFC 5322 date-time (`[Day,] DD Mon YYYY HH:MM[:SS] zone`), tolerant of the usual
/// deviations (two-digit years, missing seconds, zone names). nil when it is not a date.
///
/// Read on the value's UTF-8 bytes, in place: this runs for the Date header and up to ten
/// Received headers of every message, and Strings made of each word, split and compared,
/// cost 20 K instructions a date (callgrind), more than the rest of the header rules.
enum MailDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let zones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6,
        "pst": -8, "pdt": -7,
    ]

    static func parse(_ value: some StringProtocol) -> Date? {
        if let date = value.utf8.withContiguousStorageIfAvailable({ parse(bytes: $0) }) { return date }
        return Array(value.utf8).withUnsafeBufferPointer { parse(bytes: $0) }
    }

    private static func parse(bytes value: UnsafeBufferPointer<UInt8>) -> Date? {
        var day: Int?, month: Int?, year: Int?, offset = 0
        var time: (count: Int, leading: [Int])?  // how many numbers, the first three of them
        for word in words(value, limit: 12) {
            let word = UnsafeBufferPointer(rebasing: value[word])
            if month == nil, let m = monthIndex(word), characterCount(word, isAtMost: 9) {
                month = m + 1
            } else if word.contains(UInt8(ascii: ":")), time == nil {
                let parts = word.split(separator: UInt8(ascii: ":")).compactMap { integer(UnsafeBufferPointer(rebasing: $0)) }
                if parts.count >= 2 { time = (parts.count, Array(parts.prefix(3))) }
            } else if let sign = word.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), word.count == 5,
                      let n = integer(UnsafeBufferPointer(rebasing: word.dropFirst())) {
                // (Five bytes that parse as a sign and a number are five characters.)
                offset = (sign == UInt8(ascii: "-") ? -1 : 1) * ((n / 100) * 3600 + (n % 100) * 60)
            } else if let z = zone(word) {
                offset = z * 3600
            } else if let n = integer(word) {
                if day == nil, n >= 1, n <= 31, month == nil || year == nil { day = n }
                else if year == nil { year = n < 50 ? 2000 + n : (n < 100 ? 1900 + n : n) }
            }
        }
        guard let day, let month, let year, let time, (1...9999).contains(year),
              time.leading.allSatisfy({ (0..<100).contains($0) }) else { return nil }
        // Arithmetic instead of Calendar.date(from:), which cost more than the rest of the
        // anti-spam header rules together; out-of-range fields carry over as Calendar's did.
        let days = daysFromCivil(year: year, month: month, day: 1) + (day - 1)
        let seconds = days * 86_400 + time.leading[0] * 3600 + time.leading[1] * 60 + (time.count > 2 ? time.leading[2] : 0)
        return Date(timeIntervalSince1970: TimeInterval(seconds - offset))
    }

    /// The month a word starts with (`dec`, `december`), compared on its first three bytes,
    /// ASCII letters in any case.
    static func monthIndex(_ word: UnsafeBufferPointer<UInt8>) -> Int? {
        guard word.count >= 3 else { return nil }
        let key = UInt32(ASCIIByte.lowered(word[0])) << 16 | UInt32(ASCIIByte.lowered(word[1])) << 8
            | UInt32(ASCIIByte.lowered(word[2]))
        return monthKeys.firstIndex(of: key)
    }

    private static let monthKeys: [UInt32] = months.map { name in
        name.utf8.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// The byte ranges of the first `limit` words, split at spaces, tabs and commas.
    static func words(_ value: UnsafeBufferPointer<UInt8>, limit: Int) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var start: Int?
        for (i, byte) in value.enumerated() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\t") {
                guard let first = start else { continue }
                words.append(first..<i)
                start = nil
                if words.count == limit { return words }
            } else if start == nil {
                start = i
            }
        }
        if let first = start { words.append(first..<value.count) }
        return words
    }

    /// A zone's offset in hours: its name (`EST`), also as it stands in a comment (`(UTC)`).
    static func zone(_ word: UnsafeBufferPointer<UInt8>) -> Int? {
        var name = word[...]
        if name.first == UInt8(ascii: "(") || name.last == UInt8(ascii: ")") {
            name = name.drop(while: { $0 == UInt8(ascii: "(") })
            while name.last == UInt8(ascii: ")") { name = name.dropLast() }
        }
        guard (1...3).contains(name.count) else { return nil }
        return zones[String(decoding: name.map(ASCIIByte.lowered), as: UTF8.self)]
    }

    /// What `Int(String)` answers: an optional sign, then decimal digits only; nil on overflow.
    static func integer(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        var digits = text[...]
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var n = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = n.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                                      : times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            n = next
        }
        return n
    }

    /// Whether the word has at most `limit` characters (bytes, unless there are more bytes).
    private static func characterCount(_ word: UnsafeBufferPointer<UInt8>, isAtMost limit: Int) -> Bool {
        word.count <= limit || String(decoding: word, as: UTF8.self).count <= limit
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
