import Foundation

/// Messages decided in one hour by one interface with one verdict, summed over the nodes
/// (or for one node when asked so).
public struct HourlyCount: Sendable, Codable, Equatable {
    public var hour: Date
    public var interface: String
    public var verdict: String
    public var messages: Int

    public init(hour: Date, interface: String, verdict: String, messages: Int) {
        self.hour = hour
        self.interface = interface
        self.verdict = verdict
        self.messages = messages
    }
}

/// What one retention pass removed; `files` are the quarantine files of this node to unlink.
public struct ExpiryResult: Sendable, Equatable {
    public var logRows: Int
    public var quarantineRows: Int
    public var files: [String]

    public init(logRows: Int = 0, quarantineRows: Int = 0, files: [String] = []) {
        self.logRows = logRows
        self.quarantineRows = quarantineRows
        self.files = files
    }
}
