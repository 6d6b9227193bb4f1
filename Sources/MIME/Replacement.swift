/// A change to one part, applied by `MessageWriter`.
public enum Replacement: Hashable, Sendable {
    /// Remove the part. In a multipart the part's delimiter line goes too; a
    /// uuencoded block is cut out of its text; the root or an embedded message
    /// becomes empty.
    case remove
    /// New body bytes written as they are (already transfer-encoded); header kept.
    case rawBody([UInt8])
    /// New decoded content, encoded with the part's existing Content-Transfer-Encoding
    /// (base64, quoted-printable or uuencode), so the header stays valid.
    case body([UInt8])
    /// New bytes for the whole entity, header and body (for uuencoded blocks: the block).
    case rawEntity([UInt8])
    /// Replace the part by a text/plain UTF-8 part, e.g. a "removed attachment" notice.
    /// Header fields other than Content-* are kept, so replacing the root keeps
    /// From, To, Subject and so on.
    case textPart(String)
}
