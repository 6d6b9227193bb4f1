// clamd requests (ClamdRequestDecoder: zCMD\0, nCMD\n, INSTREAM chunks): any bytes, split
// anywhere, give the same parts as whole (except the old unprefixed style, whose command is
// by design "what the first read brought"); a stream never passes StreamMaxLength; at most
// one command line or one piece is held.
import ClamdInterface
import FuzzKit
import NIOCore

func decode(_ pieces: [[UInt8]], maxStream: Int, pieceSize: Int, bounded: Bool) -> [ClamdRequestPart] {
    var decoder = ClamdRequestDecoder(maxStreamLength: maxStream, pieceSize: pieceSize)
    var parts: [ClamdRequestPart] = []
    var stream = 0
    var buffer = ByteBuffer()
    func collect(_ part: ClamdRequestPart) {
        switch part {
        case .command: stream = 0
        case .streamData(let piece):
            invariant(piece.readableBytes <= pieceSize, "piece of \(piece.readableBytes) > \(pieceSize)")
            stream += piece.readableBytes
            invariant(stream <= maxStream, "stream of \(stream) bytes past StreamMaxLength \(maxStream)")
        case .streamEnd: stream = 0
        default: break
        }
        parts.append(part)
    }
    for piece in pieces {
        buffer.writeBytes(piece)
        while let part = decoder.step(&buffer) { collect(part) }
        if bounded {
            invariant(buffer.readableBytes <= max(ClamdRequestDecoder.maxCommandLength + 1, pieceSize + 4),
                      "\(buffer.readableBytes) bytes held")
        }
    }
    return parts
}

runFuzzer { input in
    var reader = FuzzInput(input)
    let choice = reader.byte()
    let maxStream = choice & 1 == 1 ? Int(reader.byte()) * 8 : 25 << 20
    let pieceSize = choice & 2 == 2 ? Int(reader.byte() % 64) + 1 : 64 * 1024
    let splits = Splits(reader.rest())
    let whole = decode([splits.payload], maxStream: maxStream, pieceSize: pieceSize, bounded: false)
    let pieces = decode(splits.pieces, maxStream: maxStream, pieceSize: pieceSize, bounded: true)
    if let lead = splits.payload.first, lead == UInt8(ascii: "z") || lead == UInt8(ascii: "n") {
        invariant(whole == pieces, "split changes the parts:\n\(whole)\nvs\n\(pieces)")
    }
}
