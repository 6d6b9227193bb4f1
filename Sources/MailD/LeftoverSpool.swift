import Foundation

/// Spool files a crash left behind. Every spool file holds a message (or a decoded part of
/// one) that was being checked or relayed; none was acknowledged to anybody, so at start
/// they are only whole messages lying on disk. moatd removes them before it listens.
public enum LeftoverSpool {
    /// One of Moat's spool directories and the prefixes of the files Moat writes there
    /// (`prefix` + a UUID: `msg-`, `milter-`, `part-`, `smtp-`).
    public struct Place: Sendable, Hashable {
        public var directory: String
        public var prefixes: [String]
        public init(directory: String, prefixes: [String]) {
            self.directory = directory
            self.prefixes = prefixes
        }
    }

    /// Whether `name` is one of Moat's own spool file names for `prefixes`.
    public static func isSpoolName(_ name: String, prefixes: [String]) -> Bool {
        prefixes.contains { prefix in
            name.hasPrefix(prefix) && UUID(uuidString: String(name.dropFirst(prefix.count))) != nil
        }
    }

    /// Removes the regular files of Moat's naming in each place (not symbolic links, not
    /// directories, nothing else); returns how many went from which directory.
    public static func remove(_ places: [Place]) -> [(directory: String, count: Int)] {
        var removed: [(String, Int)] = []
        for place in places {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: place.directory) else { continue }
            var count = 0
            for name in names where isSpoolName(name, prefixes: place.prefixes) {
                let path = place.directory + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
                if unlink(path) == 0 { count += 1 }
            }
            if count > 0 { removed.append((place.directory, count)) }
        }
        return removed
    }
}
