// The Gate's line codec (MailLineDecoder, the framing of SMTP, POP3 and IMAP on both legs):
// any bytes, split anywhere, give the same lines as whole; lines concatenate back to the
// input; no line is longer than the limit; a complete line ends in LF, a cut one is exactly
// the limit long (or the tail at EOF).
import FuzzKit
import Gate
import NIOCore

func decode(_ pieces: [[UInt8]], maximumLength: Int) -> [MailLine] {
    var decoder = MailLineDecoder(maximumLength: maximumLength)
    var buffer = ByteBuffer()
    var lines: [MailLine] = []
    for piece in pieces {
        buffer.writeBytes(piece)
        while let line = try! decoder.decode(buffer: &buffer) { lines.append(line) }
        invariant(buffer.readableBytes < maximumLength, "\(buffer.readableBytes) bytes held, limit \(maximumLength)")
    }
    while let line = try! decoder.decodeLast(buffer: &buffer, seenEOF: true) { lines.append(line) }
    invariant(buffer.readableBytes == 0, "bytes left at EOF")
    return lines
}

runFuzzer { input in
    var reader = FuzzInput(input)
    let choice = reader.byte()
    let maximumLength = choice < 128 ? Int(choice) + 1 : 64 * 1024
    let splits = Splits(reader.rest())
    let whole = decode([splits.payload], maximumLength: maximumLength)
    let pieces = decode(splits.pieces, maximumLength: maximumLength)
    invariant(whole == pieces, "split changes the lines")
    var joined: [UInt8] = []
    for (index, line) in whole.enumerated() {
        let bytes = line.bytes.bytes
        invariant(!bytes.isEmpty && bytes.count <= maximumLength, "line of \(bytes.count) bytes")
        if line.isComplete {
            invariant(bytes.last == UInt8(ascii: "\n") && !bytes.dropLast().contains(UInt8(ascii: "\n")), "complete line not ended by its only LF")
        } else {
            invariant(!bytes.contains(UInt8(ascii: "\n")), "cut line with an LF")
            invariant(bytes.count == maximumLength || index == whole.count - 1, "short cut line before the end")
        }
        _ = line.text
        joined += bytes
    }
    invariant(joined == splits.payload, "lines do not concatenate back to the input")
}
