import Foundation
import MailD
import MoatService

/// The facts `moat-ctl appinfo` prints.
enum StatusPage {
    static func render(_ info: AppInfo, spamSymbols: [RecentSpamSymbols.Count] = [], csrf: String, notice: Notice? = nil) -> HTML {
        let started = Layout.time(Date(timeIntervalSince1970: info.startedAt))
        let reloaded = info.lastReloadAt.map { Layout.time(Date(timeIntervalSince1970: $0)) } ?? "never"
        let rows = info.components.map { c -> HTML in
            """
            <tr><td>\(c.name)</td><td class="state-\(c.state.rawValue)">\(c.state.rawValue)</td>\
            <td>\(c.listening.joined(separator: ", "))</td><td>\(c.detail)</td></tr>
            """
        }
        let content: HTML = """
            <table class="facts">
            <tr><th>Version</th><td>moatd \(info.version)</td></tr>
            <tr><th>Process</th><td>pid \(Int(info.pid))</td></tr>
            <tr><th>Configuration file</th><td>\(info.configFile)</td></tr>
            <tr><th>Started</th><td>\(started)</td></tr>
            <tr><th>Last reload</th><td>\(reloaded)</td></tr>
            <tr><th>Settings generation</th><td id="generation">\(info.settingsGeneration)</td></tr>
            </table>
            <h2>Components</h2>
            <table class="components"><tr><th>Component</th><th>State</th><th>Listening on</th><th>Detail</th></tr>
            \(rows)</table>
            \(antiSpam(info.learned, spamSymbols))
            """
        return Layout.page(title: "Status", path: "/", csrf: csrf, notice: notice, content: content)
    }

    /// What the anti-spam model has learned (as `moat-ctl appinfo` says) and the symbols that
    /// fired most in the last messages.
    static func antiSpam(_ learned: LearnedCountsInfo?, _ symbols: [RecentSpamSymbols.Count]) -> HTML {
        guard let learned else { return "" }
        let model = learned.spam >= learned.minimumPerClass && learned.ham >= learned.minimumPerClass
            ? "in use" : "not yet in use (\(learned.minimumPerClass) of each class needed; rules only until then)"
        let rows = symbols.map { s -> HTML in "<tr><td>\(s.name)</td><td>\(s.messages)</td></tr>" }
        return """
            <h2>Anti-spam</h2>
            <table class="facts" id="antispam">
            <tr><th>Learned as spam</th><td>\(learned.spam)</td></tr>
            <tr><th>Learned as ham</th><td>\(learned.ham)</td></tr>
            <tr><th>Features</th><td>\(learned.features)</td></tr>
            <tr><th>Statistical model</th><td>\(model)</td></tr>
            </table>
            <h2>Top spam symbols of the last messages</h2>
            <table class="symbols"><tr><th>Symbol</th><th>Messages</th></tr>
            \(rows)</table>
            """
    }
}
