// Milter packets from the MTA (MilterCommandDecoder): any bytes, split anywhere, decode to the
// same commands and the same error as the bytes whole; nothing is buffered past a packet.
import FuzzKit
import MilterInterface
import NIOCore

struct Decoded: Equatable {
    var commands: [MilterCommand] = []
    var error: MilterProtocolError?
    var left = 0
}

func decode(_ pieces: [[UInt8]], maxPacketSize: Int) -> Decoded {
    var out = Decoded()
    var buffer = ByteBuffer()
    for piece in pieces {
        buffer.writeBytes(piece)
        do {
            while let command = try MilterCommandDecoder.next(&buffer, maxPacketSize: maxPacketSize) {
                out.commands.append(command)
            }
        } catch let error as MilterProtocolError {
            out.error = error
            return out
        } catch {
            fatalError("unexpected error type \(error)")
        }
        // Bounded: what stays buffered is one incomplete packet (4-byte length + data).
        invariant(buffer.readableBytes <= 4 + maxPacketSize, "\(buffer.readableBytes) bytes buffered")
    }
    out.left = buffer.readableBytes
    return out
}

runFuzzer { input in
    var reader = FuzzInput(input)
    // A small limit sometimes, so that the oversized-packet path is reached.
    let limitChoice = reader.byte()
    let maxPacketSize = limitChoice < 64 ? Int(limitChoice) + 1 : MilterCommandDecoder.defaultMaxPacketSize
    let splits = Splits(reader.rest())
    let whole = decode([splits.payload], maxPacketSize: maxPacketSize)
    let pieces = decode(splits.pieces, maxPacketSize: maxPacketSize)
    invariant(whole == pieces, "split changes the decoding: \(whole) vs \(pieces)")
    var count = 0
    for command in whole.commands {
        if case .body(let chunk) = command { count += chunk.readableBytes }
    }
    invariant(count <= splits.payload.count, "more body than input")
}
