import Foundation
import Logging
import MoatConfig

/// `[Root] TempDir`, libclamav's scratch space, made private to moatd (and its `[Root] User`).
public enum ScratchDirectory {
    /// The directory, or nil (libclamav's default) when it is empty or cannot be made ours:
    /// someone else's directory must not receive scanned content.
    public static func prepare(_ values: ConfigValues, logger: Logger) -> String? {
        let path = values.root.tempDir
        guard !path.isEmpty else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            var info = stat()
            // moatd's own: its user's now, or (started as root) the user it is about to become.
            let owners = [geteuid()] + (geteuid() == 0 ? [RunUser.owner(values)?.uid].compactMap { $0 } : [])
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, owners.contains(info.st_uid) else {
                logger.warning("TempDir \(path) is not a directory of moatd's own: using libclamav's default")
                return nil
            }
            chmod(path, 0o700)
            return path
        } catch {
            logger.warning("cannot create TempDir \(path): \(error); using libclamav's default")
            return nil
        }
    }
}
