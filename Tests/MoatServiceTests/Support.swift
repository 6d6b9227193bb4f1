import Foundation
import MoatConfig

/// Settings as a file with `text` would give them.
func settings(_ text: String) throws -> ConfigValues {
    try ConfigLoader().load(text: text, file: "test.ini").values
}

/// A new private directory under the system temp dir.
func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("moat-service-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
