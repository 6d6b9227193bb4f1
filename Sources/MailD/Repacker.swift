import Foundation
import MIME
import MoatConfig

/// REPACK: the message keeps its header and clean parts byte for byte; each removed part is
/// replaced by a one-line notice; the original body becomes the second part of a new
/// multipart/mixed whose first part is the report and last part the archive of what was
/// removed.
public struct Repacker: Sendable {
    public struct Settings: Sendable {
        public var languages: [String]
        public var templatesDir: String?
        public var contacts: String
        public var password: RepackPassword
        public var archiveName: String

        public init(languages: [String] = ["en"], templatesDir: String? = nil, contacts: String = "",
                    password: RepackPassword = .none, archiveName: String = "quarantine.zip") {
            self.languages = languages
            self.templatesDir = templatesDir
            self.contacts = contacts
            self.password = password
            self.archiveName = archiveName
        }

        public init(_ values: ConfigValues) {
            let mailD = values.mailD
            self.init(languages: mailD.reportLanguages, templatesDir: mailD.templatesDir,
                      contacts: mailD.templateContacts, password: mailD.repackPassword)
        }
    }

    public struct Result: Sendable {
        public var message: [UInt8]
        public var archiveId: String
        /// Paths of the parts moved into the archive.
        public var removed: [String]
        /// The protected archive itself (kept in the quarantine too).
        public var archive: [UInt8] = []
    }

    public let settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    /// Moves the parts that `report` found threats in (and unchecked parts when
    /// `includeUnchecked`) into the archive. Nil when nothing is to be removed.
    public func repack(_ bytes: [UInt8], report: CheckReport, reason: String, includeUnchecked: Bool = false) throws -> Result? {
        let message = MIMEMessage(bytes: bytes)
        let targets = report.parts.filter { !$0.threats.isEmpty || (includeUnchecked && !$0.unchecked.isEmpty) }
        guard !targets.isEmpty else { return nil }
        let archiveId = ArchivePassword.newArchiveId()

        var replacements: [PartPath: Replacement] = [:]
        var files: [(name: String, bytes: [UInt8])] = []
        var lines: [String] = []
        for target in targets {
            guard let path = PartPath(target.path), let part = message.part(at: path) else { continue }
            let name = target.filename ?? "part-\(target.path).bin"
            files.append((name, message.decodedBody(of: part)))
            let findings = target.threats.map { "\($0.name) (\($0.category))" } + target.unchecked.map { "unchecked: \($0)" }
            let line = "part \(target.path) \"\(name)\" (\(target.contentType), \(target.size) bytes): " + findings.joined(separator: ", ")
            lines.append(line)
            replacements[path] = .textPart("[Moat removed \"\(name)\": \(findings.joined(separator: ", ")). It is in \(settings.archiveName), archive \(archiveId).]\n")
        }
        let password = ArchivePassword.password(for: settings.password, archiveId: archiveId)
        let archive = try ProtectedArchive.make(files, password: password)
        let kind: ReportTemplates.PasswordKind = switch settings.password {
        case .none: .none
        case .plain: .plain
        case .hmac: .hmac
        }
        let reportText = ReportTemplates.render(languages: settings.languages, templatesDir: settings.templatesDir, fill: .init(
            reason: reason, parts: lines, archive: settings.archiveName, passwordKind: kind, archiveId: archiveId,
            contacts: settings.contacts))
        let cleaned = message.emit(replacing: replacements)
        let rebuilt = Self.wrap(cleaned, report: reportText, archive: archive, archiveName: settings.archiveName,
                                archiveId: archiveId)
        return Result(message: rebuilt, archiveId: archiveId, removed: targets.map(\.path), archive: archive)
    }

    /// The new top level: the original header fields except the MIME ones, then a
    /// multipart/mixed of report, original body (with its own Content-* fields) and archive.
    static func wrap(_ cleaned: [UInt8], report: String, archive: [UInt8], archiveName: String, archiveId: String) -> [UInt8] {
        let parsed = MIMEMessage(bytes: cleaned)
        let eol: [UInt8] = cleaned.firstIndex(of: 0x0A).map { $0 > 0 && cleaned[$0 - 1] == 0x0D } == false ? [0x0A] : [0x0D, 0x0A]
        let nl = String(decoding: eol, as: UTF8.self)
        var top: [UInt8] = []
        var inner: [UInt8] = []
        for field in parsed.root.headers {
            let raw = cleaned[field.range]
            let name = field.lowercasedName
            if name.hasPrefix("content-") { inner += raw } else if name != "mime-version" { top += raw }
        }
        let boundary = "=_moat_\(archiveId)"
        top += Array("X-Moat-Archive-Id: \(archiveId)\(nl)MIME-Version: 1.0\(nl)".utf8)
        top += Array("Content-Type: multipart/mixed; boundary=\"\(boundary)\"\(nl)\(nl)".utf8)
        var body = Array("This is a multi-part message in MIME format.\(nl)".utf8)
        body += Array("--\(boundary)\(nl)Content-Type: text/plain; charset=utf-8\(nl)Content-Transfer-Encoding: base64\(nl)Content-Disposition: inline\(nl)\(nl)".utf8)
        body += Base64Encoder.encode(Array(report.utf8), lineEnding: eol) + eol
        body += Array("--\(boundary)\(nl)".utf8)
        body += inner + eol + cleaned[min(parsed.root.bodyRange.lowerBound, cleaned.count)...]
        if !(body.last == 0x0A) { body += eol }
        body += Array("--\(boundary)\(nl)Content-Type: application/zip; name=\"\(archiveName)\"\(nl)Content-Transfer-Encoding: base64\(nl)Content-Disposition: attachment; filename=\"\(archiveName)\"\(nl)\(nl)".utf8)
        body += Base64Encoder.encode(archive, lineEnding: eol) + eol
        body += Array("--\(boundary)--\(nl)".utf8)
        return top + body
    }
}
