import MailD

/// One scanned message: where it came from and what was found.
public struct NamedReport: Codable, Sendable {
    public var name: String
    public var report: CheckReport?
    /// Set when the message could not be read at all.
    public var error: String?

    public init(name: String, report: CheckReport?, error: String? = nil) {
        self.name = name
        self.report = report
        self.error = error
    }
}
