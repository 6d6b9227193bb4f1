import Foundation
import Testing
@testable import Gate
#if canImport(Glibc)
import Glibc
#endif

/// The learned pass-through in the kernel, end to end in the gateway namespaces of
/// `TLSNetnsLab` (client 10.205.1.2 — the real moatd — Postfix as mail.test 10.205.2.2), with
/// `PassThroughRejectingClients = Yes`. The client trusts only the real servers' CA, so it
/// refuses Moat's leaf and gets learned.
///
/// - Implicit TLS (465): the pair goes into the kernel's set; the client's next connection
///   reaches Postfix from the client's own address with Postfix's certificate, and the Gate
///   logs nothing about it; after moatd is killed the traffic still flows (fail-open).
/// - STARTTLS (25): the pair is learned by the Gate only; the set stays empty, and the
///   client's next connection is still diverted: a plaintext message without STARTTLS is
///   scanned (EICAR refused).
/// Part of GateTLSNetnsTests' suite: it builds the same namespaces and veth pairs, so it must
/// never run beside them. `Bypass` holds what the two tests share.
enum Bypass {
    static let clientIP = "10.205.1.2"
    /// DefaultLogLevel = Info: the Gate (its own logger label) logs its decision on every TLS
    /// connection it sees.
    static let learning = ["LinuxFirewall": "PassThroughRejectingClients = Yes\nPassThroughTime = 10m\n",
                           "Root": "DefaultLogLevel = Info\n"]

    /// `nft list set inet moat passthrough_v4` on the gateway.
    static func passThroughSet(_ lab: TLSNetnsLab) async -> String {
        let listed = await lab.command("/usr/sbin/ip", ["netns", "exec", lab.gateway.name, "/usr/sbin/nft", "list", "set",
                                                        "inet", "moat", "passthrough_v4"])
        return listed.out + listed.err
    }

    /// Waits (bounded) until `condition` holds; the Gate learns of a refusal when the client's
    /// alert arrives, which may be just after the client exited.
    static func waitFor(seconds: Double = 30, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return await condition()
    }
}

