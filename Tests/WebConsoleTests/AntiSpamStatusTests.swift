import MailD
import MoatService
import Testing
@testable import WebConsole

/// The console's status page says what the anti-spam model learned and which symbols fired
/// most in the last messages.
@Suite struct AntiSpamStatusTests {
    static func info(learned: LearnedCountsInfo?) -> AppInfo {
        AppInfo(version: "0.1.0", pid: 1, configFile: "/etc/moat/moat.ini", startedAt: 1_700_000_000, lastReloadAt: nil,
                settingsGeneration: 1, components: [], learned: learned)
    }

    @Test func learnedCountsAndTopSymbolsAreShown() {
        let page = StatusPage.render(Self.info(learned: LearnedCountsInfo(spam: 250, ham: 120, features: 9000, minimumPerClass: 200)),
                                     spamSymbols: [.init(name: "GTUBE", messages: 2), .init(name: "HTML_ONLY", messages: 1)],
                                     csrf: "x").text
        #expect(page.contains("<tr><th>Learned as spam</th><td>250</td></tr>"))
        #expect(page.contains("<tr><th>Learned as ham</th><td>120</td></tr>"))
        #expect(page.contains("not yet in use (200 of each class needed"), "120 ham is under the minimum")
        #expect(page.contains("<tr><td>GTUBE</td><td>2</td></tr><tr><td>HTML_ONLY</td><td>1</td></tr>"))
    }

    @Test func aDaemonWithoutAModelShowsNoSection() {
        #expect(!StatusPage.render(Self.info(learned: nil), csrf: "x").text.contains("Anti-spam"))
    }
}
