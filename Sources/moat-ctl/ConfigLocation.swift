import ArgumentParser
import Control
import Foundation
import MoatConfig
import Policy

/// Which configuration file and control socket a command works on.
struct ConfigLocation: ParsableArguments {
    @Option(name: .shortAndLong, help: "Configuration file (default: $MOAT_CONFIG or /etc/moat/moat.ini).")
    var config: String?

    @Option(help: "Control socket (default: [Root] ControlSocket of the configuration file).")
    var socket: String?

    var path: String { config ?? ProcessInfo.processInfo.environment["MOAT_CONFIG"] ?? "/etc/moat/moat.ini" }

    /// The file as it is. A missing file counts as empty (all defaults) when `allowMissing`, so
    /// that `cfset` can create it.
    func load(allowMissing: Bool = false) throws -> LoadedConfig {
        let loader = ConfigLoader(ruleValidator: Policy.ruleValidator)
        do throws(ConfigErrors) {
            if allowMissing, !FileManager.default.fileExists(atPath: path) {
                return try loader.load(text: "", file: path)
            }
            return try loader.load(path: path)
        } catch {
            printError(error.description)
            throw CtlExit.invalidConfiguration
        }
    }

    func socketPath() -> String {
        if let socket { return socket }
        if let loaded = try? ConfigLoader().load(path: path) {
            return loaded.values.root.controlSocket
        }
        // A file that does not load (the case `reload` must report) may still name the socket.
        if let raw = ConfigLoader.rawValue(of: RootSettings.Key.controlSocket, inFileAt: path),
           (try? ParameterType.path(allowEmpty: false).parse(raw)) != nil {
            return ValueText.unquote(raw)
        }
        return ConfigValues(schema: .moat).root.controlSocket
    }

    func send(_ command: ControlRequest.Command) throws -> ControlResponse {
        try send(ControlRequest(command))
    }

    func send(_ request: ControlRequest) throws -> ControlResponse {
        // A file named explicitly but missing would silently mean the default socket, i.e.
        // possibly another moatd than the one meant.
        if socket == nil, config != nil, !FileManager.default.fileExists(atPath: path) {
            printError("\(path): the configuration file does not exist")
            throw CtlExit.invalidConfiguration
        }
        do throws(ControlClient.Failure) {
            // A scan of a big mailbox takes long; nothing else does.
            return try ControlClient.send(request, to: socketPath(), timeoutSeconds: request.command == .scan ? 3600 : 60)
        } catch {
            printError(error.description)
            throw CtlExit.code(for: error)
        }
    }
}
