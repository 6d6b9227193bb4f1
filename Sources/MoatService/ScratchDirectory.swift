import Foundation
import Logging
import MoatConfig

/// `[Root] TempDir`, libclamav's scratch space, made private to moatd.
enum ScratchDirectory {
    /// The directory, or nil (libclamav's default) when it is empty or cannot be made ours:
    /// someone else's directory must not receive scanned content.
    static func prepare(_ values: ConfigValues, logger: Logger) -> String? {
        let path = values.root.tempDir
        guard !path.isEmpty else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == geteuid() else {
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
