import ArgumentParser
import CertificateStore
import Foundation
import MoatConfig

struct CertificateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate",
        abstract: "Print the CA certificate clients and servers must trust for TLS unwrapping.",
        discussion: """
        PEM by default (moat-ctl certificate > ca.pem), DER with --der. The CA is generated on \
        first use in VarDir/ca (key mode 0600) unless [LinuxFirewall] CaCertificate/CaKey name \
        your own.
        """)

    @OptionGroup var location: ConfigLocation

    @Flag(help: "Write DER instead of PEM.")
    var der = false

    func run() throws {
        let config = try location.load(allowMissing: true)
        let authority: CertificateAuthority
        do {
            authority = try CertificateAuthority.loadOrCreate(CertificateAuthority.Settings(config.values))
        } catch {
            printError("\(error)")
            throw CtlExit.failure
        }
        if der {
            FileHandle.standardOutput.write(Data(authority.der))
        } else {
            print(authority.pem, terminator: "")
        }
    }
}
