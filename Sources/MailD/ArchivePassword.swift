import Crypto
import Foundation
import MoatConfig

/// `RepackPassword`: the archive's password for one repacked message.
///
/// `HMAC(secret)` derives a password per message from the secret and the archive identifier
/// the message carries (`X-Moat-Archive-Id`), so the administrator can recover it later with
/// `moat-ctl repack-password <id>` without Moat storing any password.
public enum ArchivePassword {
    public static func password(for setting: RepackPassword, archiveId: String) -> String? {
        switch setting {
        case .none: nil
        case .plain(let password): password
        case .hmac(let secret): derive(secret: secret, archiveId: archiveId)
        }
    }

    public struct RecoveryFailure: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// `moat-ctl repack-password` and the console: the password of the archive `archiveId`
    /// (surrounding blanks ignored) under the configured `[MailD] RepackPassword`. Only
    /// `HMAC(secret)` passwords are recovered; the other settings say why not.
    public static func recover(archiveId: String, values: ConfigValues) throws(RecoveryFailure) -> String {
        let id = archiveId.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !id.isEmpty else { throw RecoveryFailure(description: "no archive identifier given") }
        switch values.mailD.repackPassword {
        case .none:
            throw RecoveryFailure(description: "MailD.RepackPassword is None: archives have no password")
        case .plain:
            throw RecoveryFailure(description: "MailD.RepackPassword is Plain(...): every archive uses that password")
        case .hmac(let secret):
            return derive(secret: secret, archiveId: id)
        }
    }

    /// HMAC-SHA256 of the identifier keyed with the secret, first 96 bits as 24 hex digits:
    /// typeable, and no shorter than a strong human password.
    public static func derive(secret: String, archiveId: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(archiveId.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// A fresh identifier: time-ordered for people, random enough never to repeat.
    public static func newArchiveId() -> String {
        let stamp = Int(Date().timeIntervalSince1970)
        let random = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return "moat-\(stamp)-\(random)"
    }
}
