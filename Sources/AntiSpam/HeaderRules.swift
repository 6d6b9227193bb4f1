import Foundation

/// Header anomalies: what well-behaved mail programs always write, and what forgers get wrong.
struct HeaderRules: SpamRule {
    func evaluate(_ m: AnalysedMessage, now: Date, into symbols: inout [SpamSymbol]) {
        if !m.hasDate {
            symbols.append(.init(name: "MISSING_DATE", score: 1.0, description: "no Date header"))
        }
        if !m.hasMessageID {
            symbols.append(.init(name: "MISSING_MID", score: 0.5, description: "no Message-ID header"))
        }
        if m.from.address.isEmpty || !m.from.address.containsASCII("@") || m.from.domain.isEmpty {
            symbols.append(.init(name: "FROM_NO_ADDRESS", score: 1.0, description: "From has no usable address"))
        }
        // Dates are judged against when the message was received (the newest Received line),
        // not against today, so that old mail read later is not "in the past".
        let received = m.received.first.flatMap(Self.receivedDate) ?? now
        if let date = m.date {
            if date.timeIntervalSince(received) > 24 * 3600 {
                symbols.append(.init(name: "DATE_IN_FUTURE", score: 1.5, description: "Date more than a day after it was received"))
            } else if received.timeIntervalSince(date) > 4 * 24 * 3600 {
                symbols.append(.init(name: "DATE_IN_PAST", score: 1.0, description: "Date more than four days before it was received"))
            }
        } else if m.hasDate {
            symbols.append(.init(name: "INVALID_DATE", score: 0.8, description: "Date header that is not a date"))
        }
        if let replyTo = m.replyTo, !replyTo.domain.isEmpty, !m.from.domain.isEmpty,
           baseDomain(replyTo.domain) != baseDomain(m.from.domain) {
            symbols.append(.init(name: "FROM_REPLYTO_DIFF", score: 0.5, description: "Reply-To domain differs from From"))
        }
        if let shown = Self.addressInName(m.from.displayName), !m.from.domain.isEmpty,
           baseDomain(shown) != baseDomain(m.from.domain) {
            symbols.append(.init(name: "FROM_NAME_ADDRESS_MISMATCH", score: 1.5,
                                 description: "From display name shows another domain than the address"))
        }
        if Self.timeGoesBackwards(m.received) {
            symbols.append(.init(name: "RCVD_TIME_REVERSED", score: 0.8, description: "Received chain goes back in time (forged hops)"))
        }
    }

    /// The date after the last `;` of a Received value.
    static func receivedDate(_ value: String) -> Date? {
        // On the UTF-8 view: a Character-wise search from the end cost more than the parse.
        guard let semicolon = value.utf8.lastIndex(of: UInt8(ascii: ";")) else { return nil }
        return MailDate.parse(value[value.utf8.index(after: semicolon)...])
    }

    /// Received lines are newest first: an older hop stamped more than a day after a newer
    /// one was not written by the servers it names.
    static func timeGoesBackwards(_ received: [String]) -> Bool {
        let dates = received.prefix(10).compactMap(receivedDate)
        guard dates.count >= 2 else { return false }
        for i in 1..<dates.count where dates[i].timeIntervalSince(dates[i - 1]) > 24 * 3600 { return true }
        return false
    }

    /// The domain of an address written in a display name (`"service@bank.example" <x@y>`).
    static func addressInName(_ name: String) -> String? {
        guard let at = name.lastIndex(of: "@") else { return nil }
        let domain = name[name.index(after: at)...].prefix { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
        return domain.containsASCII(".") ? domain.lowercased() : nil
    }
}
