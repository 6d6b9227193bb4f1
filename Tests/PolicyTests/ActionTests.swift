import Testing
@testable import Policy

/// Every action, and how a rule set runs them.
struct ActionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let rule: String
        let verdict: Verdict
        var kind: RuleSetKind = .mail
        var testDescription: String { rule }
    }

    static func decided(_ action: FinalAction, headers: [HeaderField] = [], tags: [String] = [],
                        unwrapSsl: Bool? = nil, rule: String) -> Verdict {
        Verdict(action: action, headersToAdd: headers, tags: tags, unwrapSsl: unwrapSsl,
                decidingRule: DecidingRule(ruleSetName: "Test", index: 0, text: rule))
    }

    static let cases: [Case] = [
        "PASS", ": PASS", "pass",
    ].map { Case(rule: $0, verdict: decided(.pass, rule: $0)) } + [
        Case(rule: "REJECT", verdict: decided(.reject(nil), rule: "REJECT")),
        Case(rule: "REJECT \"Go away\"", verdict: decided(.reject("Go away"), rule: "REJECT \"Go away\"")),
        Case(rule: "REJECT(\"Go away\")", verdict: decided(.reject("Go away"), rule: "REJECT(\"Go away\")")),
        Case(rule: "BLOCK", verdict: decided(.reject(nil), rule: "BLOCK")),
        Case(rule: "block \"no\"", verdict: decided(.reject("no"), rule: "block \"no\"")),
        Case(rule: "BLOCK as BlackList", verdict: decided(.reject("BlackList"), rule: "BLOCK as BlackList")),
        Case(rule: "TEMPFAIL", verdict: decided(.tempfail(nil), rule: "TEMPFAIL")),
        Case(rule: "TEMPFAIL \"later\"", verdict: decided(.tempfail("later"), rule: "TEMPFAIL \"later\"")),
        Case(rule: "DISCARD", verdict: decided(.discard, rule: "DISCARD")),
        Case(rule: "REPACK", verdict: decided(.repack(nil), rule: "REPACK")),
        Case(rule: "REPACK(\"executable attachment\")",
             verdict: decided(.repack("executable attachment"), rule: "REPACK(\"executable attachment\")")),
        Case(rule: "REPACK \"virus\"", verdict: decided(.repack("virus"), rule: "REPACK \"virus\"")),
        Case(rule: "SCAN_MAIL", verdict: decided(.scanMail, rule: "SCAN_MAIL"), kind: .firewall),
        Case(rule: "ADD_HEADER(\"X-Moat\", \"checked\")",
             verdict: Verdict(headersToAdd: [HeaderField("X-Moat", "checked")])),
        Case(rule: "ADD_HEADER(\"X-Moat\", \"checked\"), PASS",
             verdict: decided(.pass, headers: [HeaderField("X-Moat", "checked")],
                              rule: "ADD_HEADER(\"X-Moat\", \"checked\"), PASS")),
        Case(rule: "add_header(X-Spam, yes), add_header(\"X-Spam-Score\", \"0.9\"), DISCARD",
             verdict: decided(.discard, headers: [HeaderField("X-Spam", "yes"), HeaderField("X-Spam-Score", "0.9")],
                              rule: "add_header(X-Spam, yes), add_header(\"X-Spam-Score\", \"0.9\"), DISCARD")),
        Case(rule: "SET unwrap_ssl = no", verdict: Verdict(unwrapSsl: false)),
        Case(rule: "QUARANTINE", verdict: quarantined(Verdict())),
        Case(rule: "quarantine, REJECT \"held\"", verdict: quarantined(decided(.reject("held"), rule: "quarantine, REJECT \"held\""))),
        Case(rule: "QUARANTINE, DISCARD", verdict: quarantined(decided(.discard, rule: "QUARANTINE, DISCARD"))),
        Case(rule: "QUARANTINE, REPACK", verdict: quarantined(decided(.repack(nil), rule: "QUARANTINE, REPACK"))),
        Case(rule: "QUARANTINE, PASS", verdict: quarantined(decided(.pass, rule: "QUARANTINE, PASS"))),
        Case(rule: "SET tag = trusted, SET tag = \"from partner\"", verdict: Verdict(tags: ["trusted", "from partner"])),
    ]

    static func quarantined(_ verdict: Verdict) -> Verdict {
        var verdict = verdict
        verdict.quarantine = true
        return verdict
    }

    @Test func quarantineIsNotFinalAndStaysWhateverFollows() throws {
        let rules = try compile(["threat_category KnownVirus : QUARANTINE", "threat_category : REPACK", "PASS"])
        let verdict = rules.evaluate(sample)
        #expect(verdict.quarantine)
        #expect(verdict.action == .repack(nil))
        #expect(verdict.description.contains("QUARANTINE"))
        #expect(!rules.evaluate(clean).quarantine)
        #expect(compileError(["REJECT, QUARANTINE"])?.description.contains("can never run") == true)
    }

    @Test(arguments: cases)
    func action(_ c: Case) throws {
        let rules = try compile([c.rule], kind: c.kind)
        #expect(rules.evaluate(sample) == c.verdict)
    }

    @Test func seedRulesBehaveAsWritten() throws {
        let rules = try compile([
            "threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT \"The message contains a THREAT\"",
            "body match (\".*buy.*\") : REJECT \"This is a SPAM message\"",
        ])
        let threat = rules.evaluate(sample)
        #expect(threat.action == .reject("The message contains a THREAT"))
        #expect(threat.decidingRule?.index == 0)
        #expect(threat.action.text == "The message contains a THREAT")

        var spam = clean
        spam.bodyText = "Why not BUY a watch?"
        let spamVerdict = rules.evaluate(spam)
        #expect(spamVerdict.action == .reject("This is a SPAM message"))
        #expect(spamVerdict.decidingRule == DecidingRule(ruleSetName: "Test", index: 1,
                                                         text: "body match (\".*buy.*\") : REJECT \"This is a SPAM message\""))

        let cleanVerdict = rules.evaluate(clean)
        #expect(cleanVerdict == Verdict(action: .pass))
        #expect(cleanVerdict.decidingRule == nil)
    }

    @Test func rulesRunTopToBottomAndStopAtTheFirstFinalAction() throws {
        let rules = try compile([
            "spam_score gt 0.5 : ADD_HEADER(\"X-Spam\", \"yes\")",
            "tls : ADD_HEADER(\"X-TLS\", \"yes\")",
            "threat_category KnownVirus : REPACK(\"virus\")",
            "REJECT \"never reached for a virus\"",
        ])
        let verdict = rules.evaluate(sample)
        #expect(verdict.action == .repack("virus"))
        #expect(verdict.headersToAdd == [HeaderField("X-Spam", "yes"), HeaderField("X-TLS", "yes")])
        #expect(verdict.decidingRule?.index == 2)
        // The clean message falls through to the last rule.
        #expect(rules.evaluate(clean).action == .reject("never reached for a virus"))
        #expect(rules.evaluate(clean).decidingRule?.index == 3)
    }

    @Test func actionsRunLeftToRightUntilTheFinalOne() throws {
        let rules = try compile(["ADD_HEADER(\"A\", \"1\"), SET tag = t, ADD_HEADER(\"B\", \"2\"), TEMPFAIL", "PASS"])
        let verdict = rules.evaluate(clean)
        #expect(verdict.action == .tempfail(nil))
        #expect(verdict.headersToAdd.map(\.name) == ["A", "B"])
        #expect(verdict.tags == ["t"])
    }

    @Test func noFinalActionMeansPass() throws {
        let rules = try compile(["ADD_HEADER(\"X-Checked\", \"yes\")", "threat_category : REJECT"])
        #expect(rules.evaluate(clean) == Verdict(action: .pass, headersToAdd: [HeaderField("X-Checked", "yes")]))
        #expect(try compile([]).evaluate(sample) == Verdict())
    }

    @Test func setChangesWhatLaterRulesSee() throws {
        let rules = try compile([
            "sni_host match \"\\\\.bank\\\\.\" : SET unwrap_ssl = no",
            "SET unwrap_ssl = yes, SET tag = scanned",
            "unwrap_ssl, tag scanned : DISCARD",
        ])
        #expect(rules.evaluate(clean).action == .discard)
        #expect(rules.evaluate(clean).unwrapSsl == true)
        var bank = clean
        bank.sniHost = "www.bank.example"
        bank.unwrapSsl = true
        let first = try compile(["sni_host match \"\\\\.bank\\\\.\" : SET unwrap_ssl = no", "unwrap_ssl : DISCARD"])
        #expect(first.evaluate(bank) == Verdict(unwrapSsl: false))
    }

    @Test func descriptionsForTheEventLog() throws {
        let rules = try RuleSet.compile(["spam_score gt 0.5 : ADD_HEADER(\"X-Spam\", \"yes\"), SET tag = spam",
                                         "threat_category : REJECT \"virus\""], name: "MailD.MilterRuleSet")
        let verdict = rules.evaluate(sample)
        #expect(verdict.decidingRule?.description == "MailD.MilterRuleSet rule 2: threat_category : REJECT \"virus\"")
        #expect(verdict.description
            == "REJECT \"virus\", ADD_HEADER(X-Spam: yes), tag spam by MailD.MilterRuleSet rule 2: threat_category : REJECT \"virus\"")
        #expect(rules.evaluate(clean).description == "PASS (no rule decided)")
    }

    @Test func defaultTexts() {
        #expect(FinalAction.reject(nil).text == FinalAction.defaultRejectText)
        #expect(FinalAction.tempfail(nil).text == FinalAction.defaultTempfailText)
        #expect(FinalAction.repack(nil).text == FinalAction.defaultRepackReason)
        #expect(FinalAction.reject("x").text == "x")
        #expect(FinalAction.pass.text == nil)
        #expect(FinalAction.reject("x").description == "REJECT \"x\"")
        #expect(FinalAction.discard.description == "DISCARD")
    }

    @Test func compiledRuleSetKeepsItsRules() throws {
        let rules = try compile(["PASS", "REJECT"])
        #expect(rules.count == 2)
        #expect(rules.ruleTexts == ["PASS", "REJECT"])
        #expect(rules.name == "Test")
    }
}
