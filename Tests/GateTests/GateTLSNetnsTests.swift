import Foundation
import Testing
@testable import Gate
#if canImport(Glibc)
import Glibc
#endif

/// The only reasons to skip the TLS namespace tests: not root, or no network namespaces. A
/// missing peer (swaks, openssl, Postfix, Dovecot, nft, moatd, moat-ctl) fails them.
enum NetnsAvailability {
    static let rootAndNamespaces: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else { return false }
        let name = "moatgm-tlsprobe-\(getpid())"
        guard run("/usr/sbin/ip", ["netns", "add", name]).status == 0 else { return false }
        run("/usr/sbin/ip", ["netns", "del", name])
        return true
    }()
}

/// TLS unwrapping end to end, with real peers in three network namespaces:
///
///     client (swaks, openssl s_client, Python)  10.205.1.2
///       —veth— gateway (the real moatd: divert of 25,465,587,110,995,143,993 on eth0, the Gate,
///               UnwrapSsl = Yes)  10.205.1.1 / 10.205.2.1
///       —veth— server: Postfix (25 STARTTLS, 465 SMTPS, 587 submission) and Dovecot
///               (110 STLS, 995, 143 STARTTLS, 993) as mail.test  10.205.2.2;
///               self-signed services as selfsigned.test 10.205.2.3; a certificate for another
///               name as wrongname.test 10.205.2.4.
///
/// The servers' certificates are signed by a CA the test makes, which moatd trusts upstream
/// through `[LinuxFirewall] UpstreamCaCertificates` (as for a private PKI's mail servers).
/// /etc/netns/<ns>/hosts (mounted over /etc/hosts by `ip netns exec`) maps the names in the
/// client and gateway namespaces. The clients trust only Moat's CA, exported with
/// `moat-ctl certificate`.
@Suite(.serialized, .enabled(if: NetnsAvailability.rootAndNamespaces, "needs root and `ip netns`"))
struct GateTLSNetnsTests {
    // MARK: SMTP

    @Test func smtpsOn465IsUnwrapped() async throws {
        try await Self.smtp(port: 465, mode: .implicit)
    }

    @Test func startTLSOn25IsUnwrapped() async throws {
        try await Self.smtp(port: 25, mode: .startTLS)
    }

    @Test func startTLSOnSubmission587IsUnwrapped() async throws {
        try await Self.smtp(port: 587, mode: .startTLS)
    }

    /// A client that kept its session resumes it with the Gate: no certificate is signed and no
    /// chain sent the second time (the Gate's contexts, and their ticket keys, are cached).
    @Test func aClientResumesItsTLSSessionWithTheGate() async throws {
        let lab = try await TLSNetnsLab.start(postfix: true, dovecot: false)
        let session = lab.root + "/client.session"
        // The greeting is read before QUIT, so the TLS 1.3 tickets that precede it are kept.
        let connect = "/usr/bin/openssl s_client -connect mail.test:465 -servername mail.test -CAfile \(lab.moatCAFile)"
            + " -verify_return_error -verify_hostname mail.test"
        let first = await lab.shell("(sleep 3; echo QUIT) | \(connect) -sess_out \(session)", seconds: 60)
        #expect(first.out.contains("New, TLSv1.3"), "\(first.out)\(first.err)\n\(lab.logs)")
        let second = await lab.shell("(sleep 3; echo QUIT) | \(connect) -sess_in \(session)", seconds: 60)
        #expect(second.out.contains("Reused, TLSv1.3"), "\(second.out)\(second.err)\n\(lab.logs)")
        #expect(second.out.contains("220 "), "the session goes on to Postfix's greeting: \(second.out)")
    }

    // MARK: POP3 and IMAP

    @Test func pop3sOn995IsUnwrapped() async throws {
        try await Self.mailbox(port: 995, mode: "pop3s")
    }

    @Test func stlsOnPOP3110IsUnwrapped() async throws {
        try await Self.mailbox(port: 110, mode: "stls")
    }

    @Test func imapsOn993IsUnwrapped() async throws {
        try await Self.mailbox(port: 993, mode: "imaps")
    }

    @Test func startTLSOnIMAP143IsUnwrapped() async throws {
        try await Self.mailbox(port: 143, mode: "imap-starttls")
    }

    // MARK: Servers whose certificate does not verify: never laundered

    @Test func smtpsServerWithASelfSignedCertificateIsNotLaundered() async throws {
        try await Self.notLaundered(host: "selfsigned.test", port: 465)
    }

    @Test func smtpsServerWithACertificateForAnotherNameIsNotLaundered() async throws {
        try await Self.notLaundered(host: "wrongname.test", port: 465)
    }

    @Test func imapsServerWithASelfSignedCertificateIsNotLaundered() async throws {
        try await Self.notLaundered(host: "selfsigned.test", port: 993)
    }

    // MARK: - SMTP through the Gate

    enum SMTPMode { case implicit, startTLS }