extension GateTLSNetnsTests {
    @Test func aClientLearnedOnImplicitTLSBypassesTheGateInTheKernel() async throws {
        let lab = try await TLSNetnsLab.start(postfix: true, dovecot: false, startingMoatd: false)
        try await lab.startMoatd(extra: Bypass.learning)
        let postfix = try #require(lab.postfix)
        let pair = "\(Bypass.clientIP) . \(TLSNetnsLab.serverIP) . 465"
        #expect(!(await Bypass.passThroughSet(lab)).contains(pair))

        // First connection: diverted, unwrapped, and refused by the client (Moat's leaf).
        let refused = await lab.verifyHandshake(host: "mail.test", port: 465, starttls: nil, trusting: lab.serverCAFile)
        #expect(!refused.ok, "the client refuses Moat's certificate: \(refused.output)")
        let learned = await Bypass.waitFor { await Bypass.passThroughSet(lab).contains(pair) }
        let set = await Bypass.passThroughSet(lab)
        #expect(learned, "the pair is in the kernel's set:\n\(set)\n\(lab.moatdLog)")
        #expect(lab.moatdLog.contains("pass-through in the kernel: \(pair)"), "\(lab.moatdLog)")
        #expect(lab.moatdLog.contains("TLS unwrapped"), "the Gate logs the connections it sees:\n\(lab.moatdLog)")

        // Next connections: Postfix's own certificate, from the client's own address, unseen by the Gate.
        let gateLogBefore = lab.moatdLog.count
        let shown = await lab.presentedCertificate(host: "mail.test", port: 465, starttls: nil)
        #expect(shown.isIssued(by: lab.serverCA) && !shown.isIssued(by: lab.moatCA), "\(lab.explain(shown))")
        let path = lab.root + "/clean.eml"
        try String(GateFixtures.cleanMessage("bypass").dropLast()).write(toFile: path, atomically: true, encoding: .utf8)
        let sent = await lab.swaks(port: 465, mode: .implicit, trusting: lab.serverCAFile, data: path)
        #expect(sent.status == 0 && sent.transcript.contains("queued as"), "\(sent.transcript)\n\(lab.logs)")
        #expect(await postfix.waitForLog(containing: "connect from unknown[\(Bypass.clientIP)]"),
                "Postfix's peer is the client itself, not the Gate:\n\(postfix.log)")
        let gateLog = String(lab.moatdLog.dropFirst(gateLogBefore))
        #expect(!gateLog.contains("TLS relayed untouched") && !gateLog.contains("TLS unwrapped") && !gateLog.contains(Bypass.clientIP),
                "the Gate saw nothing of the bypassed connections:\n\(gateLog)")

        // moatd dies: the table goes with it (fail-open) and the traffic still flows.
        lab.moatd?.kill()
        let gone = await Bypass.waitFor { await Bypass.passThroughSet(lab).contains("No such file or directory") }
        let left = await Bypass.passThroughSet(lab)
        #expect(gone, "the owned table is gone with moatd: \(left)")
        let after = await lab.swaks(port: 465, mode: .implicit, trusting: lab.serverCAFile, data: path)
        #expect(after.status == 0 && after.transcript.contains("queued as"), "fail-open: \(after.transcript)")
    }

    /// The security boundary: on a STARTTLS port a learned client must stay diverted, or it could
    /// send its next message in plaintext, without STARTTLS, past the scan.
    @Test func aClientLearnedOnStartTLSIsStillDivertedAndScanned() async throws {
        let lab = try await TLSNetnsLab.start(postfix: true, dovecot: false, startingMoatd: false)
        try await lab.startMoatd(extra: Bypass.learning)
        let path = lab.root + "/clean.eml", eicarPath = lab.root + "/eicar.eml"
        try String(GateFixtures.cleanMessage("starttls").dropLast()).write(toFile: path, atomically: true, encoding: .utf8)
        try GateFixtures.eicarMessage().write(toFile: eicarPath, atomically: true, encoding: .utf8)

        let refused = await lab.swaks(port: 25, mode: .startTLS, trusting: lab.serverCAFile, data: path)
        #expect(refused.status != 0, "the client refuses Moat's certificate after STARTTLS: \(refused.transcript)")
        let learned = await Bypass.waitFor { lab.moatdLog.contains("next: relayed untouched for") }
        #expect(learned, "the Gate learned the pair:\n\(lab.moatdLog)")
        try await Task.sleep(for: .seconds(1))
        let set = await Bypass.passThroughSet(lab)
        #expect(set.contains("passthrough_v4") && !set.contains(Bypass.clientIP), "nothing learned on 25 goes to the kernel:\n\(set)")
        #expect(!lab.moatdLog.contains("pass-through in the kernel"), "\(lab.moatdLog)")

        // Its next connection is still the Gate's: STARTTLS relayed untouched (learned) ...
        let relayed = await lab.swaks(port: 25, mode: .startTLS, trusting: lab.serverCAFile, data: path)
        #expect(relayed.status == 0, "the learned pair is relayed untouched by the Gate: \(relayed.transcript)\n\(lab.logs)")
        #expect(await lab.serverSawTheGateway(), "Postfix's peer is the Gate, not the client\n\(lab.logs)")
        // ... and plaintext without STARTTLS is scanned: EICAR is refused.
        let plain = await lab.command("/usr/sbin/ip", ["netns", "exec", lab.client.name, "/usr/bin/timeout", "120", "/usr/bin/swaks",
                                                       "--server", "mail.test", "--port", "25", "--from", "alice@example.com",
                                                       "--to", "bob@example.org", "--data", "@" + eicarPath, "--timeout", "60"])
        let transcript = plain.out + plain.err
        #expect(plain.status != 0 && transcript.contains("550 5.7.1 The message contains a THREAT"),
                "plaintext on 25 after the learning is scanned: \(transcript)\n\(lab.logs)")
        await lab.stopMoatdAndCheckTheTableIsGone()
    }
}
