import Foundation
import MailD
import MoatService

/// The facts `moat-ctl appinfo` prints.
enum StatusPage {
    static func render(_ info: AppInfo, csrf: String, notice: Notice? = nil) -> HTML {
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
            """
        return Layout.page(title: "Status", path: "/", csrf: csrf, notice: notice, content: content)
    }
}
