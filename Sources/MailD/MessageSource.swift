/// Where the message bytes are: in memory (small messages, the usual case) or in a spool
/// file the front-end wrote (large ones), so a front-end never has to hold a huge message.
public enum MessageSource: Sendable {
    case bytes([UInt8])
    case file(path: String)
}