    static func smtp(port: Int, mode: SMTPMode) async throws {
        let lab = try await TLSNetnsLab.start(postfix: true, dovecot: false)
        let postfix = try #require(lab.postfix)
        let starttls: String? = mode == .startTLS ? "smtp" : nil

        // What the client is shown: a leaf from Moat's CA for mail.test.
        let shown = await lab.presentedCertificate(host: "mail.test", port: port, starttls: starttls)
        #expect(await lab.serverSawTheGateway(), "port \(port) is diverted to the Gate: Postfix's peer is the gateway\n\(lab.logs)")
        try #require(shown.isIssued(by: lab.moatCA) && shown.names.contains("mail.test"),
                     "port \(port): \(lab.explain(shown))\n\(lab.logs)")
        let verified = await lab.verifyHandshake(host: "mail.test", port: port, starttls: starttls, trusting: lab.moatCAFile)
        #expect(verified.ok, "openssl s_client -CAfile ca.pem -verify_hostname mail.test on \(port): \(verified.output)")

        // A clean message: Postfix's own 250, and queued byte for byte.
        let clean = GateFixtures.cleanMessage("tls\(port)")
        let cleanPath = lab.root + "/clean.eml", eicarPath = lab.root + "/eicar.eml", peerPath = lab.root + "/peer.pem"
        // swaks ends the data with CRLF "." CRLF: the file leaves out the message's last CRLF.
        try String(clean.dropLast()).write(toFile: cleanPath, atomically: true, encoding: .utf8)
        try GateFixtures.eicarMessage().write(toFile: eicarPath, atomically: true, encoding: .utf8)
        let before = postfix.queueFiles()
        let sent = await lab.swaks(port: port, mode: mode, trusting: lab.moatCAFile, data: cleanPath, peerCertificate: peerPath)
        #expect(sent.status == 0, "swaks clean on \(port): \(sent.transcript)\n\(lab.logs)")
        let swaksPeer = await lab.describe(certificateFile: peerPath)
        #expect(swaksPeer.isIssued(by: lab.moatCA) && swaksPeer.names.contains("mail.test"),
                "the certificate swaks got on \(port): \(lab.explain(swaksPeer))")
        let queueID = sent.transcript.firstMatch(of: /250 2\.0\.0 Ok: queued as ([0-9A-F]+)/).map { String($0.1) } ?? ""
        #expect(!queueID.isEmpty, "Postfix's final reply reaches the client on \(port): \(sent.transcript)")
        if !queueID.isEmpty {
            #expect(postfix.queueFiles().subtracting(before) == ["hold/\(queueID)"], "Postfix's queue: \(postfix.queueFiles())")
            let body = await lab.postcat("-b", id: queueID)
            let sentBody = String(clean[clean.range(of: "\r\n\r\n")!.upperBound...])
            #expect(body == "\n" + sentBody.replacingOccurrences(of: "\r\n", with: "\n"), "postcat -b: \(body.debugDescription)")
            let header = await lab.postcat("-h", id: queueID)
            #expect(header.contains("Subject: hello tls\(port)"), "postcat -h: \(header)")
        }

        // EICAR inside TLS: refused with the rule's text, nothing new queued.
        let queued = postfix.queueFiles()
        let refused = await lab.swaks(port: port, mode: mode, trusting: lab.moatCAFile, data: eicarPath)
        #expect(refused.status != 0 && refused.transcript.contains("550 5.7.1 The message contains a THREAT"),
                "swaks EICAR on \(port): \(refused.transcript)\n\(lab.logs)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(postfix.queueFiles() == queued, "Postfix's queue after the EICAR message: \(postfix.queueFiles())")

        // A client without Moat's CA (it trusts the real servers' CA, as a client trusting the
        // public CAs would): the handshake fails on verification, and no mail goes through.
        let untrusting = await lab.verifyHandshake(host: "mail.test", port: port, starttls: starttls, trusting: lab.serverCAFile)
        #expect(!untrusting.ok && untrusting.output.contains("verify error"),
                "openssl s_client trusting only the servers' CA on \(port): \(untrusting.output)")
        let blocked = await lab.swaks(port: port, mode: mode, trusting: lab.serverCAFile, data: cleanPath)
        #expect(blocked.status != 0 && !blocked.transcript.contains("queued as"), "swaks without Moat's CA: \(blocked.transcript)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(postfix.queueFiles() == queued, "nothing relayed for the client without Moat's CA: \(postfix.queueFiles())")

        await lab.stopMoatdAndCheckTheTableIsGone()
    }

    // MARK: - POP3 and IMAP through the Gate

    static func mailbox(port: Int, mode: String) async throws {
        let lab = try await TLSNetnsLab.start(postfix: false, dovecot: true)
        let dovecot = try #require(lab.dovecot)
        let starttls: String? = switch mode {
        case "stls": "pop3"
        case "imap-starttls": "imap"
        default: nil
        }

        let shown = await lab.presentedCertificate(host: "mail.test", port: port, starttls: starttls)
        #expect(await lab.serverSawTheGateway(), "port \(port) is diverted to the Gate: Dovecot's peer is the gateway\n\(lab.logs)")
        try #require(shown.isIssued(by: lab.moatCA) && shown.names.contains("mail.test"),
                     "port \(port): \(lab.explain(shown))\n\(lab.logs)")
        let verified = await lab.verifyHandshake(host: "mail.test", port: port, starttls: starttls, trusting: lab.moatCAFile)
        #expect(verified.ok, "openssl s_client -CAfile ca.pem -verify_hostname mail.test on \(port): \(verified.output)")

        // Python's poplib/imaplib with a context trusting only Moat's CA reads the mailbox:
        // the clean message byte for byte, the EICAR one repacked.
        let got = try await lab.mailboxClient(mode: mode, port: port, trusting: lab.moatCAFile)
        #expect(got.error == nil, "\(mode) on \(port): \(got.error ?? "")\n\(lab.logs)\nDovecot log:\n\(dovecot.log)")
        let peer = await lab.describe(der: got.peerCertificate)
        #expect(peer.isIssued(by: lab.moatCA) && peer.names.contains("mail.test"),
                "the certificate Python got on \(port): \(lab.explain(peer))")
        #expect(got.messages.count == 2, "\(mode): \(got.messages.count) messages")
        if got.messages.count == 2 {
            #expect(got.messages[0] == MailboxFixtures.clean, "\(mode): the clean message is byte-identical")
            let repacked = got.messages[1]
            #expect(!repacked.contains("EICAR-STANDARD-ANTIVIRUS-TEST-FILE")
                        && !repacked.contains(Data(GateFixtures.eicar.utf8).base64EncodedString()),
                    "\(mode): no EICAR in the clear")
            #expect(repacked.contains("X-Moat-Archive-Id: ") && repacked.contains("Subject: the test file"),
                    "\(mode): repacked\n\(repacked)")
        }

        // A client without Moat's CA: its handshake fails on verification; it never logs in.
        let untrusting = await lab.verifyHandshake(host: "mail.test", port: port, starttls: starttls, trusting: lab.serverCAFile)
        #expect(!untrusting.ok && untrusting.output.contains("verify error"),
                "openssl s_client trusting only the servers' CA on \(port): \(untrusting.output)")
        let logins = lab.logins
        let refused = try await lab.mailboxClient(mode: mode, port: port, trusting: lab.serverCAFile)
        #expect((refused.error ?? "").contains("CERTIFICATE_VERIFY_FAILED"),
                "\(mode) without Moat's CA: \(refused.error ?? "no error; read \(refused.messages.count) messages")")
        try await Task.sleep(for: .milliseconds(300))
        #expect(lab.logins == logins, "no login for the client without Moat's CA:\n\(dovecot.log)")

        await lab.stopMoatdAndCheckTheTableIsGone()
    }

    // MARK: - Servers that fail verification

    /// The client trusts Moat's CA. The Gate must not give it a Moat leaf for a server it could
    /// not verify: the client's handshake fails (the Gate closes the connection or the client
    /// sees the server's own, unverifiable certificate), and no mail goes through.
    static func notLaundered(host: String, port: Int) async throws {
        let smtp = port == 465
        let lab = try await TLSNetnsLab.start(postfix: smtp, dovecot: !smtp)
        // The server is up and shows its bad certificate to whoever asks it directly.
        let direct = await lab.presentedCertificate(host: host, port: port, starttls: nil, namespace: lab.gateway.name)
        let unverifiable = !direct.isIssued(by: lab.serverCA) || !direct.names.contains(host)
        #expect(direct.pem != nil && unverifiable, "\(host):\(port) asked directly from the gateway: \(lab.explain(direct))")

        let shown = await lab.presentedCertificate(host: host, port: port, starttls: nil)
        #expect(!shown.isIssued(by: lab.moatCA), "\(host):\(port) through the Gate: a Moat leaf for an unverified server\n\(lab.explain(shown))")
        let verified = await lab.verifyHandshake(host: host, port: port, starttls: nil, trusting: lab.moatCAFile)
        #expect(!verified.ok, "openssl s_client trusting Moat's CA, \(host):\(port): \(verified.output)")
        if smtp {
            let postfix = try #require(lab.postfix)
            let path = lab.root + "/clean.eml"
            try String(GateFixtures.cleanMessage("bad").dropLast()).write(toFile: path, atomically: true, encoding: .utf8)
            let queued = postfix.queueFiles()
            let sent = await lab.swaks(host: host, port: port, mode: .implicit, trusting: lab.moatCAFile, data: path)
            #expect(sent.status != 0 && !sent.transcript.contains("queued as"), "swaks to \(host):\(port): \(sent.transcript)")
            try await Task.sleep(for: .milliseconds(500))
            #expect(postfix.queueFiles() == queued, "nothing relayed to \(host): \(postfix.queueFiles())")
            // The Gate refused because of the server's certificate (UpstreamVerifyFailure = Refuse).
            #expect(lab.moatdLog.contains("failed verification"), "moatd log:\n\(lab.moatdLog)")
        } else {
            let dovecot = try #require(lab.dovecot)
            let logins = lab.logins
            let got = try await lab.mailboxClient(mode: "imaps", port: port, trusting: lab.moatCAFile, host: host)
            #expect(got.error != nil && got.messages.isEmpty, "imaps to \(host): \(got.error ?? "no error")")
            try await Task.sleep(for: .milliseconds(300))
            #expect(lab.logins == logins, "no login to \(host):\n\(dovecot.log)")
        }
        await lab.stopMoatdAndCheckTheTableIsGone()
    }
}

