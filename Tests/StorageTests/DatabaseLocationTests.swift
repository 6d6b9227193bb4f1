import Testing
@testable import Storage

/// `[Root] Database` URLs: what is understood, and errors that say what is wrong without
/// repeating a password into the log.
@Suite struct DatabaseLocationTests {
    @Test func aFullURLIsUnderstoodAndItsDescriptionHasNoPassword() throws {
        let location = try DatabaseLocation(parsing: "postgresql://moat:s3cr%40t@db.example.org:6432/mail")
        #expect(location == DatabaseLocation(user: "moat", password: "s3cr@t", host: "db.example.org", port: 6432, database: "mail"))
        #expect(location.description == "postgresql://moat@db.example.org:6432/mail")
        #expect(try DatabaseLocation(parsing: "postgres://moat@[::1]/mail").port == 5432)
    }

    @Test(arguments: ["mysql://moat:hunter2@db/mail", "postgresql://:hunter2@db/mail", "postgresql://moat:hunter2@/mail",
                      "postgresql://moat:hunter2@db/", "postgresql://moat:hunter2@db:70000/mail"])
    func anErrorNeverRepeatsThePassword(_ url: String) {
        #expect {
            try DatabaseLocation(parsing: url)
        } throws: { error in
            let text = "\(error)"
            return text.contains("Database") && !text.contains("hunter2")
        }
    }
}
