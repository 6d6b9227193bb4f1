import Foundation
import MoatConfig
import Testing
@testable import Policy

/// The shipped default rule sets compile, and the validator plugs into the config loader.
struct ConfigIntegrationTests {
    static let ruleSetKeys: [ParameterKey] = Schema.moat.sections.flatMap { section in
        section.parameters.filter { if case .rules = $0.type { true } else { false } }
            .map { ParameterKey(section.name, $0.name) }
    }

    @Test func everyRuleSetParameterIsFound() {
        let names = Set(Self.ruleSetKeys.map(\.description))
        #expect(names.isSuperset(of: ["MailD.MilterRuleSet", "MailD.SpamdRuleSet", "MailD.RspamdRuleSet",
                                      "LinuxFirewall.RuleSet"]))
    }

    @Test(arguments: ruleSetKeys)
    func defaultRulesCompile(_ key: ParameterKey) throws {
        let rules = ConfigValues(schema: .moat).value(key).texts
        #expect(!rules.isEmpty)
        let compiled = try RuleSet.compile(rules, name: key.description, kind: RuleSetKind(for: key))
        #expect(compiled.count == rules.count)
        for rule in rules {
            #expect(ruleValidator(key, rule) == nil, "\(rule)")
        }
    }

    @Test func defaultMailRulesDecideAsDocumented() throws {
        let key = ParameterKey("MailD", "MilterRuleSet")
        let rules = try RuleSet.compile(ConfigValues(schema: .moat).value(key).texts, name: key.description)
        #expect(rules.evaluate(sample).action == .reject("The message contains a THREAT"))
        var spam = clean
        spam.spamScore = 0.95
        #expect(rules.evaluate(spam).action == .reject("This is a SPAM message"))
        #expect(rules.evaluate(clean).action == .pass)
        var joke = clean
        joke.parts[0].threats = [ThreatFact(name: "Joke.Fun", category: .joke)]
        #expect(rules.evaluate(joke).action == .pass)
    }

    @Test func defaultFirewallRulesScanMail() throws {
        let key = ParameterKey("LinuxFirewall", "RuleSet")
        let rules = try RuleSet.compile(ConfigValues(schema: .moat).value(key).texts, name: key.description,
                                        kind: .firewall)
        #expect(rules.evaluate(MessageFacts(protocolName: .imap)).action == .scanMail)
        #expect(rules.evaluate(MessageFacts(protocolName: .milter)).action == .pass)
    }

    @Test func validatorReportsColumnAndReason() throws {
        let problem = try #require(ruleValidator(ParameterKey("MailD", "MilterRuleSet"),
                                                 "threat_categry in (KnownVirus) : REJECT"))
        #expect(problem.reason.contains("column 1: unknown variable `threat_categry`; did you mean `threat_category`?"))
        #expect(problem.expected.contains("condition"))
        #expect(ruleValidator(ParameterKey("MailD", "MilterRuleSet"), "protocol Smtp : SCAN_MAIL") != nil)
        #expect(ruleValidator(ParameterKey("LinuxFirewall", "RuleSet"), "protocol Smtp : SCAN_MAIL") == nil)
    }

    @Test func loaderRefusesAFileWithABadRule() throws {
        let loader = ConfigLoader(ruleValidator: ruleValidator)
        let good = """
            [MailD]
            MilterRuleSet0 = threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT "The message contains a THREAT"
            MilterRuleSet1 = body match (".*buy.*") : REJECT "This is a SPAM message"
            """
        let loaded = try loader.load(text: good, file: "moat.ini")
        let texts = loaded.values.mailD.milter.ruleSet
        #expect(try RuleSet.compile(texts, name: "MailD.MilterRuleSet").count == 2)

        let bad = good + "\nMilterRuleSet2 = total_spam_score gt 0.8x : REJECT\n"
        do {
            _ = try loader.load(text: bad, file: "moat.ini")
            Issue.record("a bad rule loaded")
        } catch {
            let first = try #require(error.errors.first)
            #expect(first.line == 4)
            #expect(first.reason.contains("column 21: bad number `0.8x`"), "\(first.reason)")
        }
    }
}
