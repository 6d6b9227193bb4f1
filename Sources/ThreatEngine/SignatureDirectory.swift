import Foundation

/// Finds out whether a directory holds ClamAV signatures, and writes the built-in database
/// when it does not.
enum SignatureDirectory {
    /// The directory freshclam maintains on Debian and most distributions.
    static let systemDefault = "/var/lib/clamav"

    /// Extensions of files that carry detections (see ClamAV's "Creating signatures" manual).
    /// Configuration-only files (.cfg, .ign, .ign2, .fp, .sfp, .ftm, .info, .crb, .pwdb) do not
    /// count: a directory with only those would detect nothing.
    static let signatureExtensions: Set<String> = [
        "cvd", "cld", "cud",
        "hdb", "hsb", "hdu", "hsu", "mdb", "msb", "mdu", "msu", "imp",
        "ndb", "ndu", "ldb", "ldu", "idb", "cdb", "cbc",
        "pdb", "gdb", "wdb",
        "yar", "yara",
    ]

    /// The signature files in `path`, sorted; empty when the directory is missing or unreadable.
    static func signatureFiles(in path: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        return names.filter { name in
            guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { return false }
            return signatureExtensions.contains(name[name.index(after: dot)...].lowercased())
        }.sorted()
    }

    /// Writes `BuiltinSignatures` into a fresh private temporary directory and returns its path.
    /// The caller removes it once libclamav has loaded it (the engine keeps no file open).
    /// `directory`: where to make it (nil: $TMPDIR or /tmp).
    static func writeBuiltinDatabase(in directory: String? = nil) throws(ThreatEngineError) -> String {
        let base = directory ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/moat-builtin-signatures.XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw .builtinDatabaseUnwritable("mkdtemp in \(base): \(String(cString: strerror(errno)))")
        }
        let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        for file in BuiltinSignatures.files {
            let path = "\(directory)/\(file.name)"
            guard FileManager.default.createFile(atPath: path, contents: Data(file.content.utf8)) else {
                remove(directory)
                throw .builtinDatabaseUnwritable("cannot write \(path)")
            }
        }
        return directory
    }

    static func remove(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Moat's own test database as files, for tools that compare with `clamscan -d` on the same
/// signatures (the benchmark). The caller removes the directory.
public enum BuiltinDatabase {
    public static func writeToTemporaryDirectory() throws -> String {
        try SignatureDirectory.writeBuiltinDatabase()
    }
}
