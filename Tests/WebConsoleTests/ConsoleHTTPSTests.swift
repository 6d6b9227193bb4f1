import CertificateStore
import Foundation
import MailD
import MoatConfig
import Policy
import Testing
@testable import WebConsole

/// The console over real HTTPS (curl, verifying the certificate with Moat's CA): login,
/// sessions, CSRF, the pages and what they change.
@Suite(.serialized) struct ConsoleHTTPSTests {
    @Test func everythingButTheLoginPageRedirectsToLogin() async throws {
        try await ConsoleFixture.with { console in
            for path in ["/", "/configuration", "/threats", "/archive-password", "/ca.pem", "/no-such-page"] {
                let answer = try await console.request(path)
                #expect(answer.status == 303, "\(path)")
                #expect(answer.header("location") == "/login", "\(path)")
                #expect(answer.header("content-security-policy")?.hasPrefix("default-src 'self'") == true)
                #expect(answer.header("x-frame-options") == "DENY")
                #expect(answer.header("cache-control") == "no-store")
            }
            for path in ["/reload", "/configuration", "/logout", "/archive-password"] {
                let answer = try await console.request(path, method: "POST")
                #expect(answer.status == 303, "POST \(path)")
                #expect(answer.header("location") == "/login")
            }
            let login = try await console.request("/login")
            #expect(login.status == 200)
            #expect(login.body.contains("<form method=\"post\" action=\"/login\""))
            #expect(login.header("content-security-policy")?.hasPrefix("default-src 'self'") == true)
            #expect(login.header("x-frame-options") == "DENY")
            #expect(login.header("cache-control") == "no-store")
            #expect(!login.body.contains("<script"), "no JavaScript anywhere")
            #expect(try await console.request("/console.css").header("content-type") == "text/css; charset=utf-8")
        }
    }

    @Test func wrongPasswordIsRefusedAndTheAddressLockedOut() async throws {
        try await ConsoleFixture.with { console in
            for attempt in 1...5 {
                let answer = try await console.request("/login", form: [("user", "admin"), ("password", "wrong \(attempt)")])
                #expect(answer.status == 401)
                #expect(answer.header("set-cookie") == nil)
                #expect(answer.body.contains("Wrong user name or password."))
            }
            // Locked now: even the right password is refused until the lockout ends.
            let locked = try await console.request("/login", form: [("user", "admin"), ("password", console.initialPassword)])
            #expect(locked.status == 429)
            #expect(locked.header("set-cookie") == nil)
            #expect(Int(locked.header("retry-after") ?? "") ?? 0 > 50)
            #expect(locked.body.contains("Too many failed logins from 127.0.0.1"))
            // A wrong user name with the right password is a failure too.
            try await ConsoleFixture.with { other in
                let wrongUser = try await other.request("/login", form: [("user", "root"), ("password", other.initialPassword)])
                #expect(wrongUser.status == 401)
            }
        }
    }

