import Foundation
import MIME

/// Small messages for the anti-spam tests, written out so each test shows what it feeds.
enum TestMessages {
    /// A Date header value of an hour ago: mail as it arrives (the header rules compare the
    /// Date with the time it was received, which is now when there is no Received line).
    static var recentDate: String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 0)
        f.dateFormat = "EEE, d MMM yyyy HH:mm:ss Z"
        return f.string(from: Date().addingTimeInterval(-3600))
    }

    static func parse(_ text: String) -> MIMEMessage {
        MessageParser.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
    }

    /// A well-formed plain-text message with the headers every mail program writes.
    static func plain(subject: String = "Meeting notes", body: String, messageID: String = "<1@example.org>",
                      from: String = "Alice <alice@example.org>", extraHeaders: String = "") -> MIMEMessage {
        parse("""
            From: \(from)
            To: bob@example.net
            Subject: \(subject)
            Date: \(recentDate)
            Message-ID: \(messageID)
            \(extraHeaders)MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8

            \(body)

            """)
    }

    static func html(_ html: String, subject: String = "News", messageID: String = "<h@example.org>") -> MIMEMessage {
        parse("""
            From: News <news@example.org>
            To: bob@example.net
            Subject: \(subject)
            Date: \(recentDate)
            Message-ID: \(messageID)
            MIME-Version: 1.0
            Content-Type: text/html; charset=utf-8

            \(html)

            """)
    }
}
