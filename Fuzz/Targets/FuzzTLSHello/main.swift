// TLS ClientHello / SNI as the Gate handles it (TLSUnwrapper): the client's first bytes go
// through NIOTLS's SNIHandler (a copy of its source is compiled into this target by run.sh so
// that it is instrumented: SNIHandler.swift, from the resolved swift-nio), the name it finds
// decides the unwrapping (UnwrapDecision with a LinuxFirewall rule on sni_host), picks the
// upstream policy and becomes the SNI of Moat's own ClientHello to the server.
//
// Invariants: the same bytes, split anywhere, give the same SNI result; once the result is in,
// every byte the client sent is passed on, unchanged and in order (the held ClientHello goes to
// the TLS handler or the blind relay); a hostname result is ASCII without NUL.
import FuzzKit
@testable import Gate
import MailD
import NIOCore
import NIOEmbedded
import NIOSSL

let settings = GateSettings()
let profile = CheckProfile(name: "LinuxFirewall", rules: [
    #"sni_host match "\\.bank\\." : SET unwrap_ssl = no"#,
    #"sni_host "mx.example.org" : SET unwrap_ssl = yes"#,
])
let clientContext = try! NIOSSLContext(configuration: .makeClientConfiguration())

// Lazily initialised globals (the rule language's tables, NIOSSL's) are made before fuzzing
// starts, so that LeakSanitizer does not take them for a leak of the first input using them.
_ = UnwrapDecision.decide(settings: settings, profile: profile, protocol: .smtp, info: ConnectionInfo(), sni: "a.bank.b",
                          passedThrough: false)
_ = try? NIOSSLClientHandler(context: clientContext, serverHostname: "warm.example")

func run(_ pieces: [[UInt8]]) -> (result: SNIResult?, passed: [UInt8]) {
    let loop = EmbeddedEventLoop()
    var result: SNIResult?
    let handler = ByteToMessageHandler(SNIHandler { found in
        invariant(result == nil, "SNI result reported twice")
        result = found
        return loop.makeSucceededFuture(())
    })
    let channel = EmbeddedChannel(handler: handler, loop: loop)
    var passed: [UInt8] = []
    for piece in pieces {
        do { try channel.writeInbound(ByteBuffer(bytes: piece)) } catch { fatalError("SNIHandler threw \(error)") }
        loop.run()
        while let bytes = try? channel.readInbound(as: ByteBuffer.self) { passed += bytes.bytes }
    }
    _ = try? channel.finish(acceptAlreadyClosed: true)
    return (result, passed)
}

runFuzzer { input in
    let splits = Splits(input)
    let whole = run([splits.payload])
    let pieces = run(splits.pieces)
    invariant(whole.result == pieces.result, "split changes the SNI result: \(String(describing: whole.result)) vs \(String(describing: pieces.result))")
    if whole.result != nil {
        invariant(whole.passed == splits.payload, "the held ClientHello was not passed on unchanged")
        invariant(pieces.passed == splits.payload, "the held ClientHello (in pieces) was not passed on unchanged")
    } else {
        invariant(whole.passed.isEmpty && pieces.passed.isEmpty, "bytes passed on before the SNI result")
    }
    guard let result = whole.result else { return }
    // SNIHandler takes any ASCII; TLSUnwrapper keeps only what a DNS name can hold (finding 7).
    let name: String? = if case .hostname(let host) = result { TLSUnwrapper.dnsName(host) } else { nil }
    if let name {
        invariant(name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f }, "hostname with control, NUL or non-ASCII bytes: \(name.debugDescription)")
    }
    for gateProtocol in [GateProtocol.smtp, .imap] {
        let decision = UnwrapDecision.decide(settings: settings, profile: profile, protocol: gateProtocol,
                                             info: ConnectionInfo(clientAddress: "192.0.2.1", clientPort: 40000,
                                                                  serverAddress: "198.51.100.2", serverPort: 465),
                                             sni: name, passedThrough: false)
        _ = decision.why
    }
    for port in [25, 465, 993] {
        for mode in [GateSettings.MxVerification.no, .yes, .dane] {
            _ = TLSInterception.policy(port: port, serverName: name, verifyMx: mode)
        }
    }
    // The name becomes the SNI of Moat's ClientHello upstream: refused or taken, never a crash.
    _ = try? NIOSSLClientHandler(context: clientContext, serverHostname: name)
}
