import Foundation
import Storage

/// The quarantine directory (`VarDir/quarantine`): one subdirectory per day, and per item
/// the kept bytes (`<id>.eml`, or `<id>.zip` for a repack archive) beside their metadata
/// (`<id>.json`: the record and the whole envelope), both 0600, owned by moatd's user. The
/// metadata file lets the quarantine be read even when the database lost or never got the row.
public struct QuarantineFiles: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// What `<id>.json` holds.
    public struct Sidecar: Sendable, Codable, Equatable {
        public var record: QuarantineRecord
        public var envelope: Envelope
    }

    public struct WriteFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The relative path of a new item: `YYYY-MM-DD/<id>.<ext>`.
    public static func relativePath(id: String, kind: QuarantineRecord.Kind, at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let day = String(format: "%04d-%02d-%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
        return "\(day)/\(id).\(kind == .message ? "eml" : "zip")"
    }

    public func path(_ relative: String) -> String { directory + "/" + relative }

    /// Writes the bytes and the sidecar, each to a temporary name, synced, then renamed: a
    /// crash leaves either the whole item or none.
    public func write(_ bytes: [UInt8], sidecar: Sidecar) throws {
        let target = path(sidecar.record.file)
        let day = (target as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: day, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw WriteFailure(description: "cannot create \(day): \(error)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = [UInt8]((try? encoder.encode(sidecar)) ?? Data())
        try Self.writeSynced(bytes, to: target)
        try Self.writeSynced(json, to: (target as NSString).deletingPathExtension + ".json")
    }

    /// The kept bytes, nil when this node has no such file.
    public func read(_ relative: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(relative)).map { [UInt8]($0) }
    }

    public func sidecar(_ relative: String) -> Sidecar? {
        let json = (path(relative) as NSString).deletingPathExtension + ".json"
        return FileManager.default.contents(atPath: json).flatMap { try? JSONDecoder().decode(Sidecar.self, from: $0) }
    }

    /// Removes an item's files (either may be gone already).
    public func remove(_ relative: String) {
        let target = path(relative)
        unlink(target)
        unlink((target as NSString).deletingPathExtension + ".json")
        rmdir((target as NSString).deletingLastPathComponent)  // only when empty
    }

    static func writeSynced(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteFailure(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var offset = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0, rename(temporary, path) == 0 else {
            let code = failure != 0 ? failure : errno
            unlink(temporary)
            throw WriteFailure(description: "cannot write \(path): \(String(cString: strerror(code)))")
        }
    }
}
