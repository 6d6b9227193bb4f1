import Synchronization

/// Parsed SPF records by their text. The DNS answers are cached by the resolver, but parsing
/// the same record again cost about 46,000 instructions on every message from a domain (a
/// tenth of the sender checks). Parsing is a function of the text alone, so a record parsed
/// once, or refused once, is the same answer every time.
///
/// At most `capacity` texts are kept, each at most `SPFRecord.maxLength` bytes (the shared
/// table: 1,024 of 4 KB at worst, some 10 MB with their parsed form); when full the table
/// starts again empty, so senders publishing ever new records cost parsing, not memory.
final class SPFRecordCache: Sendable {
    static let shared = SPFRecordCache(capacity: 1024)

    let capacity: Int
    private let parsed = Mutex<[[UInt8]: Result<SPFRecord, SPFSyntaxError>]>([:])

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The record `text` holds, or why it is not one.
    func record(_ text: [UInt8]) throws(SPFSyntaxError) -> SPFRecord {
        if let known = parsed.withLock({ $0[text] }) { return try known.get() }
        let result: Result<SPFRecord, SPFSyntaxError>
        do {
            result = .success(try SPFRecord(parsing: String(decoding: text, as: UTF8.self)))
        } catch {
            result = .failure(error)
        }
        // Texts longer than a record may be are refused by the parse and not kept.
        if text.count <= SPFRecord.maxLength {
            parsed.withLock { table in
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
                table[text] = result
            }
        }
        return try result.get()
    }

    /// Texts kept (tests).
    var count: Int { parsed.withLock { $0.count } }
}
