/// What one check may read, so that junk costs bounded time and memory whatever its size.
public struct AntiSpamLimits: Sendable, Hashable {
    /// Bytes of one text part that are decoded and read (the rest is not looked at).
    public var maxPartBytes: Int
    /// Text parts read per message.
    public var maxTextParts: Int
    /// Body words (before bigrams) per message.
    public var maxBodyTokens: Int
    /// URLs looked at per message.
    public var maxURLs: Int

    public init(maxPartBytes: Int = 512 * 1024, maxTextParts: Int = 16, maxBodyTokens: Int = 3000, maxURLs: Int = 200) {
        self.maxPartBytes = maxPartBytes
        self.maxTextParts = maxTextParts
        self.maxBodyTokens = maxBodyTokens
        self.maxURLs = maxURLs
    }
}
