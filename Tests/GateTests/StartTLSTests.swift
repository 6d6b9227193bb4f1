import CertificateStore
import Foundation
import MailD
import MoatConfig
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing
@testable import Gate

/// A throw-away PKI for the test servers: a "public" CA and a server certificate signed by it.
struct TestPKI {
    let dir: String
    var caFile: String { dir + "/pub.pem" }
    var certificateFile: String { dir + "/srv.pem" }
    var keyFile: String { dir + "/srv.key" }

    init(dir: String, serverName: String) throws {
        self.dir = dir
        func openssl(_ arguments: [String]) throws {
            let result = run("/usr/bin/openssl", arguments)
            guard result.status == 0 else { throw GateTestFailure("openssl \(arguments.first ?? ""): \(result.err)") }
        }
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir + "/pub.key",
                     "-out", dir + "/pub.pem", "-days", "2", "-subj", "/CN=Public Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign"])
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir + "/srv.key",
                     "-out", dir + "/srv.csr", "-subj", "/CN=\(serverName)"])
        try "subjectAltName=DNS:\(serverName)\n".write(toFile: dir + "/ext", atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", dir + "/srv.csr", "-CA", dir + "/pub.pem", "-CAkey", dir + "/pub.key",
                     "-CAcreateserial", "-out", dir + "/srv.pem", "-days", "2", "-extfile", dir + "/ext"])
        chmod(dir + "/srv.key", 0o644)  // Dovecot's login processes read it as their own user
    }

    func serverContext() throws -> NIOSSLContext {
        try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))))
    }
}

/// STARTTLS (SMTP, IMAP) and STLS (POP3) unwrapped in the middle of a relayed session, with
/// real clients (swaks, Python's poplib and imaplib) that trust only Moat's CA: the Gate
/// verifies the server first, then answers the client's handshake with a leaf for its SNI,
/// and scans the mail inside. A client that refuses the leaf, a rule that keeps a session
/// wrapped, and a server whose certificate does not verify are covered too.
@Suite(.serialized) struct StartTLSTests {
    let dir = GateFixtures.temporaryDirectory()

    /// The Gate with UnwrapSsl = Yes and Moat's CA in `dir/moat-ca`, trusting `trust` upstream.
    func gate(upstream: Int, protocol proto: GateProtocol, trust: String, config: String = "", asPort: Int? = nil,
              kernel: (@Sendable (String, String, Int, Duration) -> Bool)? = nil) async throws
        -> (service: GateService, channels: [any Channel], port: Int) {
        let text = "[Root]\nVarDir = \(dir)/var\n[MailD]\nReportLanguages = en\n[LinuxFirewall]\nUnwrapSsl = Yes\n" + config
        let store = SettingsStore(try ConfigLoader().load(text: text))
        let core = MailCore(scanner: GateFixtures.scanner, spoolDirectory: dir + "/spool")
        var options = GateService.Options()
        options.hosts = ["127.0.0.1"]
        options.port = 0
        options.transparent = false
        options.upstreamOverride = try SocketAddress(ipAddress: "127.0.0.1", port: upstream)
        options.protocolOverride = proto
        options.destinationPortOverride = asPort
        options.kernelPassThrough = kernel
        let authority = try CertificateAuthority.loadOrCreate(.init(directory: dir + "/moat-ca"))
        options.tls = try TLSInterception(authority: authority, upstreamTrustRoots: .file(trust))
        let service = GateService(settings: store, core: core, options: options)
        let channels = try await service.bind()
        return (service, channels, channels[0].localAddress!.port!)
    }

    var moatCA: String { dir + "/moat-ca/ca.pem" }

    /// swaks with STARTTLS required and verified against `ca`, on a thread of its own (the
    /// Gate's check needs Swift's cooperative threads).
    func swaks(port: Int, ca: String?, body: String) async throws -> (status: Int32, output: String) {
        let path = dir + "/message-\(UUID().uuidString).eml"
        try body.write(toFile: path, atomically: true, encoding: .utf8)
        let verify = ca.map { ["--tls-verify", "--tls-ca-path", $0] } ?? []
        let result = try await offPool {
            run("/usr/bin/swaks", ["--server", "127.0.0.1:\(port)", "--tls", "--tls-sni", "smtp.example.org"] + verify
                                  + ["--timeout", "60", "--from", "alice@example.com", "--to", "bob@example.org", "--data", path])
        }
        return (result.status, result.out + result.err)
    }

