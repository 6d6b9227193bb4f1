import Foundation

/// The local buffer file (in VarDir) where writes wait while the database is down: one JSON
/// line per write, appended by the writer's task (never by the mail path), bounded in size,
/// replayed in order once the database answers again and then emptied. Owned by moatd's
/// user, mode 0600 (it holds addresses and subjects).
struct PendingBuffer: Sendable {
    let path: String
    let maxBytes: Int

    var size: Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// Appends what fits; returns the writes that did not fit (the caller counts them).
    func append(_ writes: [StorageWrite]) throws -> [StorageWrite] {
        guard !writes.isEmpty else { return [] }
        let encoder = JSONEncoder()
        var data = Data()
        var rejected: [StorageWrite] = []
        var room = maxBytes - size
        for write in writes {
            var line = try encoder.encode(write)
            line.append(UInt8(ascii: "\n"))
            // Quarantine metadata always goes in: losing it would hide a kept message.
            if line.count <= room || !write.isLog {
                data.append(line)
                room -= line.count
            } else {
                rejected.append(write)
            }
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
                offset += n
            }
        }
        fsync(fd)
        return rejected
    }

    /// Every buffered write, in order; a line that does not decode (a write cut by a crash)
    /// is skipped and counted.
    func readAll() -> (writes: [StorageWrite], unreadable: Int) {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return ([], 0) }
        let decoder = JSONDecoder()
        var writes: [StorageWrite] = []
        var unreadable = 0
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let write = try? decoder.decode(StorageWrite.self, from: Data(line)) { writes.append(write) } else { unreadable += 1 }
        }
        return (writes, unreadable)
    }

    func clear() {
        unlink(path)
    }
}
