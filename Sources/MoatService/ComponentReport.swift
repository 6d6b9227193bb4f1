import MailD
import MoatConfig
import ThreatEngine

/// What `appinfo` says about each component, from the settings in force and what this build
/// contains. A component this build does not have yet is reported as such, never as running.
enum ComponentReport {
    static func describe(_ values: ConfigValues, controlSocket: String, signatures: SignatureInfo,
                         sandbox: String? = nil, running: [String: String] = [:], divert: String? = nil,
                         console: ConsoleStatus.Snapshot? = nil) -> [ComponentInfo] {
        var components = [ComponentInfo(name: "Control", state: .running, listening: [controlSocket])]
        var engine = "libclamav \(signatures.engineVersion), \(signatures.signatureCount) signatures from \(signatures.directory)"
        if signatures.usingBuiltinSignatures { engine += "; NO freshclam databases found, using Moat's small test database" }
        if let sandbox { engine += "; \(sandbox)" }
        components.append(ComponentInfo(name: "ThreatEngine", state: .running, detail: engine))
        for family in values.filterInterfaceGroups {
            components.append(listener("MailD.\(family.prefix)", family.socket, running))
        }
        components.append(listener("ClamD", values.clamD.clamdSocket, running))
        if let divert {
            components.append(ComponentInfo(name: "LinuxFirewall", state: .running, detail: divert))
        } else if values.linuxFirewall.inputDivert == .off {
            components.append(ComponentInfo(name: "LinuxFirewall", state: .off, detail: "InputDivert = Off"))
        } else {
            components.append(ComponentInfo(name: "LinuxFirewall", state: .off,
                                            detail: "InputDivert was Off when moatd started; restart moatd to divert"))
        }
        components.append(httpd(values, console))
        return components
    }

    /// The console: where it listens, or why not (an address it could not bind is listed in
    /// the detail; moatd runs on without it).
    private static func httpd(_ values: ConfigValues, _ console: ConsoleStatus.Snapshot?) -> ComponentInfo {
        let configured = values.httpd.adminListen.map(\.description)
        guard let console else {
            return configured.isEmpty ? ComponentInfo(name: "HTTPD", state: .off, detail: "AdminListen not set")
                : ComponentInfo(name: "HTTPD", state: .off, detail: "AdminListen was empty when moatd started; restart moatd to serve the console")
        }
        let failures = console.failures.isEmpty ? nil : console.failures.joined(separator: "; ")
        if !console.listening.isEmpty {
            return ComponentInfo(name: "HTTPD", state: .running, listening: console.listening,
                                 detail: failures.map { "not on: \($0)" })
        }
        if let failures { return ComponentInfo(name: "HTTPD", state: .failed, detail: failures) }
        return ComponentInfo(name: "HTTPD", state: .starting, detail: "binding \(configured.joined(separator: ", "))")
    }

    private static func listener(_ name: String, _ configured: ListenAddress?, _ running: [String: String]) -> ComponentInfo {
        if let address = running[name] { return ComponentInfo(name: name, state: .running, listening: [address]) }
        guard let address = configured else {
            return ComponentInfo(name: name, state: .off, detail: "socket not set")
        }
        return ComponentInfo(name: name, state: .unavailable, detail: "configured on \(address), not in this build yet")
    }
}