    @Test func rightPasswordGivesAStrictSessionCookieAndLogoutEndsIt() async throws {
        try await ConsoleFixture.with { console in
            let answer = try await console.request("/login", form: [("user", "admin"), ("password", console.initialPassword)])
            #expect(answer.status == 303)
            #expect(answer.header("location") == "/")
            let cookie = try #require(answer.header("set-cookie"))
            let attributes = Set(cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(attributes == ["Path=/", "HttpOnly", "Secure", "SameSite=Strict"])
            let token = String(cookie.split(separator: ";")[0].dropFirst("moat_session=".count))
            #expect(token.count == 43, "256 random bits, base64url")
            #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })

            #expect(try await console.request("/", token: token).status == 200)
            #expect(try await console.request("/", token: "forged").status == 303)
            let csrf = try await console.csrf(token)
            let logout = try await console.request("/logout", form: [("csrf", csrf)], token: token)
            #expect(logout.status == 303)
            #expect(logout.header("location") == "/login")
            #expect(logout.header("set-cookie")?.contains("Max-Age=0") == true)
            #expect(try await console.request("/", token: token).status == 303, "the session is gone server-side")
        }
    }

    @Test func statusPageShowsTheFactsOfAppinfo() async throws {
        try await ConsoleFixture.with { console in
            let token = try await console.login()
            let page = try await console.request("/", token: token)
            #expect(page.status == 200)
            #expect(page.body.contains("moatd 0.1.0"))
            #expect(page.body.contains("pid \(getpid())"))
            #expect(page.body.contains(console.config))
            #expect(page.body.contains("<td id=\"generation\">0</td>"))
            #expect(page.body.contains("<tr><td>Control</td><td class=\"state-running\">running</td><td>/run/test.sock</td>"))
            #expect(page.body.contains("<tr><td>MailD.Milter</td><td class=\"state-off\">off</td><td></td><td>socket not set</td></tr>"))
            #expect(page.body.contains("<td>HTTPD</td><td class=\"state-running\">running</td><td>127.0.0.1:\(console.port)</td>"))
        }
    }

    /// Secrets in the file (the archive's HMAC secret, the metrics token) are masked on the
    /// configuration page and never put in the edit form: a console session, or a page left
    /// open, does not hand them out.
    @Test func theConfigurationPageNeverShowsASecret() async throws {
        let token32 = "metrics-token-0123456789abcdefghij"
        try await ConsoleFixture.with(httpd: "MetricsToken = \(token32)") { console in
            let session = try await console.login()
            let page = try await console.request("/configuration", token: session)
            #expect(page.status == 200)
            #expect(!page.body.contains(ConsoleFixture.secret) && !page.body.contains(token32))
            #expect(page.body.contains("<td class=\"value\">HMAC(****)</td>"))
            #expect(page.body.contains("<td class=\"value\">****</td>"))
            for parameter in ["MailD.RepackPassword", "HTTPD.MetricsToken"] {
                let edit = try await console.request("/configuration?parameter=\(parameter)", token: session)
                #expect(edit.body.contains("<label>Value <input name=\"value\" value=\"\"></label>"), "\(parameter)")
                #expect(!edit.body.contains(ConsoleFixture.secret) && !edit.body.contains(token32))
            }
            // Other parameters are offered as they are, for editing.
            let languages = try await console.request("/configuration?parameter=MailD.ReportLanguages", token: session)
            #expect(languages.body.contains("<label>Value <input name=\"value\" value=\"en\"></label>"))
        }
    }

    @Test func settingAParameterThroughTheFormWritesWhatCfsetWritesAndReloads() async throws {
        try await ConsoleFixture.with { console in
            let token = try await console.login()
            let csrf = try await console.csrf(token)
            // What `moat-ctl cfset MailD.ReportLanguages "en, ru"` would write.
            let loader = ConfigLoader(ruleValidator: Policy.ruleValidator)
            let expected = try loader.load(path: console.config).applying(.set("en, ru"), to: "MailD.ReportLanguages", loader: loader).text
            #expect(expected.contains("# languages of reports\nReportLanguages = en, ru\n"))

            let answer = try await console.request("/configuration", form: [
                ("csrf", csrf), ("parameter", "MailD.ReportLanguages"), ("action", "set"), ("value", "en, ru"),
            ], token: token)
            #expect(answer.status == 200)
            #expect(answer.body.contains("MailD.ReportLanguages changed; moatd reloaded the file: settings generation 1."))
            #expect(try console.fileText() == expected)
            #expect(console.service.reloadCount == 1)
            #expect(console.service.settings.current.values.formatted(ParameterKey("MailD", "ReportLanguages")) == "en, ru")
            // The page shows the new value, marked as changed.
            #expect(answer.body.contains("<tr class=\"changed\"><td><a href=\"/configuration?parameter=MailD.ReportLanguages#change\">MailD.ReportLanguages</a></td><td class=\"value\">en, ru</td>"))
            #expect(try await console.request("/", token: token).body.contains("<td id=\"generation\">1</td>"))

            // -a of a value already there: nothing written, no reload (cfset says nothing either).
            let again = try await console.request("/configuration", form: [
                ("csrf", csrf), ("parameter", "MailD.ReportLanguages"), ("action", "add"), ("value", "ru"),
            ], token: token)
            #expect(again.body.contains("already has that value"))
            #expect(console.service.reloadCount == 1)

            // Reset: the parameter's line goes, as `cfset -r` removes it.
            let reset = try await console.request("/configuration", form: [
                ("csrf", csrf), ("parameter", "MailD.ReportLanguages"), ("action", "reset"), ("value", ""),
            ], token: token)
            #expect(reset.status == 200)
            let expectedReset = try loader.load(text: expected, file: console.config).applying(.reset, to: "MailD.ReportLanguages", loader: loader).text
            #expect(try console.fileText() == expectedReset)
            #expect(console.service.reloadCount == 2)
        }
    }

    @Test func invalidValueShowsCfsetsErrorAndLeavesTheFileByteIdentical() async throws {
        try await ConsoleFixture.with { console in
            let token = try await console.login()
            let csrf = try await console.csrf(token)
            let before = try Data(contentsOf: URL(fileURLWithPath: console.config))
            let loader = ConfigLoader(ruleValidator: Policy.ruleValidator)
            var cfsetText = ""
            do throws(ConfigErrors) {
                _ = try loader.load(path: console.config).applying(.set("soon"), to: "MailD.MilterScanTimeout", loader: loader)
            } catch {
                cfsetText = error.description
            }
            #expect(cfsetText.contains("MailD.MilterScanTimeout"))

            let answer = try await console.request("/configuration", form: [
                ("csrf", csrf), ("parameter", "MailD.MilterScanTimeout"), ("action", "set"), ("value", "soon"),
            ], token: token)
            #expect(answer.status == 400)
            #expect(answer.body.contains("<pre class=\"error\" role=\"alert\">\(HTML.escape(cfsetText))</pre>"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: console.config)) == before)
            #expect(console.service.reloadCount == 0)
            // The form keeps what was typed.
            #expect(answer.body.contains("value=\"MailD.MilterScanTimeout\""))

            // A rule that does not compile: the rule language's own error, as cfset prints it.
            let rule = try await console.request("/configuration", form: [
                ("csrf", csrf), ("parameter", "MailD.MilterRuleSet"), ("action", "add"), ("value", "threat_categry in (KnownVirus) : REJECT"),
            ], token: token)
            #expect(rule.status == 400)
            #expect(rule.body.contains("did you mean `threat_category`?"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: console.config)) == before)
        }
    }

    @Test func postsWithoutTheSessionsCSRFTokenOrFromAnotherOriginAreRefused() async throws {
        try await ConsoleFixture.with { console in
            let token = try await console.login()
            let csrf = try await console.csrf(token)
            let before = try console.fileText()
            let change = [("parameter", "MailD.ReportLanguages"), ("action", "set"), ("value", "en, de")]

            #expect(try await console.request("/configuration", form: change, token: token).status == 403)
            #expect(try await console.request("/configuration", form: [("csrf", "x" + csrf)] + change, token: token).status == 403)
            #expect(try await console.request("/reload", method: "POST", token: token).status == 403)
            // Another session's token does not do either.
            let other = try await console.login()
            #expect(try await console.request("/configuration", form: [("csrf", csrf)] + change, token: other).status == 403)
            // The right token from another site's page.
            let foreign = try await console.request("/configuration", form: [("csrf", csrf)] + change, token: token,
                                                    headers: ["Origin: https://evil.example"])
            #expect(foreign.status == 403)
            let referred = try await console.request("/configuration", form: [("csrf", csrf)] + change, token: token,
                                                     headers: ["Referer: https://evil.example/form"])
            #expect(referred.status == 403)
            #expect(try console.fileText() == before)
            #expect(console.service.reloadCount == 0)

            // The same request from the console's own page goes through.
            let own = try await console.request("/configuration", form: [("csrf", csrf)] + change, token: token,
                                                headers: ["Origin: https://127.0.0.1:\(console.port)"])
            #expect(own.status == 200)
            #expect(try console.fileText() != before)
            // A login form posted from another site is refused too.
            let login = try await console.request("/login", form: [("user", "admin"), ("password", console.initialPassword)],
                                                  headers: ["Origin: https://evil.example"])
            #expect(login.status == 403)
        }
    }

    @Test func reloadButtonReloads() async throws {
        try await ConsoleFixture.with { console in
            let token = try await console.login()
            let csrf = try await console.csrf(token)
            let answer = try await console.request("/reload", form: [("csrf", csrf)], token: token)
            #expect(answer.status == 200)
            #expect(answer.body.contains("Reloaded: settings generation 1; no setting changed."))
            #expect(console.service.reloadCount == 1)
            try (try console.fileText() + "\n[MailD]\nMilterScanTimeout = whenever\n").write(toFile: console.config, atomically: true, encoding: .utf8)
            let refused = try await console.request("/reload", form: [("csrf", csrf)], token: token)
            #expect(refused.status == 400)
            #expect(refused.body.contains("Reload refused, the previous settings stay in force"))
            #expect(refused.body.contains("MailD.MilterScanTimeout"))
        }
    }

    @Test func archivePasswordIsTheOneArchivePasswordDerives() async throws {
        try await ConsoleFixture.with { console in
            let token = try await console.login()
            let csrf = try await console.csrf(token)
            let id = "moat-1700000000-0011223344556677"
            let answer = try await console.request("/archive-password", form: [("csrf", csrf), ("archive_id", id)], token: token)
            #expect(answer.status == 200)
            let expected = ArchivePassword.derive(secret: ConsoleFixture.secret, archiveId: id)
            #expect(answer.body.contains("<code class=\"password\" id=\"password\">\(expected)</code>"))
            let empty = try await console.request("/archive-password", form: [("csrf", csrf), ("archive_id", " ")], token: token)
            #expect(empty.status == 400)
            #expect(empty.body.contains("no archive identifier given"))
        }
    }

    @Test func caDownloadIsTheCAPEM() async throws {
        try await ConsoleFixture.with { console in
            let token = try await console.login()
            let answer = try await console.request("/ca.pem", token: token)
            #expect(answer.status == 200)
            #expect(answer.header("content-type") == "application/x-pem-file")
            #expect(answer.header("content-disposition") == "attachment; filename=\"moat-ca.pem\"")
            #expect(answer.body == (try String(contentsOfFile: console.caPath, encoding: .utf8)))
            #expect(answer.body.hasPrefix("-----BEGIN CERTIFICATE-----"))
        }
    }

    @Test func threatsPageEscapesWhatMessagesSay() async throws {
        let event = ThreatEvent(time: Date(timeIntervalSince1970: 1_700_000_000), interface: "Milter", action: "reject",
                                threats: ["Moat.Test.EICAR (KnownVirus) in 2 \"<b>invoice</b>.com\""],
                                sender: "<script>alert(1)</script>@example.com", recipients: ["bob@example.org"],
                                subject: "Invoice & <img src=x onerror=alert(2)>", messageId: "<id@example.com>",
                                queueId: "4AbC", client: "192.0.2.7", reason: "MailD.MilterRuleSet rule 1")
        try await ConsoleFixture.with(threats: [event]) { console in
            let token = try await console.login()
            let page = try await console.request("/threats", token: token)
            #expect(page.status == 200)
            #expect(page.body.contains("Moat.Test.EICAR (KnownVirus) in 2 &quot;&lt;b&gt;invoice&lt;/b&gt;.com&quot;"))
            #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;@example.com"))
            #expect(page.body.contains("Invoice &amp; &lt;img src=x onerror=alert(2)&gt;"))
            #expect(page.body.contains("&lt;id@example.com&gt; (queue 4AbC)"))
            #expect(!page.body.contains("<script"))
            #expect(!page.body.contains("<img"))
        }
    }

    /// Control characters, line separators and bidi overrides a message carries are shown
    /// escaped (and still HTML-escaped), never passed to the browser or a copy-paste.
    @Test func threatsPageEscapesControlCharacters() async throws {
        let event = ThreatEvent(time: Date(timeIntervalSince1970: 1_700_000_000), interface: "Milter", action: "reject",
                                threats: ["Moat.Test.EICAR (KnownVirus) in 2 \"gpj\u{202E}.exe\""],
                                sender: "a\u{1B}[2J@example.com", recipients: ["bob@example.org\r\nX: y"],
                                subject: "Hi\u{2028}<b>there</b>\u{0}", messageId: "<id\nverdict pass@x>",
                                queueId: "4AbC", client: "192.0.2.7", reason: "MailD.MilterRuleSet rule 1")
        try await ConsoleFixture.with(threats: [event]) { console in
            let token = try await console.login()
            let page = try await console.request("/threats", token: token)
            #expect(page.status == 200)
            #expect(page.body.contains(#"gpj\u{202E}.exe"#))
            #expect(page.body.contains(#"a\e[2J@example.com"#))
            #expect(page.body.contains(#"bob@example.org\r\nX: y"#))
            #expect(page.body.contains(#"Hi\u{2028}&lt;b&gt;there&lt;/b&gt;\0"#))
            #expect(page.body.contains(#"&lt;id\nverdict pass@x&gt;"#))
            #expect(!page.body.unicodeScalars.contains { [0x00, 0x1B, 0x2028, 0x202E].contains($0.value) })
        }
    }

    @Test func filesArePrivate() async throws {
        try await ConsoleFixture.with { console async throws in
            func mode(_ path: String) throws -> Int {
                try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1
            }
            #expect(try mode(console.credentials.initialPasswordFile) == 0o600)
            #expect(try mode(console.credentials.directory) == 0o700)
            #expect(try mode(console.varDir + "/console/console.key") == 0o600)
            #expect(console.initialPassword.count == 20)
        }
    }

    @Test func curlVerifiesTheCertificateWithMoatsCAForLoopbackNames() async throws {
        try await ConsoleFixture.with { console in
            for host in ["127.0.0.1", "localhost"] {
                let answer = try await console.request("/login", host: host)
                #expect(answer.curlStatus == 0, "\(host): \(answer.curlError)")
                #expect(answer.status == 200)
            }
            // Without Moat's CA the certificate is not trusted (curl exit 60).
            let untrusted = try await console.request("/login", caFile: "/etc/ssl/certs/ca-certificates.crt")
            #expect(untrusted.curlStatus == 60)
            // TLS 1.2 and 1.3 are served; 1.1 is not.
            let tls12 = try await console.request("/login", extra: ["--tlsv1.2", "--tls-max", "1.2"])
            #expect(tls12.status == 200)
            let tls11 = try await Tool.run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(console.port)", "-tls1_1",
                                                                "-cipher", "DEFAULT@SECLEVEL=0"], input: "")
            #expect(tls11.status != 0)
            #expect(!tls11.out.contains("BEGIN CERTIFICATE"))
        }
    }

    @Test func consolePasswordReplacesTheInitialOne() async throws {
        try await ConsoleFixture.with { console in
            try console.credentials.setPassword("a much better password")
            #expect(!FileManager.default.fileExists(atPath: console.credentials.initialPasswordFile))
            let attributes = try FileManager.default.attributesOfItem(atPath: console.credentials.passwordFile)
            #expect(attributes[.posixPermissions] as? Int == 0o600)
            let stored = try String(contentsOfFile: console.credentials.passwordFile, encoding: .utf8)
            #expect(stored.hasPrefix("admin:pbkdf2-sha256$600000$"))
            #expect(!stored.contains("a much better password"))
            // At once, without a restart.
            let old = try await console.request("/login", form: [("user", "admin"), ("password", console.initialPassword)])
            #expect(old.status == 401)
            _ = try await console.login(password: "a much better password")
            #expect(throws: ConsoleCredentials.Failure.self) { try console.credentials.setPassword("short") }
        }
    }

    @Test func accessLogHasOneLinePerRequestWithoutSecrets() async throws {
        try await ConsoleFixture.with(httpd: "AccessLogPath = \(FileManager.default.temporaryDirectory.path)/moat-access-\(UUID().uuidString).log") { console in
            let path = console.service.settings.current.values.httpd.accessLogPath
            defer { unlink(path) }
            _ = try await console.request("/login?next=secret")
            let token = try await console.login()
            _ = try await console.request("/threats", token: token)
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix("127.0.0.1 - - ["))
            #expect(lines[0].contains("\"GET /login HTTP/1.1\" 200 - \"curl/"))
            #expect(lines[1].contains("\"POST /login HTTP/1.1\" 303"))
            #expect(lines[2].contains("\"GET /threats HTTP/1.1\" 200"))
            #expect(!lines.joined().contains("secret"))
            #expect(!lines.joined().contains(console.initialPassword))
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        }
    }
}
