import Testing
@testable import Policy

/// The sender-authentication variables and ADD_AUTH_RESULTS, as an administrator writes them.
struct SenderVariableTests {
    static let failingDmarc = MessageFacts(sender: SenderFacts(
        spf: .softfail, heloSpf: .none, dkim: [.fail, .pass], dkimPassDomains: ["lists.example.org"],
        dmarc: .fail, dmarcPolicy: .reject, arc: .pass,
        dnsbl: ["zen.example", "SBL"], uribl: []))

    @Test func dmarcRejectRuleDecidesOnlyWhenThePolicyIsReject() throws {
        let rules = try compile(["dmarc fail, dmarc_policy reject, not arc pass : REJECT \"DMARC\"",
                                 "dmarc fail, dmarc_policy reject : TEMPFAIL"])
        #expect(rules.evaluate(Self.failingDmarc).action == .tempfail(nil))
        var quarantinePolicy = Self.failingDmarc
        quarantinePolicy.sender?.dmarcPolicy = .quarantine
        #expect(rules.evaluate(quarantinePolicy).action == .pass)
        var noArc = Self.failingDmarc
        noArc.sender?.arc = ARCOutcome.none
        #expect(rules.evaluate(noArc).action == .reject("DMARC"))
    }

    @Test func resultWordsCompareWithoutCase() throws {
        let rules = try compile(["SPF SoftFail, DKIM PASS, dkim_domain LISTS.example.org : DISCARD"])
        #expect(rules.evaluate(Self.failingDmarc).action == .discard)
    }

    @Test func uncheckedMessagesHoldNoValueSoOnlyNegationsMatch() throws {
        let rules = try compile(["spf fail : REJECT", "dmarc pass : DISCARD", "not dkim pass : TEMPFAIL"])
        #expect(rules.evaluate(MessageFacts()).action == .tempfail(nil))
    }

    @Test func blocklistZonesAndMeaningsAreBothValues() throws {
        #expect(try compile(["dnsbl SBL : REJECT"]).evaluate(Self.failingDmarc).action == .reject(nil))
        #expect(try compile(["rbl zen.example : REJECT"]).evaluate(Self.failingDmarc).action == .reject(nil))
        #expect(try compile(["uribl : REJECT"]).evaluate(Self.failingDmarc).action == .pass)
    }

    @Test func unknownResultWordIsACompileErrorWithASuggestion() {
        let error = compileError(["spf softfial : REJECT"])
        #expect(error != nil)
        #expect("\(error!)".contains("softfail"))
    }

    @Test func addAuthResultsIsKeptWhateverTheFinalAction() throws {
        let rules = try compile(["ADD_AUTH_RESULTS", "dmarc fail : REJECT"])
        let verdict = rules.evaluate(Self.failingDmarc)
        #expect(verdict.addAuthenticationResults)
        #expect(verdict.action == .reject(nil))
        #expect(!(try compile(["spf pass : PASS"]).evaluate(Self.failingDmarc).addAuthenticationResults))
    }

    @Test func addAuthResultsBelongsToMailRuleSetsOnly() {
        #expect(compileError(["ADD_AUTH_RESULTS"], kind: .firewall) != nil)
    }
}