/// What a TLS client was shown: the leaf's PEM, issuer and names (nil when no handshake).
struct ShownCertificate: Sendable {
    var pem: String?
    var issuer = ""
    var subject = ""
    var names: [String] = []
    var output = ""

    func isIssued(by ca: ShownCertificate) -> Bool { pem != nil && !issuer.isEmpty && issuer == ca.subject }
}

/// The three namespaces, the certificates, the servers and moatd of one test. Everything is
/// removed when the lab goes away.
final class TLSNetnsLab: @unchecked Sendable {
    static let serverIP = "10.205.2.2", selfSignedIP = "10.205.2.3", wrongNameIP = "10.205.2.4"
    static let ports = [25, 465, 587, 110, 995, 143, 993]

    let client: TestNamespace, gateway: TestNamespace, server: TestNamespace
    let root: String
    private(set) var moatd: GatewayMoatd?
    private(set) var postfix: PrivatePostfix?
    private(set) var dovecot: Dovecot?
    var serverCAFile: String { root + "/servers-ca.pem" }
    var moatCAFile: String { root + "/ca.pem" }
    private(set) var serverCA = ShownCertificate()
    private(set) var moatCA = ShownCertificate()
    private var etcNetns: [String] = []

    var moatdLog: String { moatd?.log ?? "" }
    /// Successful Dovecot logins so far.
    var logins: Int { (dovecot?.log ?? "").components(separatedBy: "-login: Info: Login: ").count - 1 }
    var logs: String {
        "moatd log:\n\(moatdLog)" + (postfix.map { "\nPostfix log:\n\($0.log)" } ?? "")
            + (dovecot.map { "\nDovecot log:\n\($0.log)" } ?? "")
    }

