import Foundation
import Logging
import MoatConfig
import Synchronization
import Testing
@testable import MailD

/// Keeps what a logger was given, as structured values (no formatting of its own).
final class CapturingLogHandler: LogHandler, Sendable {
    let events = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
    func log(event: LogEvent) {
        events.withLock { $0.append(("\(event.message)", event.metadata ?? [:])) }
    }
}

/// The event log line and the console's ring carry what messages and peers say, escaped:
/// whichever log handler writes them, no field holds a line break or a terminal control.
@Suite struct EventLogEscapingTests {
    @Test func headerFieldsAndEnvelopeAreEscaped() async throws {
        let handler = CapturingLogHandler()
        let core = MailCore(scanner: SharedCore.scanner, spoolDirectory: FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-spool-\(UUID().uuidString)").path, logger: Logger(label: "MailD") { _ in handler })
        let profile = CheckProfile(name: "Milter", limits: SharedCore.limits, blockUnchecked: false,
                                   rules: [#"threat_category in (KnownVirus) : REJECT "The message contains a THREAT""#])
        let envelope = Envelope(source: .milter, sender: "<a@x>\r\nverdict pass", recipients: ["<b@y>\u{2028}x"],
                                clientAddress: "192.0.2.7\u{1B}[2J", queueId: "Q\u{0}1")
        var message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        message = Array("Message-ID: =?utf-8?q?a=0Averdict_pass=1B=5B2J?=\r\nSubject: =?utf-8?q?x=0D=0Ay=E2=80=AE?=\r\n".utf8) + message
        _ = await core.decide(envelope: envelope, message: .bytes(message), profile: profile)
        let logged = handler.events.withLock { $0 }
        let verdict = try #require(logged.first { $0.message == "verdict" })
        for (key, value) in verdict.metadata {
            let text = "\(value)"
            #expect(!text.unicodeScalars.contains { $0.properties.generalCategory == .control || [0x2028, 0x2029, 0x202E].contains($0.value) },
                    "\(key)=\(text.debugDescription)")
        }
        #expect("\(verdict.metadata["from"] ?? "")" == #"<a@x>\r\nverdict pass"#)
        #expect("\(verdict.metadata["client"] ?? "")" == #"192.0.2.7\e[2J"#)
        #expect("\(verdict.metadata["queue_id"] ?? "")" == #"Q\01"#)
        let event = try #require(core.recentThreats.latest().first)
        for field in [event.sender, event.subject, event.messageId, event.client, event.queueId] + event.recipients.map(Optional.some) {
            #expect(!(field ?? "").unicodeScalars.contains { $0.properties.generalCategory == .control || [0x2028, 0x202E].contains($0.value) },
                    "\((field ?? "").debugDescription)")
        }
    }
}
