import Foundation

/// The text of the report added to a repacked message, per language. Built-in texts for en,
/// ru and de; a file `TemplatesDir/<lang>/repack.txt` overrides one (same placeholders:
/// {{reason}}, {{parts}}, {{archive}}, {{password}}, {{id}}, {{contacts}}).
enum ReportTemplates {
    struct Fill {
        var reason: String
        /// One line per removed part.
        var parts: [String]
        var archive: String
        var passwordKind: PasswordKind
        var archiveId: String
        var contacts: String
    }

    enum PasswordKind { case none, plain, hmac }

    static let builtin: [String: String] = [
        "en": """
            This message was repacked by Moat, the mail gateway: {{reason}}.
            These parts were removed:
            {{parts}}
            They are in the attached archive {{archive}}. {{password}}
            Archive identifier: {{id}}
            {{contacts}}
            """,
        "ru": """
            Это сообщение было перепаковано почтовым шлюзом Moat: {{reason}}.
            Удалены следующие части:
            {{parts}}
            Они находятся в приложенном архиве {{archive}}. {{password}}
            Идентификатор архива: {{id}}
            {{contacts}}
            """,
        "de": """
            Diese Nachricht wurde vom Mail-Gateway Moat neu verpackt: {{reason}}.
            Folgende Teile wurden entfernt:
            {{parts}}
            Sie befinden sich im angehängten Archiv {{archive}}. {{password}}
            Archivkennung: {{id}}
            {{contacts}}
            """,
    ]

    static let passwordNotes: [String: [PasswordKind: String]] = [
        "en": [.none: "The archive has no password; open it with care.",
               .plain: "The archive is password-protected; your administrator has the password.",
               .hmac: "The archive is password-protected; your administrator can tell you its password from the identifier below."],
        "ru": [.none: "Архив не защищён паролем; открывайте его с осторожностью.",
               .plain: "Архив защищён паролем; пароль есть у вашего администратора.",
               .hmac: "Архив защищён паролем; администратор сообщит его по идентификатору ниже."],
        "de": [.none: "Das Archiv hat kein Passwort; öffnen Sie es mit Vorsicht.",
               .plain: "Das Archiv ist passwortgeschützt; Ihr Administrator kennt das Passwort.",
               .hmac: "Das Archiv ist passwortgeschützt; Ihr Administrator nennt Ihnen das Passwort anhand der Kennung unten."],
    ]

    static let contactsPrefix = ["en": "Contact: ", "ru": "Контакты: ", "de": "Kontakt: "]

    /// The report in each language, in order, separated by a rule line. Languages without a
    /// template fall back to English once.
    static func render(languages: [String], templatesDir: String?, fill: Fill) -> String {
        var seen: Set<String> = []
        var sections: [String] = []
        for requested in languages {
            let language = builtin[requested] != nil || custom(requested, templatesDir) != nil ? requested : "en"
            guard seen.insert(language).inserted else { continue }
            let template = custom(language, templatesDir) ?? builtin[language]!
            let notes = passwordNotes[language] ?? passwordNotes["en"]!
            let contacts = fill.contacts.isEmpty ? "" : (contactsPrefix[language] ?? "Contact: ") + fill.contacts
            let text = template
                .replacingOccurrences(of: "{{reason}}", with: fill.reason)
                .replacingOccurrences(of: "{{parts}}", with: fill.parts.map { "  - " + $0 }.joined(separator: "\n"))
                .replacingOccurrences(of: "{{archive}}", with: fill.archive)
                .replacingOccurrences(of: "{{password}}", with: notes[fill.passwordKind] ?? "")
                .replacingOccurrences(of: "{{id}}", with: fill.archiveId)
                .replacingOccurrences(of: "{{contacts}}", with: contacts)
            sections.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return sections.joined(separator: "\n\n----------------------------------------\n\n") + "\n"
    }

    static func custom(_ language: String, _ directory: String?) -> String? {
        guard let directory else { return nil }
        return try? String(contentsOfFile: "\(directory)/\(language)/repack.txt", encoding: .utf8)
    }
}