    /// Whether the servers logged a connection from the gateway's address, i.e. the client's
    /// connection was diverted to the Gate, which connected on (InputDivertConnectTransparently
    /// = No); a connection that bypassed the Gate would come from the client's 10.205.1.2.
    func serverSawTheGateway() async -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while true {
            let log = (postfix?.log ?? "") + (dovecot?.log ?? "")
            let gateway = log.contains("unknown[10.205.2.1]") || log.contains("rip=10.205.2.1,")
            if gateway, !log.contains("10.205.1.2") { return true }
            if Date() > deadline { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Sets everything up on a thread of its own (it waits for servers and moatd to start).
    /// `startingMoatd` false: the test starts it with `startMoatd(extra:)` once what it needs
    /// (a DNS server, say) runs. `extraHosts`: more names for the server's address.
    static func start(postfix: Bool, dovecot: Bool, startingMoatd: Bool = true, extraHosts: [String] = []) async throws -> TLSNetnsLab {
        try await offPool { try TLSNetnsLab(postfix: postfix, dovecot: dovecot, startingMoatd: startingMoatd, extraHosts: extraHosts) }
    }

    /// moatd with more settings: `extra[section]` lines go into that section.
    func startMoatd(extra: [String: String]) async throws {
        guard let binary = Moatd.binary else { throw GateTestFailure("the built moatd is needed") }
        let ctl = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("moat-ctl").path
        try await offPool { try self.startMoatd(binary: binary, ctl: ctl, extra: extra) }
    }

    private init(postfix withPostfix: Bool, dovecot withDovecot: Bool, startingMoatd: Bool = true, extraHosts: [String] = []) throws {
        guard let binary = Moatd.binary else { throw GateTestFailure("the built moatd is needed") }
        let ctl = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("moat-ctl").path
        for tool in ["/usr/bin/swaks", "/usr/bin/openssl", "/usr/bin/timeout", "/usr/bin/python3", "/usr/sbin/nft", "/usr/bin/ss", ctl] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw GateTestFailure("\(tool) is missing: install scripts/deps/gate.txt (scripts/install-deps.sh) and build moat-ctl")
            }
        }
        root = GateFixtures.temporaryDirectory()
        chmod(root, 0o755)
        client = try TestNamespace("tc")
        gateway = try TestNamespace("tg")
        server = try TestNamespace("ts")
        try wire()
        try makeCertificates()

        // Names: the client and the gateway resolve the servers' names through /etc/hosts; this
        // host's own name too (swaks looks it up for its HELO), as DNS is unreachable here.
        let hosts = """
            127.0.0.1 localhost
            127.0.1.1 \(ProcessInfo.processInfo.hostName)
            \(Self.serverIP) mail.test
            \(Self.selfSignedIP) selfsigned.test
            \(Self.wrongNameIP) wrongname.test
            \(extraHosts.map { "\(Self.serverIP) \($0)\n" }.joined())
            """
        for ns in [client, gateway] {
            let dir = "/etc/netns/" + ns.name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            etcNetns.append(dir)
            try hosts.write(toFile: dir + "/hosts", atomically: true, encoding: .utf8)
        }

        if withPostfix { try startPostfix() }
        if withDovecot { try startDovecot() }
        if startingMoatd { try startMoatd(binary: binary, ctl: ctl) }
    }

