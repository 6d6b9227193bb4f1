import NIOCore

/// Bounds on one request of a filter protocol that sends a head of lines before the message
/// (spamd, rspamd): bad or slow input costs a bounded amount of memory and time. Each protocol
/// answers a limit in its own words (`SpamdLimits`, `RspamdLimits`).
public struct RequestLimits: Sendable {
    /// Largest message accepted (`Content-length`, or bytes read to EOF).
    public var maxMessageSize: Int
    public var maxLineLength: Int
    /// spamd refuses more than 255 header lines; rspamd is held to the same.
    public var maxHeaderCount: Int
    /// Silence allowed between two reads.
    public var readTimeout: TimeAmount
    /// Whole request (head and message) must arrive within this.
    public var requestTimeout: TimeAmount

    public init(maxMessageSize: Int = 512 << 20, maxLineLength: Int = 8192, maxHeaderCount: Int = 255,
                readTimeout: TimeAmount = .seconds(30), requestTimeout: TimeAmount = .minutes(10)) {
        self.maxMessageSize = maxMessageSize
        self.maxLineLength = maxLineLength
        self.maxHeaderCount = maxHeaderCount
        self.readTimeout = readTimeout
        self.requestTimeout = requestTimeout
    }
}
