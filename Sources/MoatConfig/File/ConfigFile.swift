import Foundation

/// Writes a configuration file the way an editor should: the whole new text or nothing,
/// with the original file's permissions.
public enum ConfigFile {
    public static func writeAtomically(_ text: String, to path: String) throws(ConfigError) {
        let fm = FileManager.default
        let temp = path + ".moat-new"
        var attributes: [FileAttributeKey: Any] = [.posixPermissions: 0o644]
        if let existing = try? fm.attributesOfItem(atPath: path) {
            for k in [FileAttributeKey.posixPermissions, .ownerAccountID, .groupOwnerAccountID] {
                if let v = existing[k] { attributes[k] = v }
            }
        }
        do {
            guard fm.createFile(atPath: temp, contents: Data(text.utf8), attributes: attributes) else {
                throw CocoaError(.fileWriteUnknown)
            }
            let fd = open(temp, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            guard rename(temp, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? fm.removeItem(atPath: temp)
            throw ConfigError(.unwritableFile, file: path, reason: "cannot write the file (\(String(cString: strerror(errno))))")
        }
    }
}
