import ArgumentParser
import Foundation
import SenderAuth

#if canImport(Glibc)
import Glibc
#endif

struct ARCKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arc-key",
        abstract: "Make the key Moat seals changed messages with (ARC), and print the DNS record to publish.",
        discussion: """
        Writes a new private key (PKCS#8 PEM, mode 0600) to the file given and prints the TXT \
        record to publish at <selector>._domainkey.<domain> in zone-file syntax. With --show, \
        reads an existing key instead and prints its record. RSA keys are 2048 bits unless \
        --bits says more; ed25519 keys (RFC 8463) are not yet checked by every receiver.
        """)

    @Argument(help: "The private key file to write (or read with --show).")
    var keyFile: String

    @Option(help: "The selector (the s= of the seals).")
    var selector: String = "moat"

    @Option(help: "The signing domain (the d= of the seals).")
    var domain: String

    @Option(help: "rsa or ed25519.")
    var type: String = "rsa"

    @Option(help: "RSA key size in bits (2048 or more).")
    var bits: Int = 2048

    @Flag(help: "Print the record of an existing key instead of making one.")
    var show = false

    func run() throws {
        let key: SigningKey
        do {
            if show {
                key = try SigningKey(pem: String(contentsOfFile: keyFile, encoding: .utf8))
            } else {
                guard let kind = DKIMKeyRecord.KeyType(rawValue: type.lowercased()) else {
                    printError("--type must be rsa or ed25519")
                    throw ExitCode(64)
                }
                guard kind != .rsa || (2048...8192).contains(bits) else {
                    printError("--bits must be 2048 to 8192")
                    throw ExitCode(64)
                }
                key = try SigningKey.generate(kind, rsaBits: bits)
                try Self.writePrivate(key.pemRepresentation, to: keyFile)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("\(keyFile): \(error)")
            throw CtlExit.failure
        }
        print(key.zoneLine(selector: selector, domain: domain))
    }

    /// Created 0600 and never over an existing file (a key in use must not be lost).
    static func writePrivate(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw WriteFailure(description: "exists; not replaced (a key in use must not be lost)") }
            throw WriteFailure(description: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw WriteFailure(description: String(cString: strerror(errno))) }
            written += n
        }
    }
}

struct WriteFailure: Error, CustomStringConvertible {
    var description: String
}
