import Testing
@testable import MoatConfig

/// Reading files as administrators write them, and the errors when they get it wrong.
struct LoaderTests {
    func load(_ text: String) throws -> ConfigValues {
        try ConfigLoader().load(text: text, file: "/etc/moat/moat.ini").values
    }

    func errors(_ text: String) -> [ConfigError] {
        do {
            _ = try ConfigLoader().load(text: text, file: "/etc/moat/moat.ini")
            return []
        } catch {
            return error.errors
        }
    }

    @Test func namesAndEnumerationsAreCaseInsensitive() throws {
        let values = try load("""
            [maild]
            milterscantimeout = 90s
            MILTERHEURISTICANALYSIS = off
            [ROOT]
            defaultloglevel = debug
            """)
        #expect(values.value("MailD", "MilterScanTimeout") == .duration(.seconds(90)))
        #expect(values.value("MailD", "MilterHeuristicAnalysis") == .bool(false))
        #expect(values.formatted(ParameterKey("Root", "DefaultLogLevel")) == "Debug")
    }

    @Test func trailingCommentsAreNotPartOfTheValue() throws {
        let values = try load("""
            [MailD]
            ReportLanguages = de   ; for the Berlin office
            RepackPassword = Plain(a;b#c)  # kept whole inside parentheses
            MilterRuleSet = subject match "#1 ;deal" : REJECT "SPAM" # and in quotes
            """)
        #expect(values.formatted(ParameterKey("MailD", "ReportLanguages")) == "de")
        #expect(values.value("MailD", "RepackPassword") == .repackPassword(.plain("a;b#c")))
        #expect(values.value("MailD", "MilterRuleSet").texts == [##"subject match "#1 ;deal" : REJECT "SPAM""##])
    }

    @Test func commentsWithHashAndSemicolon() throws {
        let values = try load("""
            # a comment
            ; another
            [MailD]
              # indented comment
            ReportLanguages = de
            """)
        #expect(values.formatted(ParameterKey("MailD", "ReportLanguages")) == "de")
    }

    @Test func listsFromQuotedCommaListsAndRepeatedLinesCombine() throws {
        let values = try load("""
            [MailD]
            ReportLanguages = "en", "ru"
            ReportLanguages = de
            """)
        #expect(values.value("MailD", "ReportLanguages") == .list([.text("en"), .text("ru"), .text("de")]))
        #expect(values.formatted(ParameterKey("MailD", "ReportLanguages")) == "en, ru, de")
    }

    @Test func numberedRuleLinesKeepTheirOrder() throws {
        let values = try load("""
            [MailD]
            SpamdRuleSet1 = body match (".*buy.*") : REJECT "This is a SPAM message"
            SpamdRuleSet0 = threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT "The message contains a THREAT"
            """)
        #expect(values.value("MailD", "SpamdRuleSet").texts == [
            #"threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT "The message contains a THREAT""#,
            #"body match (".*buy.*") : REJECT "This is a SPAM message""#,
        ])
    }

    @Test func repeatedRuleLinesRunInFileOrder() throws {
        let values = try load("""
            [MailD]
            MilterRuleSet = from in ("boss@example.com") : PASS
            MilterRuleSet = threat_category in (KnownVirus) : REJECT
            """)
        #expect(values.value("MailD", "MilterRuleSet").texts.count == 2)
        #expect(values.value("MailD", "MilterRuleSet").texts.first?.hasSuffix("PASS") == true)
    }

    @Test func socketsInEveryForm() throws {
        let values = try load("""
            [MailD]
            MilterSocket = inet:3001@127.0.0.1
            SpamdSocket = 127.0.0.1:783
            RspamdSocket = unix:/run/moat/rspamd.sock
            [LinuxFirewall]
            InputDivert = Auto(interface:eth0 protected:25,110,143)
            """)
        #expect(values.value("MailD", "MilterSocket") == .address(.tcp(host: "127.0.0.1", port: 3001)))
        #expect(values.value("MailD", "RspamdSocket") == .address(.unix(path: "/run/moat/rspamd.sock")))
        #expect(values.value("LinuxFirewall", "InputDivert") == .divert(.auto(interface: "eth0", protectedPorts: [25, 110, 143])))
    }

    @Test func badValueNamesFileLineParameterAndExpectedForm() throws {
        let found = errors("""
            [MailD]

            MilterScanTimeout = soon
            """)
        let error = try #require(found.first)
        #expect(found.count == 1)
        #expect(error.code == .badValue)
        #expect(error.file == "/etc/moat/moat.ini")
        #expect(error.line == 3)
        #expect(error.parameter == "MailD.MilterScanTimeout")
        #expect(error.expected?.contains("30s") == true)
        #expect(error.description.hasPrefix("/etc/moat/moat.ini:3: MailD.MilterScanTimeout: "))
        #expect(error.description.contains("expected"))
    }

    @Test func unknownParameterSuggestsTheClosestName() throws {
        let error = try #require(errors("[MailD]\nMilterScanTimout = 30s\n").first)
        #expect(error.code == .unknownParameter)
        #expect(error.line == 2)
        #expect(error.suggestion == "MilterScanTimeout")
        #expect(error.description.contains("did you mean MilterScanTimeout?"))
    }

    @Test func unknownSectionSuggestsTheClosestName() throws {
        let error = try #require(errors("[MailDD]\nReportLanguages = en\n").first)
        #expect(error.code == .unknownSection)
        #expect(error.description.contains("did you mean [MailD]?"))
    }

    @Test func everyProblemIsReportedAtOnce() {
        let found = errors("""
            [Root]
            DefaultLogLevel = Loud
            this is not a line
            [MailD]
            MilterPackerMaxLevel = -1
            """)
        #expect(found.map(\.line) == [2, 3, 5])
        #expect(found.map(\.code) == [.badValue, .syntax, .badValue])
    }

    @Test func repeatedScalarIsAnError() throws {
        let error = try #require(errors("[MailD]\nMilterScanTimeout = 30s\nMilterScanTimeout = 1m\n").first)
        #expect(error.code == .duplicate)
        #expect(error.line == 3)
    }

    @Test func parameterOutsideAnySectionIsAnError() throws {
        let error = try #require(errors("ReportLanguages = en\n").first)
        #expect(error.line == 1)
    }

    @Test func missingFileIsAClearError() throws {
        do {
            _ = try ConfigLoader().load(path: "/nonexistent/moat.ini")
            Issue.record("a missing file must not load")
        } catch {
            #expect(error.errors.first?.code == .unreadableFile)
            #expect(error.description.contains("/nonexistent/moat.ini"))
        }
    }
}
