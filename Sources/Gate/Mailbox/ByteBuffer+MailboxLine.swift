import NIOCore

extension ByteBuffer {
    /// The length of the next line (LF included) of a POP3 or IMAP stream, nil while its LF has
    /// not come. A line may end in CRLF, so `limit` bytes of text allow `limit + 2` on the wire;
    /// without its LF yet the bytes are refused only once no LF could still make them a line
    /// within the limit, so the outcome never depends on where reads end.
    func mailboxLineLength<Failure: Error>(limit: Int, tooLong: Failure) throws(Failure) -> Int? {
        guard let lf = readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if readableBytes > limit + 1 { throw tooLong }
            return nil
        }
        let length = lf - readerIndex + 1
        if length > limit + 2 { throw tooLong }
        return length
    }
}