    deinit {
        moatd?.stop()
        postfix?.stop()
        dovecot?.stop()
        for dir in etcNetns { try? FileManager.default.removeItem(atPath: dir) }
        try? FileManager.default.removeItem(atPath: root)
    }

    private func wire() throws {
        let peer = "\(getpid() % 10000)"
        let result = run("/usr/sbin/ip", ["link", "add", "tlc\(peer)", "netns", client.name, "type", "veth",
                                         "peer", "name", "tlg\(peer)", "netns", gateway.name])
        guard result.status == 0 else { throw GateTestFailure("veth c-g: \(result.err)") }
        let result2 = run("/usr/sbin/ip", ["link", "add", "tls\(peer)", "netns", server.name, "type", "veth",
                                          "peer", "name", "tlh\(peer)", "netns", gateway.name])
        guard result2.status == 0 else { throw GateTestFailure("veth s-g: \(result2.err)") }
        try client.ip("link", "set", "tlc\(peer)", "name", "eth0")
        try gateway.ip("link", "set", "tlg\(peer)", "name", "eth0")
        try gateway.ip("link", "set", "tlh\(peer)", "name", "eth1")
        try server.ip("link", "set", "tls\(peer)", "name", "eth0")
        for (ns, device, v4) in [(client, "eth0", "10.205.1.2/24"), (gateway, "eth0", "10.205.1.1/24"),
                                 (gateway, "eth1", "10.205.2.1/24"), (server, "eth0", Self.serverIP + "/24")] {
            try ns.ip("addr", "add", v4, "dev", device)
            try ns.ip("link", "set", device, "up")
        }
        try server.ip("addr", "add", Self.selfSignedIP + "/24", "dev", "eth0")
        try server.ip("addr", "add", Self.wrongNameIP + "/24", "dev", "eth0")
        try client.ip("route", "add", "default", "via", "10.205.1.1")
        try server.ip("route", "add", "default", "via", "10.205.2.1")
        for setting in ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0"] {
            try gateway.exec("sysctl", "-qw", setting)
        }
    }

    private func openssl(_ arguments: [String]) throws {
        let result = run("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw GateTestFailure("openssl \(arguments.joined(separator: " ")): \(result.err)") }
    }

    /// The servers' CA; mail.test signed by it; a self-signed selfsigned.test; a certificate
    /// from the CA for other.test, served as wrongname.test.
    private func makeCertificates() throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + ec + ["-keyout", root + "/servers-ca.key", "-out", serverCAFile, "-days", "2",
                     "-subj", "/O=Moat tests/CN=Test Mail Servers CA", "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        for (name, san) in [("mail", "DNS:mail.test"), ("wrongname", "DNS:other.test")] {
            try openssl(["req"] + ec + ["-keyout", root + "/\(name).key", "-out", root + "/\(name).csr", "-subj", "/CN=\(san.dropFirst(4))"])
            try "subjectAltName=\(san)\nextendedKeyUsage=serverAuth\n".write(toFile: root + "/\(name).ext", atomically: true, encoding: .utf8)
            try openssl(["x509", "-req", "-in", root + "/\(name).csr", "-CA", serverCAFile, "-CAkey", root + "/servers-ca.key",
                         "-CAcreateserial", "-out", root + "/\(name).pem", "-days", "2", "-extfile", root + "/\(name).ext"])
        }
        try openssl(["req", "-x509"] + ec + ["-keyout", root + "/selfsigned.key", "-out", root + "/selfsigned.pem", "-days", "2",
                     "-subj", "/CN=selfsigned.test", "-addext", "subjectAltName=DNS:selfsigned.test"])
        serverCA = Self.describeBlocking(pem: (try? String(contentsOfFile: serverCAFile, encoding: .utf8)) ?? "")
    }

    /// Postfix as mail.test: STARTTLS on 25, SMTPS on 465, submission (TLS required) on 587;
    /// SMTPS with the bad certificates on the other two addresses.
    private func startPostfix() throws {
        let postfix = try PrivatePostfix(listen: Self.serverIP, networks: "10.205.0.0/16", namespace: server.name)
        self.postfix = postfix
        let etc = postfix.etc
        let smtpd = "inet n - n - - smtpd"
        var changes: [[String]] = [
            ["-e", "smtpd_tls_cert_file = \(root)/mail.pem", "smtpd_tls_key_file = \(root)/mail.key",
             "smtpd_tls_security_level = may", "smtpd_tls_loglevel = 1"],
            ["-M", "\(Self.serverIP):465/inet = \(Self.serverIP):465 \(smtpd) -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt"],
            ["-M", "\(Self.serverIP):587/inet = \(Self.serverIP):587 \(smtpd) -o smtpd_tls_security_level=encrypt"],
        ]
        for (ip, name) in [(Self.selfSignedIP, "selfsigned"), (Self.wrongNameIP, "wrongname")] {
            changes.append(["-M", "\(ip):465/inet = \(ip):465 \(smtpd) -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt"
                                + " -o smtpd_tls_cert_file=\(root)/\(name).pem -o smtpd_tls_key_file=\(root)/\(name).key"])
        }
        for change in changes {
            let result = run("/usr/sbin/postconf", ["-c", etc] + change)
            guard result.status == 0 else { throw GateTestFailure("postconf \(change): \(result.err)") }
        }
        let reload = run("/usr/sbin/ip", ["netns", "exec", server.name, "/usr/sbin/postfix", "-c", etc, "reload"])
        guard reload.status == 0 else { throw GateTestFailure("postfix reload: \(reload.err)\n\(postfix.log)") }
        try waitForListeners(in: server, ["\(Self.serverIP):465", "\(Self.serverIP):587", "\(Self.selfSignedIP):465",
                                          "\(Self.wrongNameIP):465"], what: "Postfix's TLS services", log: { postfix.log })
    }

    /// Dovecot as mail.test with TLS (STLS on 110, 995, STARTTLS on 143, 993) and, on the
    /// second address, a self-signed certificate; bob's mailbox holds the clean and the EICAR
    /// message.
    private func startDovecot() throws {
        let ip = Self.selfSignedIP
        let dovecot = try Dovecot(listen: Self.serverIP, pop3Port: 110, imapPort: 143, messages: MailboxFixtures.messages,
                                  namespace: server.name, extraConfig: """
            listen = \(Self.serverIP), \(ip)
            ssl = yes
            ssl_cert = <\(root)/mail.pem
            ssl_key = <\(root)/mail.key
            local \(ip) {
              ssl_cert = <\(root)/selfsigned.pem
              ssl_key = <\(root)/selfsigned.key
            }
            service imap-login {
              inet_listener imaps {
                port = 993
              }
            }
            service pop3-login {
              inet_listener pop3s {
                port = 995
              }
            }

            """)
        self.dovecot = dovecot
        try waitForListeners(in: server, [110, 995, 143, 993].flatMap { ["\(Self.serverIP):\($0)", "\(ip):\($0)"] },
                             what: "Dovecot", log: { dovecot.log })
    }

    private func waitForListeners(in ns: TestNamespace, _ addresses: [String], what: String, log: () -> String) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let ss = (try? ns.exec("/usr/bin/ss", "-ltnH")) ?? ""
            if addresses.allSatisfy({ ss.contains($0 + " ") }) { return }
            usleep(100_000)
        }
        throw GateTestFailure("\(what) not listening on \(addresses): \(log())")
    }

    /// moatd on the gateway: divert of the mail ports arriving on eth0, UnwrapSsl = Yes, the
    /// servers' CA trusted upstream; then Moat's CA exported with moat-ctl.
    private func startMoatd(binary: String, ctl: String, extra: [String: String] = [:]) throws {
        try """
            [Root]
            ControlSocket = \(root)/run/moat-ctl.sock
            VarDir = \(root)/var
            TempDir = \(root)/tmp
            LogLevel = Info
            \(extra["Root"] ?? "")

            [MailD]
            ReportLanguages = en
            \(extra["MailD"] ?? "")

            [LinuxFirewall]
            InputDivert = Auto(interface:eth0 protected:\(Self.ports.map(String.init).joined(separator: ",")))
            UnwrapSsl = Yes
            UpstreamCaCertificates = \(serverCAFile)
            \(extra["LinuxFirewall"] ?? "")
            """.write(toFile: root + "/moat.ini", atomically: true, encoding: .utf8)
        let moatd = try GatewayMoatd(binary: binary, namespace: gateway, config: root + "/moat.ini", log: root + "/moatd.log")
        self.moatd = moatd
        guard moatd.log.contains("TLS unwrapping CA ready") else {
            throw GateTestFailure("moatd has no CA for TLS unwrapping; log:\n\(moatd.log)")
        }
        let exported = run("/usr/sbin/ip", ["netns", "exec", gateway.name, ctl, "certificate", "--config", root + "/moat.ini"])
        guard exported.status == 0, exported.out.contains("BEGIN CERTIFICATE") else {
            throw GateTestFailure("moat-ctl certificate (\(exported.status)): \(exported.out)\(exported.err)")
        }
        try exported.out.write(toFile: moatCAFile, atomically: true, encoding: .utf8)
        moatCA = Self.describeBlocking(pem: exported.out)
    }

    /// SIGTERM: moatd stops and its nftables table is gone.
    func stopMoatdAndCheckTheTableIsGone() async {
        let gateway = gateway.name
        let before = await command("/usr/sbin/ip", ["netns", "exec", gateway, "/usr/sbin/nft", "list", "table", "inet", "moat"])
        #expect(before.status == 0, "the divert table while moatd runs: \(before.err)")
        guard let process = moatd?.process else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(45)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("moatd did not stop within 45 s of SIGTERM\n\(moatdLog)")
        }
        let table = await command("/usr/sbin/ip", ["netns", "exec", gateway, "/usr/sbin/nft", "list", "table", "inet", "moat"])
        #expect(table.status != 0, "the table is gone after moatd stopped: \(table.out)\n\(moatdLog)")
    }

    // MARK: Clients
    //
    // Each runs its child process on a thread of its own (offPool): the test's expectations
    // stay in the test's task, where Swift Testing attributes them to the test, and no thread
    // of the cooperative pool is held while a client waits.

    /// A command run to its end, off the cooperative pool.
    func command(_ executable: String, _ arguments: [String]) async -> (status: Int32, out: String, err: String) {
        (try? await offPool { run(executable, arguments) }) ?? (-1, "", "could not run \(executable)")
    }

    /// A shell command in a namespace (the client's by default), bounded by `timeout`.
    func shell(_ script: String, in namespace: String? = nil, seconds: Int = 90) async -> (status: Int32, out: String, err: String) {
        await command("/usr/sbin/ip", ["netns", "exec", namespace ?? client.name, "/usr/bin/timeout", "\(seconds)",
                                       "/bin/bash", "-c", script])
    }

    /// The leaf `openssl s_client` is shown (no verification), with SNI `host`.
    func presentedCertificate(host: String, port: Int, starttls: String?, namespace: String? = nil) async -> ShownCertificate {
        let result = await shell("/usr/bin/openssl s_client -connect \(host):\(port) -servername \(host)"
                                     + (starttls.map { " -starttls \($0)" } ?? "") + " </dev/null", in: namespace, seconds: 60)
        let output = result.out + result.err
        guard let start = output.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = output.range(of: "-----END CERTIFICATE-----", range: start.upperBound..<output.endIndex) else {
            return ShownCertificate(output: output)
        }
        var shown = await describe(pem: String(output[start.lowerBound..<end.upperBound]) + "\n")
        shown.output = output
        return shown
    }

    /// `openssl s_client` verifying the chain against `trusting` and the host name.
    func verifyHandshake(host: String, port: Int, starttls: String?, trusting caFile: String) async -> (ok: Bool, output: String) {
        let result = await shell("/usr/bin/openssl s_client -connect \(host):\(port) -servername \(host)"
                                     + (starttls.map { " -starttls \($0)" } ?? "")
                                     + " -CAfile \(caFile) -verify_return_error -verify_hostname \(host) </dev/null", seconds: 60)
        let output = result.out + result.err
        return (result.status == 0 && output.contains("Verify return code: 0 (ok)"), output)
    }

    func describe(certificateFile path: String) async -> ShownCertificate {
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8), pem.contains("BEGIN CERTIFICATE") else {
            return ShownCertificate()
        }
        return await describe(pem: pem)
    }

    func describe(der base64: String?) async -> ShownCertificate {
        guard let base64, let der = Data(base64Encoded: base64), !der.isEmpty else { return ShownCertificate() }
        let body = der.base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return await describe(pem: "-----BEGIN CERTIFICATE-----\n\(body)\n-----END CERTIFICATE-----\n")
    }

    func describe(pem: String) async -> ShownCertificate {
        (try? await offPool { Self.describeBlocking(pem: pem) }) ?? ShownCertificate(pem: pem)
    }

    /// Issuer, subject (RFC 2253) and DNS names of a PEM certificate, as openssl reads them.
    static func describeBlocking(pem: String) -> ShownCertificate {
        let path = GateFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try? pem.write(toFile: path + "/c.pem", atomically: true, encoding: .utf8)
        let info = run("/usr/bin/openssl", ["x509", "-in", path + "/c.pem", "-noout", "-nameopt", "RFC2253",
                                            "-issuer", "-subject", "-ext", "subjectAltName"]).out
        var shown = ShownCertificate(pem: pem)
        for line in info.split(separator: "\n") {
            if line.hasPrefix("issuer=") { shown.issuer = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("subject=") { shown.subject = String(line.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
            for item in line.split(separator: ",") where item.trimmingCharacters(in: .whitespaces).hasPrefix("DNS:") {
                shown.names.append(String(item.trimmingCharacters(in: .whitespaces).dropFirst(4)))
            }
        }
        return shown
    }

    /// Whose certificate the client was shown, in words, for failure messages.
    func explain(_ shown: ShownCertificate) -> String {
        guard shown.pem != nil else {
            return "no certificate: the handshake did not complete\n\(shown.output.suffix(1500))"
        }
        let who = shown.isIssued(by: moatCA) ? "Moat's CA"
            : shown.issuer == serverCA.subject ? "the real servers' CA: the session was relayed blind, not unwrapped"
            : shown.issuer == shown.subject ? "itself (the real server's self-signed certificate)"
            : "an unknown issuer"
        return "the client was shown a certificate for \(shown.names) (subject \(shown.subject)) issued by \(who) [\(shown.issuer)]; Moat's CA is [\(moatCA.subject)]"
    }

    /// swaks with TLS (`--tls`: STARTTLS, or `--tls-on-connect`), verifying against `trusting`.
    func swaks(host: String = "mail.test", port: Int, mode: GateTLSNetnsTests.SMTPMode, trusting caFile: String, data: String,
               peerCertificate: String? = nil) async -> (status: Int32, transcript: String) {
        var arguments = ["--server", host, "--port", "\(port)", mode == .implicit ? "--tls-on-connect" : "--tls",
                         "--tls-verify", "--tls-ca-path", caFile, "--tls-sni", host,
                         "--from", "alice@example.com", "--to", "bob@example.org", "--data", "@" + data, "--timeout", "60"]
        if let peerCertificate { arguments += ["--tls-get-peer-cert", peerCertificate] }
        let result = await command("/usr/sbin/ip", ["netns", "exec", client.name, "/usr/bin/timeout", "120", "/usr/bin/swaks"] + arguments)
        return (result.status, result.out + result.err)
    }

    /// `postcat` of a message in the server's Postfix queue.
    func postcat(_ part: String, id: String) async -> String {
        guard let postfix else { return "" }
        let etc = postfix.etc, namespace = server.name
        return await command("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/sbin/postcat", "-c", etc, part, "-q", id]).out
    }

    struct MailboxResult: Sendable {
        var error: String?
        var peerCertificate: String?
        var messages: [String] = []
    }

    static let mailboxScript = #"""
        import base64, imaplib, json, poplib, ssl, sys
        mode, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        ctx = ssl.create_default_context(cafile=cafile)  # only this CA, and the host name checked
        out = {}
        def peer(sock):
            out["peer"] = base64.b64encode(sock.getpeercert(True)).decode()
        try:
            if mode in ("pop3s", "stls"):
                if mode == "pop3s":
                    p = poplib.POP3_SSL(host, port, context=ctx, timeout=60)
                else:
                    p = poplib.POP3(host, port, timeout=60)
                    p.stls(context=ctx)
                peer(p.sock)
                p.user("bob"); p.pass_("secret")
                msgs = []
                for i in range(1, len(p.list()[1]) + 1):
                    resp, lines, octets = p.retr(i)
                    msgs.append(b"\r\n".join(lines) + b"\r\n")
                p.quit()
            else:
                if mode == "imaps":
                    m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=60)
                else:
                    m = imaplib.IMAP4(host, port, timeout=60)
                    m.starttls(ssl_context=ctx)
                peer(m.sock)
                m.login("bob", "secret")
                m.select("INBOX")
                typ, data = m.fetch("1:*", "(BODY.PEEK[])")
                msgs = [d[1] for d in data if isinstance(d, tuple)]
                m.logout()
            out["messages"] = [base64.b64encode(x).decode() for x in msgs]
        except Exception as e:
            out["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(out))
        """#

    /// Python's poplib/imaplib (`mode`: pop3s, stls, imaps, imap-starttls) reading bob's
    /// mailbox with an SSL context that trusts only `trusting`.
    func mailboxClient(mode: String, port: Int, trusting caFile: String, host: String = "mail.test") async throws -> MailboxResult {
        let path = root + "/mailbox.py"
        try Self.mailboxScript.write(toFile: path, atomically: true, encoding: .utf8)
        let result = await command("/usr/sbin/ip", ["netns", "exec", client.name, "/usr/bin/timeout", "120", "/usr/bin/python3",
                                                    path, mode, host, "\(port)", caFile])
        guard let json = try? JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any] else {
            throw GateTestFailure("mailbox client \(mode) failed (\(result.status)): \(result.out)\(result.err)")
        }
        let messages = (json["messages"] as? [String] ?? []).map {
            String(decoding: Data(base64Encoded: $0) ?? Data(), as: UTF8.self)
        }
        return MailboxResult(error: json["error"] as? String, peerCertificate: json["peer"] as? String, messages: messages)
    }
}
