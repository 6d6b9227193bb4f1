import Foundation
import Testing
@testable import MoatConfig

/// Secret parameters: which they are, and what is left of their values when shown.
@Suite struct SecretTextTests {
    @Test func passwordsTokensAndArchiveSecretsAreDeclaredSecret() {
        let schema = Schema.moat
        for key in ["Root.Database", "HTTPD.MetricsToken", "MailD.RepackPassword"] {
            let parts = key.split(separator: ".").map(String.init)
            #expect(schema.spec(ParameterKey(parts[0], parts[1]))?.isSecret == true, "\(key)")
        }
        #expect(schema.spec(ParameterKey("MailD", "ReportLanguages"))?.isSecret == false)
    }

    @Test(arguments: [
        ("postgresql://moat:s3cr%40t@db.example.org:5432/moat", "postgresql://moat:****@db.example.org:5432/moat"),
        ("postgresql://moat@db.example.org:5432/moat", "postgresql://moat@db.example.org:5432/moat"),
        ("HMAC(a long secret)", "HMAC(****)"),
        ("Plain(pw)", "Plain(****)"),
        ("None", "None"),
        ("a-bearer-token-of-32-characters", "****"),
        ("", ""),
    ])
    func maskedKeepsWhatIsNotTheSecret(_ value: String, _ shown: String) {
        #expect(SecretText.masked(value) == shown)
    }

    @Test func shownLinesHidingSecretsMasksOnlySecretParameters() throws {
        let text = "[Root]\nDatabase = postgresql://moat:hunter2@db:5432/moat\n[MailD]\nReportLanguages = en\nRepackPassword = HMAC(xyzzy)\n"
        let values = try ConfigLoader().load(text: text).values
        #expect(values.shownLinesHidingSecrets(ParameterKey("Root", "Database")) == ["Root.Database = postgresql://moat:****@db:5432/moat"])
        #expect(values.shownLinesHidingSecrets(ParameterKey("MailD", "RepackPassword"), valueOnly: true) == ["HMAC(****)"])
        #expect(values.shownLinesHidingSecrets(ParameterKey("MailD", "ReportLanguages")) == ["MailD.ReportLanguages = en"])
        // cfshow, for root who may read the file anyway, still shows the value.
        #expect(values.shownLines(ParameterKey("Root", "Database")) == ["Root.Database = postgresql://moat:hunter2@db:5432/moat"])
    }
}
