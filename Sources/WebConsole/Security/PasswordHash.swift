import Crypto
import Foundation
import _CryptoExtras

/// The stored form of the console password: PBKDF2-HMAC-SHA256 with a random 128-bit salt
/// and 600,000 rounds (OWASP's figure for this function), as
/// `pbkdf2-sha256$<rounds>$<salt base64>$<key base64>`. Never the password, never a plain hash.
enum PasswordHash {
    static let scheme = "pbkdf2-sha256"
    static let defaultRounds = 600_000
    /// Below this a stored hash is refused as too weak (PBKDF2's own floor in swift-crypto).
    static let minimumRounds = 210_000

    static func make(_ password: String, rounds: Int = defaultRounds) throws -> String {
        let salt = SecureRandom.bytes(16)
        let key = try derive(password, salt: salt, rounds: rounds)
        return [scheme, String(rounds), Data(salt).base64EncodedString(), Data(key).base64EncodedString()]
            .joined(separator: "$")
    }

    /// False for a wrong password and for anything that is not a hash of this form.
    static func verify(_ password: String, against stored: String) -> Bool {
        let fields = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == scheme, let rounds = Int(fields[1]), rounds >= minimumRounds,
              let salt = Data(base64Encoded: String(fields[2])), let expected = Data(base64Encoded: String(fields[3])),
              !salt.isEmpty, expected.count == 32,
              let key = try? derive(password, salt: [UInt8](salt), rounds: rounds)
        else { return false }
        return ConstantTime.equal(key, [UInt8](expected))
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: salt, using: .sha256,
                                                    outputByteCount: 32, rounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }
}

enum ConstantTime {
    /// Compares without stopping at the first difference.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func equal(_ a: String, _ b: String) -> Bool { equal(Array(a.utf8), Array(b.utf8)) }
}

/// Tokens and salts from the system's CSPRNG (getrandom on Linux).
enum SecureRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// 256 bits as URL-safe base64 without padding: fits a cookie and a form field unescaped.
    static func token() -> String {
        Data(bytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A password people can type: 20 characters from an alphabet without look-alikes (~100 bits).
    static func password(length: Int = 20) -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