    // MARK: - SMTP

    @Test func smtpStartTLSIsUnwrappedAndTheMailInsideIsScanned() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "smtp.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }
        let gate = try await gate(upstream: server.port, protocol: .smtp, trust: pki.caFile)
        defer { gate.channels.forEach { $0.close(promise: nil) } }

        let clean = try await swaks(port: gate.port, ca: moatCA, body: GateFixtures.cleanMessage("starttls"))
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("queued as FAKE1"), "the client gets the server's own reply through TLS")
        // As it travels in SMTP: dot-stuffed (the fake server records the wire's lines).
        let received = server.received.withLock { $0 }
        #expect(received.count == 1 && received[0].hasPrefix(GateFixtures.cleanMessage("starttls")
            .replacingOccurrences(of: "\r\n.", with: "\r\n..")), "\(received)")
        #expect(server.tlsSessions.withLock { $0 } == 1, "the server's leg is TLS too")
        // RFC 3207: the client greets again inside TLS, and the server hears that EHLO.
        #expect(server.commands.withLock { $0.filter { $0.hasPrefix("EHLO") }.count } == 2)

        let infected = try await swaks(port: gate.port, ca: moatCA, body: GateFixtures.eicarMessage())
        #expect(infected.status != 0)
        #expect(infected.output.contains("550 5.7.1 The message contains a THREAT"), "\(infected.output)")
        #expect(server.received.withLock { $0.count } == 1, "the threat never reached the server")
    }

    @Test func clientRefusingMoatsCertificateFailsAndIsPassedThroughWhenConfigured() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "smtp.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }

        // Default: refused every time, nothing relayed.
        let strict = try await gate(upstream: server.port, protocol: .smtp, trust: pki.caFile)
        defer { strict.channels.forEach { $0.close(promise: nil) } }
        for attempt in 1...2 {
            // This client trusts only the real server's CA, as one that pins its server would.
            let refused = try await swaks(port: strict.port, ca: pki.caFile, body: GateFixtures.cleanMessage("pinned"))
            #expect(refused.status != 0, "attempt \(attempt): \(refused.output)")
        }
        #expect(server.received.withLock { $0.count } == 0)

        // PassThroughRejectingClients = Yes: the next session of that pair is relayed untouched.
        let lenient = try await gate(upstream: server.port, protocol: .smtp, trust: pki.caFile,
                                     config: "PassThroughRejectingClients = Yes\nPassThroughTime = 10m\n")
        defer { lenient.channels.forEach { $0.close(promise: nil) } }
        let first = try await swaks(port: lenient.port, ca: pki.caFile, body: GateFixtures.cleanMessage("pinned"))
        #expect(first.status != 0, "the first refusal is only remembered: \(first.output)")
        // The Gate learns of the refusal when the client's alert arrives, which may be just after
        // swaks has exited: wait for it (bounded).
        let deadline = Date().addingTimeInterval(30)
        while lenient.service.passThrough.count == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(lenient.service.passThrough.count == 1)
        let second = try await swaks(port: lenient.port, ca: pki.caFile, body: GateFixtures.cleanMessage("pinned"))
        #expect(second.status == 0, "the real server's certificate, end to end: \(second.output)")
        #expect(server.received.withLock { $0.count } == 1)
    }

    /// The security boundary: a pair learned after STARTTLS stays in the Gate. In the kernel's
    /// set the client's next connections would skip the Gate, plaintext ones without STARTTLS
    /// included, and their mail would go unscanned.
    @Test(arguments: [25, 587])
    func aPairLearnedOnStartTLSIsNeverHandedToTheKernel(port asPort: Int) async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "smtp.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }
        let handed = HandedPairs()
        let gate = try await gate(upstream: server.port, protocol: .smtp, trust: pki.caFile,
                                  config: "PassThroughRejectingClients = Yes\nPassThroughTime = 10m\n", asPort: asPort,
                                  kernel: { client, server, port, _ in handed.add("\(client) \(server):\(port)") })
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let refused = try await swaks(port: gate.port, ca: pki.caFile, body: GateFixtures.cleanMessage("pinned"))
        #expect(refused.status != 0, "\(refused.output)")
        let deadline = Date().addingTimeInterval(30)
        while gate.service.passThrough.count == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(gate.service.passThrough.count == 1, "the Gate learned the pair")
        try await Task.sleep(for: .milliseconds(300))
        #expect(handed.pairs.isEmpty, "port \(asPort): nothing for the kernel: \(handed.pairs)")
    }

    @Test func ruleKeepsASessionWrapped() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "smtp.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }
        let rule = #"RuleSet = sni_host match "^smtp\\.example\\.org$" : SET unwrap_ssl = no, SCAN_MAIL"# + "\n"
        let gate = try await gate(upstream: server.port, protocol: .smtp, trust: pki.caFile, config: rule)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let withMoatCA = try await swaks(port: gate.port, ca: moatCA, body: GateFixtures.cleanMessage("kept"))
        #expect(withMoatCA.status != 0, "the client sees the real server's certificate, not a leaf: \(withMoatCA.output)")
        // Unscanned by the administrator's choice: EICAR goes through, encrypted end to end.
        let wrapped = try await swaks(port: gate.port, ca: pki.caFile, body: GateFixtures.eicarMessage())
        #expect(wrapped.status == 0, "\(wrapped.output)")
        #expect(server.received.withLock { $0.count } == 1)
    }

    @Test func serverFailingVerificationAfterStartTLSIsNotLaundered() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "smtp.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }
        // Moat trusts only its own CA upstream: the server's certificate cannot verify.
        _ = try CertificateAuthority.loadOrCreate(.init(directory: dir + "/moat-ca"))
        let gate = try await gate(upstream: server.port, protocol: .smtp, trust: moatCA,
                                  config: "UpstreamVerifyFailure = Relay\n")
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let refused = try await swaks(port: gate.port, ca: moatCA, body: GateFixtures.cleanMessage("bad-server"))
        #expect(refused.status != 0, "no Moat leaf for a server that did not verify: \(refused.output)")
        #expect(server.received.withLock { $0.count } == 0)
        // UpstreamVerifyFailure = Relay: the server is remembered and relayed untouched next time.
        let relayed = try await swaks(port: gate.port, ca: pki.caFile, body: GateFixtures.cleanMessage("bad-server"))
        #expect(relayed.status == 0, "\(relayed.output)")
        #expect(server.received.withLock { $0.count } == 1)
    }

    /// Port 25 is opportunistic (VerifyMxCertificates = No): a server whose certificate cannot
    /// be verified is still unwrapped and scanned, but none of its unverified names are copied
    /// into the leaf Moat signs.
    @Test func opportunisticPort25NeverCopiesUnverifiedNames() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "mx.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }
        _ = try CertificateAuthority.loadOrCreate(.init(directory: dir + "/moat-ca"))
        let gate = try await gate(upstream: server.port, protocol: .smtp, trust: moatCA, asPort: 25)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let port = gate.port
        let shown = try await offPool {
            run("/bin/sh", ["-c", "echo QUIT | timeout 30 openssl s_client -connect 127.0.0.1:\(port) -starttls smtp -noservername "
                                + "-CAfile \(self.moatCA) 2>&1 | openssl x509 -noout -subject -ext subjectAltName 2>&1"])
        }
        #expect(shown.out.contains("moat-intercepted"), "no names from an unverified certificate: \(shown.out)")
        #expect(!shown.out.contains("mx.example.org"), "\(shown.out)")
        #expect(server.tlsSessions.withLock { $0 } == 1, "the server's leg is TLS (opportunistic)")
        // A sending MTA that does not verify (most on port 25) is still scanned inside TLS.
        let infected = try await swaks(port: gate.port, ca: nil, body: GateFixtures.eicarMessage())
        #expect(infected.output.contains("550 5.7.1 The message contains a THREAT"), "scanned inside: \(infected.output)")
    }

    /// The issuer of the certificate a port-25 client is shown for SNI smtp.example.org.
    func issuerShown(port: Int) async throws -> String {
        try await offPool {
            run("/bin/sh", ["-c", "echo QUIT | timeout 30 openssl s_client -connect 127.0.0.1:\(port) -starttls smtp "
                                + "-servername smtp.example.org 2>&1 | openssl x509 -noout -issuer 2>&1"]).out
        }
    }

    /// Port 25, opportunistic: the server's certificate names mx.example.org, the client asked
    /// for smtp.example.org. The session is unwrapped and scanned, but the client's leaf comes
    /// from a CA nobody trusts: an MTA that verifies MX certificates and trusts Moat's CA fails,
    /// exactly as it would have against that server directly.
    @Test func port25ServerThatDoesNotProveTheNameGetsAnUntrustedLeaf() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "mx.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }
        let gate = try await gate(upstream: server.port, protocol: .smtp, trust: pki.caFile, asPort: 25)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let issuer = try await issuerShown(port: gate.port)
        #expect(issuer.contains("Moat unverified upstream"), "\(issuer)")
        let verifying = try await swaks(port: gate.port, ca: moatCA, body: GateFixtures.cleanMessage("unverified"))
        #expect(verifying.status != 0, "a verifying client must not trust it: \(verifying.output)")
        #expect(server.received.withLock { $0.count } == 0)
        let plain = try await swaks(port: gate.port, ca: nil, body: GateFixtures.eicarMessage())
        #expect(plain.output.contains("550 5.7.1 The message contains a THREAT"), "scanned inside: \(plain.output)")
    }

    /// The same port-25 server with a certificate that does prove smtp.example.org: Moat's own
    /// CA signs the leaf and a verifying client that trusts it delivers.
    @Test func port25ServerThatProvesTheNameGetsMoatsLeaf() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "smtp.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }
        let gate = try await gate(upstream: server.port, protocol: .smtp, trust: pki.caFile, asPort: 25)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let issuer = try await issuerShown(port: gate.port)
        #expect(issuer.contains("Moat Mail Gateway CA"), "\(issuer)")
        let verifying = try await swaks(port: gate.port, ca: moatCA, body: GateFixtures.cleanMessage("verified"))
        #expect(verifying.status == 0, "\(verifying.output)")
        #expect(server.received.withLock { $0.count } == 1)
    }

    /// UnverifiedUpstream = Relay: such a session is not unwrapped at all; the client sees the
    /// server's own certificate (after STARTTLS, from its retry on).
    @Test func port25UnverifiedCanBeRelayedUntouched() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "mx.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext())
        defer { server.stop() }
        let gate = try await gate(upstream: server.port, protocol: .smtp, trust: pki.caFile,
                                  config: "UnverifiedUpstream = Relay\n", asPort: 25)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        _ = try await issuerShown(port: gate.port)
        let issuer = try await issuerShown(port: gate.port)
        #expect(issuer.contains("Public Test CA"), "\(issuer)")
    }

    // MARK: - POP3 and IMAP against Dovecot

    /// POP3 with STLS and IMAP with STARTTLS, the TLS session verified against `ca` for
    /// mail.example.org: every message read whole, plus the issuer the client saw.
    static let mailboxScript = #"""
        import base64, imaplib, json, poplib, socket, ssl, sys
        host, pop3_port, imap_port, ca, implicit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5] == "implicit"
        ctx = ssl.create_default_context(cafile=ca)
        b64 = lambda b: base64.b64encode(b).decode()
        issuer = lambda sock: dict(x[0] for x in sock.getpeercert()["issuer"])["commonName"]
        name = "mail.example.org"  # the name the client expects (and sends as SNI)
        class POP3S(poplib.POP3_SSL):
            def _create_socket(self, timeout):
                return ctx.wrap_socket(socket.create_connection((self.host, self.port), timeout), server_hostname=name)
        class IMAPS(imaplib.IMAP4_SSL):
            def _create_socket(self, timeout):
                return ctx.wrap_socket(socket.create_connection((self.host, self.port), timeout), server_hostname=name)
        out = {}
        if implicit:
            p = POP3S(host, pop3_port, timeout=60)
        else:
            p = poplib.POP3(host, pop3_port, timeout=60)
            p.host = name
            p.stls(ctx)
        out["pop3_issuer"] = issuer(p.sock)
        out["pop3_capa"] = sorted(p.capa().keys())
        p.user("bob"); p.pass_("secret")
        out["pop3_retr"] = [b64(b"\r\n".join(p.retr(i)[1]) + b"\r\n") for i in range(1, len(p.list()[1]) + 1)]
        p.quit()
        if implicit:
            m = IMAPS(host, imap_port, timeout=60)
        else:
            m = imaplib.IMAP4(host, imap_port, timeout=60)
            m.host = name
            m.starttls(ctx)
        out["imap_issuer"] = issuer(m.sock)
        out["imap_capabilities"] = sorted(m.capabilities)
        m.login("bob", "secret")
        m.select("INBOX")
        typ, data = m.fetch("1:*", "(UID BODY.PEEK[])")
        out["imap_body"] = [b64(d[1]) for d in data if isinstance(d, tuple)]
        m.logout()
        print(json.dumps(out))
        """#

    func mailbox(pop3Port: Int, imapPort: Int, ca: String, implicit: Bool = false) async throws -> MailboxClient.Result {
        let path = dir + "/client.py"
        try Self.mailboxScript.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await offPool {
            run("/usr/bin/env", ["python3", path, "127.0.0.1", "\(pop3Port)", "\(imapPort)", ca, implicit ? "implicit" : "starttls"])
        }
        guard result.status == 0, let json = try? JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any] else {
            throw GateTestFailure("mail client failed (\(result.status)): \(result.err)\(result.out)")
        }
        return MailboxClient.Result(json: json)
    }

    @Test(.enabled(if: getuid() == 0, "Dovecot's static user needs root to start"), arguments: [false, true])
    func pop3AndIMAPInsideTLSAreUnwrappedAgainstDovecot(implicit: Bool) async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try TestPKI(dir: dir, serverName: "mail.example.org")
        let pop3Port = 24110 + Int(getpid() % 500) * 4 + (implicit ? 2 : 0), imapPort = pop3Port + 3000
        // STARTTLS/STLS on the plain ports; POP3S/IMAPS (implicit TLS) on the next port up.
        let listeners = """
            service imap-login {
              inet_listener imaps {
                port = \(imapPort + 1)
              }
            }
            service pop3-login {
              inet_listener pop3s {
                port = \(pop3Port + 1)
              }
            }

            """
        let dovecot = try Dovecot(listen: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort, messages: MailboxFixtures.messages,
                                  extraConfig: "ssl = yes\nssl_cert = <\(pki.certificateFile)\nssl_key = <\(pki.keyFile)\n"
                                      + (implicit ? listeners : ""))
        defer { dovecot.stop() }
        let (serverPOP3, serverIMAP) = implicit ? (pop3Port + 1, imapPort + 1) : (pop3Port, imapPort)
        let direct = try await mailbox(pop3Port: serverPOP3, imapPort: serverIMAP, ca: pki.caFile, implicit: implicit)
        #expect(direct.json["pop3_issuer"] as? String == "Public Test CA")

        let pop3 = try await gate(upstream: serverPOP3, protocol: .pop3, trust: pki.caFile, asPort: implicit ? 995 : nil)
        defer { pop3.channels.forEach { $0.close(promise: nil) } }
        let imap = try await gate(upstream: serverIMAP, protocol: .imap, trust: pki.caFile, asPort: implicit ? 993 : nil)
        defer { imap.channels.forEach { $0.close(promise: nil) } }
        let got = try await mailbox(pop3Port: pop3.port, imapPort: imap.port, ca: moatCA, implicit: implicit)
        for key in ["pop3_issuer", "imap_issuer"] {
            #expect((got.json[key] as? String)?.hasPrefix("Moat Mail Gateway CA") == true, "\(key): \(got.json[key] ?? "-")")
        }
        // Capabilities asked again inside TLS are the server's (minus what Moat cannot relay).
        #expect(got.strings("pop3_capa") == direct.strings("pop3_capa"))
        #expect(got.strings("imap_capabilities") == direct.strings("imap_capabilities").filter { !$0.hasPrefix("COMPRESS") })
        for key in ["pop3_retr", "imap_body"] {
            let messages = got.messages(key)
            #expect(messages.count == 2, "\(key)")
            guard messages.count == 2 else { continue }
            #expect(messages[0] == MailboxFixtures.clean, "\(key): the clean message is byte-identical")
            #expect(!messages[1].contains("EICAR-STANDARD-ANTIVIRUS-TEST-FILE"), "\(key): no EICAR in the clear")
            #expect(messages[1].contains("X-Moat-Archive-Id: "), "\(key): repacked")
        }
        #expect(dovecot.process.isRunning, "\(dovecot.log)")
    }
}
