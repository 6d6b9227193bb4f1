// The control socket's frames (LineFrameDecoder behind a ByteToMessageHandler, as moatd runs
// it): any bytes, split anywhere, give the same lines and the same refusal as whole; no line
// is longer than the limit.
@testable import Control
import FuzzKit
import NIOCore
import NIOEmbedded

func decode(_ pieces: [[UInt8]], maxLength: Int) -> (lines: [[UInt8]], failed: Bool) {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLength: maxLength)))
    var lines: [[UInt8]] = []
    var failed = false
    for piece in pieces where !failed {
        do {
            try channel.writeInbound(ByteBuffer(bytes: piece))
        } catch is LineFrameDecoder.LineTooLong {
            failed = true
        } catch {
            fatalError("unexpected error \(error)")
        }
        while let line = try? channel.readInbound(as: ByteBuffer.self) {
            invariant(line.readableBytes <= maxLength, "line of \(line.readableBytes) bytes > \(maxLength)")
            lines.append(line.bytes)
        }
    }
    _ = try? channel.finish()
    return (lines, failed)
}

runFuzzer { input in
    var reader = FuzzInput(input)
    let maxLength = Int(reader.byte()) + 1
    let splits = Splits(reader.rest())
    let whole = decode([splits.payload], maxLength: maxLength)
    let pieces = decode(splits.pieces, maxLength: maxLength)
    invariant(whole.failed == pieces.failed && whole.lines == pieces.lines, "split changes the frames: \(whole) vs \(pieces)")
}
