import Foundation
import NIOCore

/// Reads the client's message after DATA, line by line as `MailLineDecoder` cuts it, into the
/// bytes the Gate stores, scans and later sends on: dot-unstuffed, every line ended by CRLF.
///
/// SMTP smuggling (SEC Consult 2023; Postfix CVE-2023-51764, Sendmail CVE-2023-51765, Exim
/// CVE-2023-51766) lives in the gap between two readers of the same bytes: one ends the message
/// at `<LF>.<LF>`, `<CR>.<CR>` or `<LF>.<CR><LF>`, the next hop does not, and a second message
/// rides inside the first. The Gate closes that gap on both sides:
/// - the message ends only at `<CR><LF>.<CR><LF>` (RFC 5321 4.1.1.4), as Postfix's
///   `smtpd_forbid_bare_newline` requires;
/// - a bare LF and a bare CR are stored as CRLF (Postfix's `normalize`, extended to CR), so the
///   scanner and the next hop get the same lines, and every line that starts with "." is
///   dot-stuffed on the way out: no next hop, however lenient, can find an end of data or a
///   command inside what the Gate forwards.
/// A "." line that does not end the message (after a bare line end, or itself ended by a bare
/// LF) is content and keeps its dot.
struct SMTPDataReader {
    enum Output: Equatable {
        case content(ByteBuffer)
        case end
    }

    /// At the start of a line (after an LF, or the start of the message).
    private var lineStart = true
    /// The line before ended with a real CRLF (or this is the first line).
    private var crlfBefore = true
    /// The previous piece of an over-long line ended with CR: whether it is bare depends on
    /// the next byte.
    private var pendingCR = false
    /// Bare CR and LF line ends rewritten as CRLF, for the log.
    private(set) var normalized = 0

    init() {}

    mutating func read(_ line: MailLine) -> Output {
        var view = line.bytes.readableBytesView
        var out = ByteBuffer()
        if pendingCR {
            pendingCR = false
            out.writeString("\r\n")
            if view.first == UInt8(ascii: "\n") {
                // A CRLF cut between two pieces: the line ends here.
                lineStart = true
                crlfBefore = true
                return .content(out)
            }
            normalized += 1
        }
        if line.isComplete, lineStart, crlfBefore, view.elementsEqual(".\r\n".utf8) {
            return .end
        }
        let unstuff = lineStart && view.first == UInt8(ascii: ".") && !Self.isLoneDot(view)
        if unstuff { view = view.dropFirst() }
        if out.readableBytes == 0, line.isComplete, Self.onlyCRIsBeforeTheLF(line.bytes) {
            // Nearly every line: ends with CRLF, no other CR. Passed on as it is, no copy.
            lineStart = true
            crlfBefore = true
            var bytes = line.bytes
            if unstuff { bytes.moveReaderIndex(forwardBy: 1) }
            return .content(bytes)
        }
        out.reserveCapacity(out.readableBytes + view.count + 2)
        var crlfAtEnd = false
        var index = view.startIndex
        while index < view.endIndex {
            // Most lines hold no CR but their last: copy runs up to the next CR or LF at once.
            let rest = view[index...]
            guard let stop = rest.firstIndex(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) else {
                out.writeBytes(rest)
                break
            }
            out.writeBytes(view[index..<stop])
            let next = view.index(after: stop)
            if view[stop] == UInt8(ascii: "\n") {
                out.writeString("\r\n")
                normalized += 1
                index = next
            } else if next < view.endIndex, view[next] == UInt8(ascii: "\n") {
                out.writeString("\r\n")
                crlfAtEnd = view.index(after: next) == view.endIndex
                index = view.index(after: next)
            } else if next == view.endIndex, !line.isComplete {
                pendingCR = true
                index = next
            } else {
                out.writeString("\r\n")
                normalized += 1
                index = next
            }
        }
        lineStart = line.isComplete
        crlfBefore = line.isComplete && crlfAtEnd
        return .content(out)
    }

    /// A complete line whose first CR is the one before its final LF.
    private static func onlyCRIsBeforeTheLF(_ bytes: ByteBuffer) -> Bool {
        bytes.withUnsafeReadableBytes { raw in
            guard raw.count >= 2, let base = raw.baseAddress else { return false }
            guard let cr = memchr(base, 0x0d, raw.count) else { return false }
            return base.distance(to: UnsafeRawPointer(cr)) == raw.count - 2
        }
    }

    /// "." with a line end and nothing else: not unstuffed when it is content.
    private static func isLoneDot(_ view: ByteBufferView) -> Bool {
        view.elementsEqual(".\r\n".utf8) || view.elementsEqual(".\n".utf8) || view.elementsEqual(".".utf8)
    }
}
