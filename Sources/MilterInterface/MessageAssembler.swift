import Foundation
import MailD
import NIOCore

/// Puts the message back together from the milter events: header fields as the MTA passed
/// them, a blank line, the body chunks. Small messages stay in memory; once the message grows
/// past the spool threshold it moves to a private file (0600) in the spool directory, so memory
/// stays bounded whatever the MTA sends. Past `maxSize` nothing more is kept and the message
/// is "unchecked: too large".
final class MessageAssembler {
    let spoolThreshold: Int
    let maxSize: Int
    let spoolDirectory: String
    /// Bytes the MTA sent, including those not kept past `maxSize`.
    private(set) var size = 0
    private(set) var tooLarge = false
    /// Why the spool file could not be written, when it could not.
    private(set) var spoolError: String?
    private var memory: [UInt8] = []
    private var fd: Int32 = -1
    private(set) var spoolPath: String?
    private var headersEnded = false

    init(spoolThreshold: Int, maxSize: Int, spoolDirectory: String) {
        self.spoolThreshold = spoolThreshold
        self.maxSize = maxSize
        self.spoolDirectory = spoolDirectory
    }

    deinit { discard() }

    /// `value` as the MTA sent it: folded lines joined by LF; with `leadingSpace` (HDR_LEADSPC)
    /// verbatim after the colon, else with the one space the MTA took off.
    func appendHeader(name: String, value: String, leadingSpace: Bool) {
        var line = Array(name.utf8)
        line.append(UInt8(ascii: ":"))
        if !leadingSpace { line.append(UInt8(ascii: " ")) }
        var previous: UInt8 = 0
        for byte in value.utf8 {
            if byte == 0x0A, previous != 0x0D { line.append(0x0D) }
            line.append(byte)
            previous = byte
        }
        line += [0x0D, 0x0A]
        append(line[...])
    }

    func endHeaders() {
        guard !headersEnded else { return }
        headersEnded = true
        append([0x0D, 0x0A][...])
    }

    func appendBody(_ chunk: ByteBuffer) {
        endHeaders()
        chunk.withUnsafeReadableBytes { append(UnsafeRawBufferPointer($0).bindMemory(to: UInt8.self)[...]) }
    }

    private func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        size += bytes.count
        guard !tooLarge, spoolError == nil else { return }
        if size > maxSize {
            tooLarge = true
            discard()
            return
        }
        if fd < 0, memory.count + bytes.count > spoolThreshold {
            openSpool()
            guard spoolError == nil else { return }
        }
        if fd >= 0 {
            writeAll(Array(bytes))
        } else {
            memory.append(contentsOf: bytes)
        }
    }

    private func openSpool() {
        try? FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let path = spoolDirectory + "/milter-" + UUID().uuidString
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            spoolError = "cannot create \(path): \(String(cString: strerror(errno)))"
            memory = []
            return
        }
        fd = descriptor
        spoolPath = path
        let held = memory
        memory = []
        writeAll(held)
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 {
                    spoolError = "cannot write to \(spoolPath ?? spoolDirectory): \(String(cString: strerror(errno)))"
                    closeSpool(remove: true)
                    return
                }
                offset += n
            }
        }
    }

    private func closeSpool(remove: Bool) {
        if fd >= 0 { close(fd); fd = -1 }
        if remove, let spoolPath { unlink(spoolPath); self.spoolPath = nil }
    }

    /// Hands the message over; afterwards the assembler holds nothing and the caller owns the
    /// spool file (if any). nil when it is too large or could not be stored.
    func finish() -> MessageSource? {
        endHeaders()
        guard !tooLarge, spoolError == nil else { discard(); return nil }
        if let spoolPath {
            closeSpool(remove: false)
            self.spoolPath = nil
            return .file(path: spoolPath)
        }
        defer { memory = [] }
        return .bytes(memory)
    }

    /// Forgets the message (abort, disconnect) and removes its spool file.
    func discard() {
        memory = []
        closeSpool(remove: true)
    }
}
