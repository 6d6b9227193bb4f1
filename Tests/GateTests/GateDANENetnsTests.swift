import DNSTestSupport
import Foundation
import Testing
@testable import Gate

/// `VerifyMxCertificates = Dane` end to end in the gateway namespaces: a real NSD in the
/// server's namespace serves DNSSEC-signed TLSA records, the real moatd's validating resolver
/// asks it, swaks sends through the Gate to Postfix on port 25 (STARTTLS) with the MX name as
/// SNI. The server's certificate is for mail.test only, so a delivery to mx.dane.example can
/// only have been verified by its TLSA record (DANE-EE: no name check), not by the CA.
/// Part of GateTLSNetnsTests' suite: it builds the same namespaces and veth pairs, so it must
/// never run beside them.
extension GateTLSNetnsTests {
    @Test func tlsaDecidesThePort25Upstream() async throws {
        let lab = try await TLSNetnsLab.start(postfix: true, dovecot: false, startingMoatd: false,
                                              extraHosts: ["mx.dane.example", "mx.wrong.example", "mx.bogus.example"])
        let postfix = try #require(lab.postfix)
        let spki = await lab.command("/bin/sh", ["-c", "/usr/bin/openssl x509 -in '\(lab.root)/mail.pem' -pubkey -noout"
            + " | /usr/bin/openssl pkey -pubin -outform der | /usr/bin/openssl dgst -sha256 -hex"])
        let hash = try #require(spki.out.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        try #require(hash.count == 64, "SPKI hash: \(spki.out) \(spki.err)")
        let dns = try await TestDNSServer.start(zones: [
            .init("dane.example", signing: .signed, records: ["_25._tcp.mx TLSA 3 1 1 \(hash)"]),
            .init("wrong.example", signing: .signed, records: ["_25._tcp.mx TLSA 3 1 1 \(String(repeating: "ab", count: 32))"]),
            .init("bogus.example", signing: .brokenSignature, records: ["_25._tcp.mx TLSA 3 1 1 \(hash)"]),
        ], address: TLSNetnsLab.serverIP, namespace: lab.server.name)
        defer { dns.stop() }
        try dns.trustAnchors.joined(separator: "\n").write(toFile: lab.root + "/anchors.key", atomically: true, encoding: .utf8)
        try await lab.startMoatd(extra: [
            "Root": "DnsResolver = \(TLSNetnsLab.serverIP)@\(dns.port)\nDnsTrustAnchor = \(lab.root)/anchors.key",
            "LinuxFirewall": "VerifyMxCertificates = Dane",
        ])
        let clean = lab.root + "/clean.eml"
        try String(GateFixtures.cleanMessage("dane").dropLast()).write(toFile: clean, atomically: true, encoding: .utf8)

        // A signed TLSA record that matches: unwrapped (Moat's leaf for the MX name), scanned, delivered.
        let before = postfix.queueFiles()
        let peer = lab.root + "/peer.pem"
        let sent = await lab.swaks(host: "mx.dane.example", port: 25, mode: .startTLS, trusting: lab.moatCAFile, data: clean,
                                   peerCertificate: peer)
        #expect(sent.status == 0 && sent.transcript.contains("queued as"), "swaks to mx.dane.example: \(sent.transcript)\n\(lab.logs)")
        let shown = await lab.describe(certificateFile: peer)
        #expect(shown.isIssued(by: lab.moatCA) && shown.names.contains("mx.dane.example"), "\(lab.explain(shown))")
        #expect(postfix.queueFiles().subtracting(before).count == 1)

        // A signed record of another key, and a record whose signature is broken: refused, never
        // unwrapped with a trusted leaf, nothing delivered.
        for host in ["mx.wrong.example", "mx.bogus.example"] {
            let queued = postfix.queueFiles()
            let refused = await lab.swaks(host: host, port: 25, mode: .startTLS, trusting: lab.moatCAFile, data: clean)
            #expect(refused.status != 0 && !refused.transcript.contains("queued as"), "swaks to \(host): \(refused.transcript)")
            try await Task.sleep(for: .milliseconds(500))
            #expect(postfix.queueFiles() == queued, "nothing relayed to \(host)")
        }
        #expect(lab.moatdLog.contains("DANE: no TLSA record of mx.wrong.example matches"), "moatd log:\n\(lab.moatdLog)")
        #expect(lab.moatdLog.contains("bogus"), "moatd log:\n\(lab.moatdLog)")
        await lab.stopMoatdAndCheckTheTableIsGone()
    }
}
