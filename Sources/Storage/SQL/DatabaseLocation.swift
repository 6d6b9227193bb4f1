import Foundation

/// `[Root] Database`: empty for SQLite in VarDir, or `postgresql://user[:password]@host[:port]/database`.
public struct DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(user: String, password: String? = nil, host: String, port: Int = 5432, database: String) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
    }

    /// Parses the URL form; the message of `Invalid` says what is expected. It does not
    /// repeat the value: a password in it would end up in the log.
    public init(parsing text: String) throws(Invalid) {
        let expected = "expected postgresql://user@host:port/database"
        guard let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "postgresql" || scheme == "postgres"
        else { throw Invalid(description: "the Database value is not a PostgreSQL URL; \(expected)") }
        guard let user = components.user, !user.isEmpty else { throw Invalid(description: "no user in the Database URL; \(expected)") }
        guard let host = components.host, !host.isEmpty else { throw Invalid(description: "no host in the Database URL; \(expected)") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "no database in the Database URL; \(expected)")
        }
        if let port = components.port, !(1...65535).contains(port) { throw Invalid(description: "port out of range in the Database URL") }
        self.init(user: user.removingPercentEncoding ?? user, password: components.password?.removingPercentEncoding,
                  host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: components.port ?? 5432,
                  database: database)
    }

    /// Without the password, for logs and appinfo.
    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }
}
