import Control
import MoatConfig
import ThreatEngine

/// What `appinfo` says about each component, from the settings in force and what this build
/// contains. A component this build does not have yet is reported as such, never as running.
enum ComponentReport {
    static func describe(_ values: ConfigValues, controlSocket: String, signatures: SignatureInfo,
                         running: [String: String] = [:], divert: String? = nil) -> [ComponentInfo] {
        var components = [ComponentInfo(name: "Control", state: .running, listening: [controlSocket])]
        var engine = "libclamav \(signatures.engineVersion), \(signatures.signatureCount) signatures from \(signatures.directory)"
        if signatures.usingBuiltinSignatures { engine += "; NO freshclam databases found, using Moat's small test database" }
        components.append(ComponentInfo(name: "ThreatEngine", state: .running, detail: engine))
        for family in ["Milter", "Spamd", "Rspamd"] {
            components.append(listener("MailD.\(family)", values.value("MailD", "\(family)Socket"), running))
        }
        components.append(listener("ClamD", values.value("ClamD", "ClamdSocket"), running))
        if let divert {
            components.append(ComponentInfo(name: "LinuxFirewall", state: .running, detail: divert))
        } else if case .divert(.off) = values.value("LinuxFirewall", "InputDivert") {
            components.append(ComponentInfo(name: "LinuxFirewall", state: .off, detail: "InputDivert = Off"))
        } else {
            components.append(ComponentInfo(name: "LinuxFirewall", state: .off,
                                            detail: "InputDivert was Off when moatd started; restart moatd to divert"))
        }
        let console = values.value("HTTPD", "AdminListen").list?.compactMap { item -> String? in
            if case .address(let a?) = item { return a.description } else { return nil }
        } ?? []
        components.append(ComponentInfo(name: "HTTPD", state: console.isEmpty ? .off : .unavailable,
                                        listening: [], detail: console.isEmpty ? "AdminListen not set" : "console not in this build yet"))
        return components
    }

    private static func listener(_ name: String, _ value: ConfigValue, _ running: [String: String]) -> ComponentInfo {
        if let address = running[name] { return ComponentInfo(name: name, state: .running, listening: [address]) }
        guard case .address(let address?) = value else {
            return ComponentInfo(name: name, state: .off, detail: "socket not set")
        }
        return ComponentInfo(name: name, state: .unavailable, detail: "configured on \(address), not in this build yet")
    }
}
