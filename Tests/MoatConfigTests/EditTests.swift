import Testing
@testable import MoatConfig

/// `cfset` on real files: only the parameter's own lines change, everything else stays byte
/// for byte, and a bad value changes nothing.
struct EditTests {
    static let adminFile = """
        # Moat on mx1.example.com -- managed by hand, ask Olga before changing
        [Root]
        DefaultLogLevel = Info   ; louder while we migrate

        [MailD]
        ; reports in English for now
        ReportLanguages = en
        MilterSocket = inet:7357@127.0.0.1
        # The rules from the old Dr.Web box
        MilterRuleSet0 = threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT "The message contains a THREAT"
        MilterRuleSet1 = body match (".*buy.*") : REJECT "This is a SPAM message"

        # firewall comes later
        [LinuxFirewall]
        InputDivert = Off

        """

    func loaded(_ text: String = adminFile) throws -> LoadedConfig {
        try ConfigLoader().load(text: text, file: "moat.ini")
    }

    func edit(_ config: LoadedConfig, _ edit: ConfigEdit, _ key: String) throws -> EditResult {
        try config.applying(edit, to: key, loader: ConfigLoader())
    }

    /// Lines that differ, as (old, new) pairs of line sets.
    func changedLines(_ old: String, _ new: String) -> (removed: [String], added: [String]) {
        let a = old.components(separatedBy: "\n"), b = new.components(separatedBy: "\n")
        return (a.filter { !b.contains($0) }, b.filter { !a.contains($0) })
    }

    @Test func unchangedFileRoundTripsByteForByte() throws {
        let config = try loaded()
        #expect(config.document.text == Self.adminFile)
    }

    @Test func addingALanguageTouchesOnlyItsLine() throws {
        let result = try edit(try loaded(), .add("ru"), "MailD.ReportLanguages")
        #expect(result.changed)
        #expect(result.config.values.formatted(ParameterKey("MailD", "ReportLanguages")) == "en, ru")
        let diff = changedLines(Self.adminFile, result.text)
        #expect(diff.removed == ["ReportLanguages = en"])
        #expect(diff.added == ["ReportLanguages = en, ru"])
    }

    @Test func resetRemovesTheLineSoTheDefaultApplies() throws {
        let withRu = try edit(try loaded(), .add("ru"), "maild.reportlanguages")
        let reset = try edit(withRu.config, .reset, "MailD.ReportLanguages")
        #expect(reset.config.values.formatted(ParameterKey("MailD", "ReportLanguages")) == "en")
        #expect(!reset.config.values.isChanged(ParameterKey("MailD", "ReportLanguages")))
        #expect(!reset.text.contains("ReportLanguages ="))
        #expect(reset.text.contains("; reports in English for now"))
    }

    @Test func eraseRemovesOneValue() throws {
        let withRu = try edit(try loaded(), .add("ru"), "MailD.ReportLanguages")
        let erased = try edit(withRu.config, .erase("en"), "MailD.ReportLanguages")
        #expect(erased.config.values.formatted(ParameterKey("MailD", "ReportLanguages")) == "ru")
        #expect(throws: ConfigErrors.self) { try edit(erased.config, .erase("de"), "MailD.ReportLanguages") }
    }

    @Test func addingWhatIsThereChangesNothing() throws {
        let result = try edit(try loaded(), .add("en"), "MailD.ReportLanguages")
        #expect(!result.changed)
        #expect(result.text == Self.adminFile)
    }

    @Test func badValueIsRefusedWithTheExpectedForm() throws {
        do {
            _ = try edit(try loaded(), .set("soon"), "MailD.MilterScanTimeout")
            Issue.record("a bad value must be refused")
        } catch let error as ConfigErrors {
            let first = try #require(error.errors.first)
            #expect(first.code == .badValue)
            #expect(first.parameter == "MailD.MilterScanTimeout")
            #expect(first.expected != nil)
        }
    }

    @Test func unknownParameterIsRefusedWithASuggestion() throws {
        do {
            _ = try edit(try loaded(), .set("en"), "MailD.ReportLanguage")
            Issue.record("an unknown parameter must be refused")
        } catch let error as ConfigErrors {
            #expect(error.errors.first?.suggestion == "MailD.ReportLanguages")
        }
    }

    @Test func addOnAScalarIsRefused() throws {
        #expect(throws: ConfigErrors.self) { try edit(try loaded(), .add("1m"), "MailD.MilterScanTimeout") }
    }

    @Test func numberedRulesStayNumbered() throws {
        let result = try edit(try loaded(), .add(#"subject match "lottery" : REJECT"#), "MailD.MilterRuleSet")
        #expect(result.text.contains(#"MilterRuleSet2 = subject match "lottery" : REJECT"#))
        #expect(result.config.values.value("MailD", "MilterRuleSet").texts.count == 3)
        let diff = changedLines(Self.adminFile, result.text)
        #expect(diff.removed.isEmpty)
        #expect(diff.added.count == 1)
    }

    @Test func setInASectionThatIsNotThereAppendsIt() throws {
        let result = try edit(try loaded(), .set("127.0.0.1:8443"), "HTTPD.AdminListen")
        #expect(result.text.hasPrefix(Self.adminFile.dropLast()))
        #expect(result.text.hasSuffix("[HTTPD]\nAdminListen = 127.0.0.1:8443\n"))
    }

    @Test func setGoesUnderTheCommentedExample() throws {
        let shipped = SchemaDocument.defaultFile(.moat)
        let result = try edit(try loaded(shipped), .set("Debug"), "MailD.LogLevel")
        #expect(result.text.contains("# LogLevel = Default\nLogLevel = Debug\n"))
    }

    @Test func crlfFilesStayCRLF() throws {
        let crlf = Self.adminFile.replacingOccurrences(of: "\n", with: "\r\n")
        let config = try loaded(crlf)
        #expect(config.document.text == crlf)
        let result = try edit(config, .add("ru"), "MailD.ReportLanguages")
        #expect(result.text == crlf.replacingOccurrences(of: "ReportLanguages = en\r\n", with: "ReportLanguages = en, ru\r\n"))
    }

    @Test func editOfAFileWithAnErrorElsewhereIsRefused() throws {
        // The loader refuses the file as a whole, so there is nothing to edit.
        #expect(throws: ConfigErrors.self) { try loaded(Self.adminFile + "[MailD]\nMilterScanTimeout = never\n") }
    }
}
