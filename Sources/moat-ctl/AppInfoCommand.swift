import ArgumentParser
import Control
import Foundation
import MoatService

struct AppInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "appinfo",
        abstract: "Show moatd's version, components and their state, and listening sockets.")

    @OptionGroup var location: ConfigLocation

    @Flag(help: "Print the answer as JSON.")
    var json = false

    func run() throws {
        let response = try location.send(.appinfo)
        guard response.ok, let info = response.appInfo else {
            printError(response.message ?? "moatd gave no information")
            throw CtlExit.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(info), as: UTF8.self))
            return
        }
        let started = Date(timeIntervalSince1970: info.startedAt)
        print("moatd \(info.version) pid \(info.pid)")
        print("config \(info.configFile), settings generation \(info.settingsGeneration)")
        print("started \(ISO8601DateFormatter().string(from: started))")
        for c in info.components {
            var line = "\(c.name): \(c.state.rawValue)"
            if !c.listening.isEmpty { line += " on " + c.listening.joined(separator: ", ") }
            if let d = c.detail { line += " (\(d))" }
            print(line)
        }
        if let l = info.learned {
            let use = l.spam >= l.minimumPerClass && l.ham >= l.minimumPerClass
                ? "statistical model in use" : "statistical model not used until \(l.minimumPerClass) of each are learned"
            print("anti-spam: learned \(l.spam) spam, \(l.ham) ham, \(l.features) features (\(use))")
        }
    }
}
