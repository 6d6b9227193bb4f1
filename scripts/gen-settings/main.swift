import Foundation
import MoatConfig

// Writes the typed settings generated from the schema into the directory given (by default
// SettingsSource.directory, relative to the repository); scripts/gen-settings.sh runs it.
// Files of an older schema are removed first, so a section or group that went goes too.
let directory = CommandLine.arguments.dropFirst().first ?? SettingsSource.directory
let files = FileManager.default
try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
for old in try files.contentsOfDirectory(atPath: directory) where old.hasSuffix(".swift") {
    try files.removeItem(atPath: directory + "/" + old)
}
for file in SettingsSource.files(.moat) {
    try file.text.write(toFile: directory + "/" + file.name, atomically: true, encoding: .utf8)
}
print("wrote \(SettingsSource.files(.moat).count) files to \(directory)")
