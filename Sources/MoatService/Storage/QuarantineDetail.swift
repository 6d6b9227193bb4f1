import MIME
import Storage

/// What `moat-ctl quarantine show` and the console show of a kept item: its row, its header
/// fields (decoded, capped) and its parts; never the message rendered.
public struct QuarantineDetail: Sendable, Codable, Equatable {
    public struct Field: Sendable, Codable, Equatable {
        public var name: String
        public var value: String
    }

    public struct PartSummary: Sendable, Codable, Equatable {
        public var path: String
        public var contentType: String
        public var filename: String?
        public var size: Int
    }

    public var record: QuarantineRecord
    /// Where the bytes were found: "file" (this node's quarantine directory), "database"
    /// (a copy another node stored), or nil when neither has them.
    public var source: String?
    public var headers: [Field]
    public var parts: [PartSummary]

    static let maxFields = 200
    static let maxValue = 2000

    init(record: QuarantineRecord, bytes: [UInt8]?, source: String?) {
        self.record = record
        self.source = bytes == nil ? nil : source
        guard let bytes, record.kind == .message else {
            headers = []
            parts = []
            return
        }
        let message = MIMEMessage(bytes: bytes)
        headers = message.headers.prefix(Self.maxFields).map { Field(name: $0.name, value: String($0.value.prefix(Self.maxValue))) }
        parts = message.leaves.prefix(Self.maxFields).map {
            PartSummary(path: $0.path.description, contentType: $0.mimeType, filename: $0.filename, size: $0.bodySize)
        }
    }
}

/// What a release did.
public struct ReleaseOutcome: Sendable, Codable, Equatable {
    public var id: String
    public var releasedBy: String
    public var relay: String
    public var accepted: [String]
    public var refused: [String]
    public var relayReply: String
}
