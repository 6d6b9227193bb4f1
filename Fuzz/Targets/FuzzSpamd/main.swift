// spamd requests (SpamdRequestDecoder, then SpamdDecompression for `Compress: zlib`): any bytes,
// split anywhere, give the same parts as whole; the decoder holds at most one line or one
// piece; inflated output stays under the size limit.
@testable import SpamdInterface
import FuzzKit
import NIOCore

func decode(_ pieces: [[UInt8]], limits: SpamdLimits, chunkSize: Int, bounded: Bool) -> [SpamdRequestPart] {
    var decoder = SpamdRequestDecoder(limits: limits, chunkSize: chunkSize)
    var inflate = SpamdDecompression(maxSize: limits.maxMessageSize)
    var parts: [SpamdRequestPart] = []
    var inflated = 0
    var buffer = ByteBuffer()
    func collect(_ part: SpamdRequestPart) {
        if case .body(let piece) = part { invariant(piece.readableBytes <= chunkSize, "piece of \(piece.readableBytes) > \(chunkSize)") }
        let out = inflate.process(part)
        if case .body(let piece) = out {
            inflated += piece.readableBytes
            invariant(inflated <= limits.maxMessageSize * 4 + 65536, "inflated \(inflated) bytes, limit \(limits.maxMessageSize)")
        }
        if case .head = out { inflated = 0 }
        parts.append(out)
        invariant(parts.count < 100_000, "unbounded parts")
    }
    for piece in pieces {
        buffer.writeBytes(piece)
        while let part = decoder.step(&buffer, atEOF: false) { collect(part) }
        if bounded {
            invariant(buffer.readableBytes <= max(limits.maxLineLength, chunkSize) + 1,
                      "\(buffer.readableBytes) bytes held")
        }
    }
    while let part = decoder.step(&buffer, atEOF: true) { collect(part) }
    return parts
}

runFuzzer { input in
    var reader = FuzzInput(input)
    let choice = reader.byte()
    var limits = SpamdLimits()
    var chunkSize = SpamdRequestDecoder.defaultChunkSize
    if choice & 1 == 1 {
        limits.maxMessageSize = Int(reader.byte()) * 16
        limits.maxLineLength = Int(reader.byte()) + 1
        limits.maxHeaderCount = Int(reader.byte() % 8)
        chunkSize = Int(reader.byte() % 64) + 1
    }
    let splits = Splits(reader.rest())
    let whole = decode([splits.payload], limits: limits, chunkSize: chunkSize, bounded: false)
    let pieces = decode(splits.pieces, limits: limits, chunkSize: chunkSize, bounded: true)
    invariant(whole == pieces, "split changes the parts:\n\(whole)\nvs\n\(pieces)")
}
