import CZip
import Foundation

/// The ZIP attached to a repacked message, built in memory by libzip. With a password every
/// member is AES-256 encrypted (WinZip AE-2), which 7-Zip, WinZip and current unzip tools
/// open; without one the members are stored in the clear.
enum ProtectedArchive {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func make(_ files: [(name: String, bytes: [UInt8])], password: String?) throws -> [UInt8] {
        var error = zip_error_t()
        zip_error_init(&error)
        defer { zip_error_fini(&error) }
        guard let source = zip_source_buffer_create(nil, 0, 0, &error) else { throw failure("buffer", &error) }
        // The archive closes the source with it; keep it to read the bytes back afterwards.
        zip_source_keep(source)
        defer { zip_source_free(source) }
        guard let archive = zip_open_from_source(source, ZIP_TRUNCATE, &error) else { throw failure("open", &error) }

        for (index, file) in uniqueNames(files).enumerated() {
            // libzip frees the copy (freep = 1) once it has written the archive.
            let copy = malloc(max(1, file.bytes.count))!
            file.bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { copy.copyMemory(from: base, byteCount: raw.count) }
            }
            guard let member = zip_source_buffer(archive, copy, zip_uint64_t(file.bytes.count), 1) else {
                free(copy)
                zip_discard(archive)
                throw Failure(description: "libzip: cannot add \(file.name)")
            }
            let added = zip_file_add(archive, file.name, member, zip_flags_t(ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE))
            guard added >= 0 else {
                zip_source_free(member)
                zip_discard(archive)
                throw Failure(description: "libzip: cannot add \(file.name) (\(index))")
            }
            if let password {
                guard zip_file_set_encryption(archive, zip_uint64_t(added), zip_uint16_t(ZIP_EM_AES_256), password) == 0 else {
                    zip_discard(archive)
                    throw Failure(description: "libzip: AES-256 encryption is not available")
                }
            }
        }
        guard zip_close(archive) == 0 else {
            let text = String(cString: zip_strerror(archive))
            zip_discard(archive)
            throw Failure(description: "libzip: \(text)")
        }
        return try readAll(source)
    }

    private static func readAll(_ source: OpaquePointer) throws -> [UInt8] {
        guard zip_source_open(source) == 0 else { throw Failure(description: "libzip: cannot reopen the archive") }
        defer { zip_source_close(source) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { zip_source_read(source, $0.baseAddress, zip_uint64_t($0.count)) }
            if n < 0 { throw Failure(description: "libzip: cannot read the archive") }
            if n == 0 { break }
            out += chunk[0..<Int(n)]
        }
        return out
    }

    /// Two attachments called `invoice.pdf` must both reach the archive.
    static func uniqueNames(_ files: [(name: String, bytes: [UInt8])]) -> [(name: String, bytes: [UInt8])] {
        var seen: Set<String> = []
        return files.map { file in
            var name = file.name.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\\", with: "_")
            if name.isEmpty || name.hasPrefix(".") { name = "part" + name }
            var candidate = name
            var n = 2
            while seen.contains(candidate.lowercased()) {
                candidate = "\(n)-\(name)"
                n += 1
            }
            seen.insert(candidate.lowercased())
            return (candidate, file.bytes)
        }
    }

    private static func failure(_ step: String, _ error: inout zip_error_t) -> Failure {
        Failure(description: "libzip \(step): " + String(cString: zip_error_strerror(&error)))
    }
}
