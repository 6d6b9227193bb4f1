import Foundation
import Logging
import Storage
import SystemSetupSupport

/// The two backends every store test runs against.
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgresql

    var description: String { rawValue }

    /// A fresh, migrated store: a new SQLite file, or a new database on the test process's
    /// PostgreSQL server.
    func open() async throws -> (store: any GatewayStore, database: String) {
        switch self {
        case .sqlite:
            let path = NSTemporaryDirectory() + "moat-store-\(UUID().uuidString)/moat.sqlite"
            return (try await GatewayStores.open(database: "", sqlitePath: path, logger: Self.logger), path)
        case .postgresql:
            let url = try await PrivatePostgres.shared().createDatabase()
            return (try await GatewayStores.open(database: url, sqlitePath: nil, logger: Self.logger), url)
        }
    }

    /// The same database again (a second node, or a restart).
    func reopen(_ database: String) async throws -> any GatewayStore {
        switch self {
        case .sqlite: try await GatewayStores.open(database: "", sqlitePath: database, logger: Self.logger)
        case .postgresql: try await GatewayStores.open(database: database, sqlitePath: nil, logger: Self.logger)
        }
    }

    static let logger = Logger(label: "StorageTests")
}

extension MessageLogEntry {
    static func sample(node: String = "a", recipients: [String] = ["bob@example.org"], sender: String = "Alice@Example.COM",
                       verdict: String = "pass", time: Date = Date(), messageId: String? = nil,
                       interface: String = "Milter") -> MessageLogEntry {
        MessageLogEntry(time: time, node: node, interface: interface, clientAddress: "192.0.2.7", sender: sender,
                        recipients: recipients, messageId: messageId ?? "<\(UUID().uuidString)@example.com>",
                        subject: "Hello <script>", size: 1234, verdict: verdict, threats: verdict == "reject" ? ["Eicar-Test-Signature"] : [],
                        spamScore: 1.5, spamSymbols: ["MIME_HTML_ONLY"], reason: "rule 1")
    }
}
