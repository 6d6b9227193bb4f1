// A fixed table of answers: what unit tests of SPF, DKIM and DMARC logic resolve against.
// End-to-end tests use the real resolver against a real authoritative server instead.

public struct DNSTable: DNSLookup {
    public struct Key: Hashable, Sendable {
        public var name: String
        public var type: DNSRecordType
        public init(_ name: String, _ type: DNSRecordType) {
            self.name = DNSName.normalized(name)
            self.type = type
        }
    }

    private var answers: [Key: DNSAnswer]

    public init(_ answers: [Key: DNSAnswer] = [:]) {
        self.answers = answers
    }

    public mutating func set(_ name: String, _ type: DNSRecordType, _ answer: DNSAnswer) {
        answers[Key(name, type)] = answer
    }

    /// Adds one TXT record holding `text` as a single string (split in 255-byte strings).
    public mutating func addTXT(_ name: String, _ text: String) {
        let bytes = Array(text.utf8)
        let strings = stride(from: 0, to: max(bytes.count, 1), by: 255).map {
            Array(bytes[$0..<min($0 + 255, bytes.count)])
        }
        add(name, .txt, .txt(strings))
    }

    public mutating func add(_ name: String, _ type: DNSRecordType, _ record: DNSRecord) {
        let key = Key(name, type)
        var list = answers[key]?.records ?? []
        list.append(record)
        answers[key] = DNSAnswer(.records(list), ttl: 300)
    }

    /// Names not in the table: NXDOMAIN unless another type exists at the name (then NODATA).
    public func lookup(_ name: String, _ type: DNSRecordType) async -> DNSAnswer {
        let key = Key(name, type)
        if let answer = answers[key] { return answer }
        let exists = answers.keys.contains { $0.name == key.name }
        return DNSAnswer(exists ? .noData : .nxdomain, ttl: 300)
    }
}

public enum DNSName {
    /// Lower case, no trailing dot: how names are compared and keyed.
    public static func normalized(_ name: String) -> String {
        var n = name.lowercased()
        while n.hasSuffix(".") { n.removeLast() }
        return n
    }
}
