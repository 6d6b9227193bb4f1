import MailD

/// Whether one TLS session is unwrapped, decided when its ClientHello is in hand.
///
/// `UnwrapSsl` gives the default; the LinuxFirewall rule set can change it per connection with
/// `SET unwrap_ssl = yes|no`, looking at what is known before any mail flows: `protocol`,
/// client and server addresses and ports, `sni_host` and `unwrap_ssl` itself. The rules run
/// here on those connection facts only; their final actions are for the messages later and
/// are not taken here. A pair on the pass-through list is never unwrapped.
enum UnwrapDecision {
    struct Result: Equatable {
        var unwrap: Bool
        var why: String
    }

    static func decide(settings: GateSettings, profile: CheckProfile, protocol gateProtocol: GateProtocol,
                       info: ConnectionInfo, sni: String?, passedThrough: Bool) -> Result {
        if passedThrough {
            return Result(unwrap: false, why: "pass-through (the client refused Moat's certificate, or the server failed verification, recently)")
        }
        let connection = ConnectionFacts(source: source(gateProtocol), clientAddress: info.clientAddress, clientPort: info.clientPort,
                                         serverAddress: info.serverAddress, serverPort: info.serverPort, sniHost: sni)
        if let set = profile.unwrapSsl(for: connection, default: settings.unwrapSsl) {
            return Result(unwrap: set, why: "rule `SET unwrap_ssl = \(set ? "yes" : "no")`")
        }
        return Result(unwrap: settings.unwrapSsl, why: "UnwrapSsl = \(settings.unwrapSsl ? "Yes" : "No")")
    }

    static func source(_ gateProtocol: GateProtocol) -> Envelope.Source {
        switch gateProtocol {
        case .smtp: .smtp
        case .pop3: .pop3
        case .imap: .imap
        }
    }
}
