import Foundation
import Testing
@testable import Gate
#if canImport(Glibc)
import Glibc
#endif

/// Differential test of the transparent SMTP path against a real Postfix (Debian's, lenient by
/// default: `smtpd_forbid_bare_newline = no`): a grammar of dialogues (verb spellings, line
/// ends, SMTP smuggling ends, BDAT, dot-stuffing edges, NUL and 8-bit bytes, over-long lines,
/// pipelining), each carrying EICAR, is run straight to Postfix and then through the diverted
/// Gate (the real moatd in a gateway namespace). Goal: every dialogue that Postfix delivers
/// directly is refused or scanned by the Gate; **0 EICAR messages delivered through it**. A
/// message counts as delivered when Postfix queued a message whose header carries the
/// dialogue's EICAR marker. The table goes to the test output.
@Suite(.serialized, .enabled(if: TestNamespace.available, "needs root and ip/nft for network namespaces"))
struct SMTPDifferentialTests {
    struct Row { var id: String; var name: String; var kind: String; var direct = 0; var gate = 0; var gateCleanDelivered = 0; var gateReply = "" }

    @Test func noDialogueDeliversEICARThroughTheGate() async throws {
        let rows = try await offPool { try Self.runDialogues() }
        print(Self.table(rows))
        #expect(rows.count >= 40)
        for row in rows where row.kind == "eicar" {
            #expect(row.gate == 0, "\(row.id) \(row.name): \(row.gate) EICAR message(s) delivered through the Gate")
        }
        for row in rows where row.kind == "clean" {
            #expect(row.gateCleanDelivered == 1, "\(row.id) \(row.name): clean mail must pass the Gate")
        }
        // The grammar is worth something only if Postfix takes most of it directly.
        #expect(rows.filter { $0.kind == "eicar" && $0.direct > 0 }.count >= 20, "\(Self.table(rows))")
    }

    static func table(_ rows: [Row]) -> String {
        var out = "SMTP differential (Postfix direct vs through the Gate): EICAR messages delivered\n"
        out += "id  | direct | gate | gate's last reply                      | dialogue\n"
        for row in rows {
            let reply = row.gateReply.replacingOccurrences(of: "\r", with: "").split(separator: "\n").last.map(String.init) ?? ""
            let shown = row.kind == "clean" ? "\(row.gateCleanDelivered) clean" : "\(row.gate)"
            out += "\(row.id) | \(String(row.direct).padding(toLength: 6, withPad: " ", startingAt: 0)) | "
                + "\(shown.padding(toLength: 4, withPad: " ", startingAt: 0)) | "
                + "\(String(reply.prefix(38)).padding(toLength: 38, withPad: " ", startingAt: 0)) | \(row.name)\n"
        }
        let eicar = rows.filter { $0.kind == "eicar" }
        out += "dialogues: \(rows.count); EICAR delivered directly in \(eicar.filter { $0.direct > 0 }.count), "
            + "through the Gate in \(eicar.filter { $0.gate > 0 }.count)\n"
        return out
    }

    static let driver = #"""
import json, socket, sys, time, select

host, port, eicar_path, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
EICAR_MSG = open(eicar_path, "rb").read()  # a MIME message with EICAR as a base64 attachment, CRLF lines

def eicar(marker, eol=b"\r\n"):
    msg = b"X-Dialogue: " + marker.encode() + b"-eicar\r\n" + EICAR_MSG
    return msg.replace(b"\r\n", eol)

def clean(marker, eol=b"\r\n"):
    return (b"X-Dialogue: " + marker.encode() + b"-clean\r\nSubject: clean\r\n\r\nHello.\r\n").replace(b"\r\n", eol)

def stuff(msg):
    out = []
    for line in msg.split(b"\n"):
        out.append(b"." + line if line.startswith(b".") else line)
    return b"\n".join(out)

FROM, TO = b"MAIL FROM:<alice@client.test>\r\n", b"RCPT TO:<bob@example.org>\r\n"

def transaction(mail=FROM, rcpt=TO, data=b"DATA\r\n", body=b"", end=b"\r\n.\r\n"):
    # steps: (bytes, wait for a reply?)
    return [(mail, True), (rcpt, True), (data, True), (body + end, True)]

dialogues = []
def add(name, steps, kind="eicar"):
    dialogues.append({"id": "D%02d" % (len(dialogues) + 1), "name": name, "steps": steps, "kind": kind})

# 1. The DATA verb as Postfix and Exim read it; command line ends CRLF and bare LF.
for verb in [b"DATA", b"data", b" DATA", b"DATA ", b"DATA\t", b"\tDATA", b"  Data ", b"DaTa\t "]:
    for eol in [b"\r\n", b"\n"]:
        add("DATA spelled %r, line end %r" % (verb, eol), lambda m, v=verb, e=eol: transaction(data=v + e, body=stuff(eicar(m)).rstrip(b"\r\n")))
# 2. MAIL and RCPT spellings.
for mail, rcpt in [(b"mail from:<alice@client.test>\r\n", b"rcpt to:<bob@example.org>\r\n"),
                   (b"MAIL FROM: <alice@client.test>\r\n", b"RCPT TO: <bob@example.org>\r\n"),
                   (b" MAIL FROM:<alice@client.test>\r\n", b"\tRCPT TO:<bob@example.org>\r\n"),
                   (b"MAIL FROM:<alice@client.test> \n", b"RCPT TO:<bob@example.org>\t\n")]:
    add("MAIL %r RCPT %r" % (mail, rcpt), lambda m, a=mail, b=rcpt: transaction(mail=a, rcpt=b, body=stuff(eicar(m)).rstrip(b"\r\n")))
# 3. SMTP smuggling: a clean message, a non-standard end of data, then a second message with EICAR.
for sep in [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r", b"\n.\r"]:
    def smuggle(m, s=sep):
        inner = FROM + TO + b"DATA\r\n" + stuff(eicar(m))
        return transaction(body=clean(m + "-first").rstrip(b"\r\n") + s + inner.rstrip(b"\r\n"))
    add("smuggling, end of data %r" % sep, smuggle)
# 4. BDAT (CHUNKING), with and without the spellings.
for verb in [b"BDAT", b"bdat", b" BDAT"]:
    def bdat(m, v=verb):
        msg = eicar(m)
        return [(FROM, True), (TO, True), (v + b" %d LAST\r\n" % len(msg) + msg, True)]
    add("%r <size> LAST" % verb, bdat)
def bdat_two(m):
    msg = eicar(m); half = len(msg) // 2
    return [(FROM, True), (TO, True), (b"BDAT %d\r\n" % half + msg[:half], True), (b"BDAT %d LAST\r\n" % (len(msg) - half) + msg[half:], True)]
add("BDAT in two chunks", bdat_two)
add("BDAT with an overflowing size", lambda m: [(FROM, True), (TO, True), (b"BDAT 99999999999999999999 LAST\r\n" + eicar(m), True)])
add("BDAT then DATA", lambda m: [(FROM, True), (TO, True), (b"BDAT 10\r\n0123456789", True), (b"DATA\r\n", True), (stuff(eicar(m)) + b".\r\n", True)])
# 5. Dot-stuffing edges.
add("lines '..', '. ', '.x', '.' in the text part", lambda m: transaction(
    body=stuff(eicar(m).replace(b"See attachment.\r\n", b"See attachment.\r\n..\r\n. \r\n.x\r\n.\r\n")).rstrip(b"\r\n")))
add("the terminator in 1-byte writes", lambda m: [(FROM, True), (TO, True), (b"DATA\r\n", True),
    (stuff(eicar(m)).rstrip(b"\r\n"), False)] + [(bytes([b]), False) for b in b"\r\n.\r"] + [(b"\n", True)])
# 6. NUL and 8-bit bytes; over-long lines.
add("NUL and 8-bit bytes in the header", lambda m: transaction(body=stuff(b"X-Odd: a\x00b\xe9\xff\r\n" + eicar(m)).rstrip(b"\r\n")))
add("a 5000-octet line before the attachment", lambda m: transaction(body=stuff(b"X-Long: " + b"y" * 5000 + b"\r\n" + eicar(m)).rstrip(b"\r\n")))
add("NUL inside the DATA command", lambda m: transaction(data=b"DATA\x00\r\n", body=stuff(eicar(m)).rstrip(b"\r\n")))
add("an over-long DATA command line", lambda m: transaction(data=b"DATA" + b" " * 3000 + b"\r\n", body=stuff(eicar(m)).rstrip(b"\r\n")))
# 7. Pipelining.
add("MAIL RCPT DATA in one write", lambda m: [(FROM + TO + b"DATA\r\n", True), (stuff(eicar(m)) + b".\r\n", True)])
add("MAIL RCPT DATA and the message in one write", lambda m: [(FROM + TO + b"DATA\r\n" + stuff(eicar(m)) + b".\r\n", True)])
add("RSET, then a new transaction", lambda m: [(FROM, True), (b"RSET\r\n", True)] + transaction(body=stuff(eicar(m)).rstrip(b"\r\n")))
add("two MAIL commands", lambda m: [(FROM, True)] + transaction(body=stuff(eicar(m)).rstrip(b"\r\n")))
add("DATA with a refused recipient, the body as commands", lambda m: [(FROM, True), (b"RCPT TO:<>\r\n", True), (b"DATA\r\n", True),
    (FROM + TO + b"DATA\r\n", True), (stuff(eicar(m)) + b".\r\n", True)])
# 8. Unknown verbs that a lenient server might take for something else.
for verb in [b"XDATA", b"DATA2", b"HELP DATA"]:
    add("%r then the message" % verb, lambda m, v=verb: [(FROM, True), (TO, True), (v + b"\r\n", True), (stuff(eicar(m)) + b".\r\n", True)])
# 9. Controls: clean mail must still get through the Gate.
add("clean, canonical", lambda m: transaction(body=stuff(clean(m)).rstrip(b"\r\n")), kind="clean")
add("clean, pipelined", lambda m: [(FROM + TO + b"DATA\r\n", True), (stuff(clean(m)) + b".\r\n", True)], kind="clean")

def read_replies(sock, timeout):
    """Reads until a final reply line (ddd SP) arrives or `timeout` passes; returns the text."""
    data = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([sock], [], [], max(0, end - time.time()))
        if not r:
            break
        chunk = sock.recv(65536)
        if not chunk:
            data += b"<closed>"
            break
        data += chunk
        lines = data.split(b"\n")
        complete = [l for l in lines[:-1]]
        if complete and len(complete[-1]) >= 4 and complete[-1][3:4] == b" ":
            # more replies may follow a pipelined write: a short grace period
            end = min(end, time.time() + 0.05)
    return data.decode("latin-1")

results = []
for d in dialogues:
    steps = d["steps"](d["id"])
    transcript = []
    try:
        sock = socket.create_connection((host, port), timeout=10)
        transcript.append(read_replies(sock, 10))
        sock.sendall(b"EHLO client.test\r\n")
        transcript.append(read_replies(sock, 10))
        for chunk, wait in steps:
            sock.sendall(chunk)
            if wait:
                transcript.append(read_replies(sock, 15))
        sock.sendall(b"QUIT\r\n")
        transcript.append(read_replies(sock, 5))
        sock.close()
    except Exception as e:
        transcript.append("<error %s>" % e)
    results.append({"id": d["id"], "name": d["name"], "kind": d["kind"], "transcript": transcript})
json.dump(results, open(out_path, "w"), indent=1)
"""#

    static func runDialogues() throws -> [Row] {
        let binary = try #require(Moatd.binary, "the built moatd is needed")
        let client = try TestNamespace("dc"), gateway = try TestNamespace("dg"), server = try TestNamespace("ds")
        let peer = "\(getpid() % 10000)"
        for (a, b, ns1, ns2) in [("ddc", "ddg", client, gateway), ("dds", "ddh", server, gateway)] {
            let result = run("/usr/sbin/ip", ["link", "add", a + peer, "netns", ns1.name, "type", "veth",
                                                  "peer", "name", b + peer, "netns", ns2.name])
            guard result.status == 0 else { throw GateTestFailure("veth: \(result.err)") }
        }
        try client.ip("link", "set", "ddc\(peer)", "name", "eth0")
        try gateway.ip("link", "set", "ddg\(peer)", "name", "eth0")
        try gateway.ip("link", "set", "ddh\(peer)", "name", "eth1")
        try server.ip("link", "set", "dds\(peer)", "name", "eth0")
        for (ns, device, v4) in [(client, "eth0", "10.205.1.2/24"), (gateway, "eth0", "10.205.1.1/24"),
                                 (gateway, "eth1", "10.205.2.1/24"), (server, "eth0", "10.205.2.2/24")] {
            try ns.ip("addr", "add", v4, "dev", device)
            try ns.ip("link", "set", device, "up")
        }
        try client.ip("route", "add", "default", "via", "10.205.1.1")
        try server.ip("route", "add", "default", "via", "10.205.2.1")
        for setting in ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0"] {
            try gateway.exec("sysctl", "-qw", setting)
        }
        let postfix = try PrivatePostfix(listen: "10.205.2.2", networks: "10.205.0.0/16", namespace: server.name)
        defer { postfix.stop() }
        let root = GateFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        chmod(root, 0o755)
        try driver.write(toFile: root + "/dialogues.py", atomically: true, encoding: .utf8)
        try GateFixtures.eicarMessage().write(toFile: root + "/eicar.eml", atomically: true, encoding: .utf8)

        func dialogues(_ out: String) throws -> [[String: Any]] {
            let result = run("/usr/sbin/ip", ["netns", "exec", client.name, "/usr/bin/python3", root + "/dialogues.py",
                                                  "10.205.2.2", "25", root + "/eicar.eml", out])
            guard result.status == 0, let data = FileManager.default.contents(atPath: out),
                  let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
                throw GateTestFailure("dialogue driver: \(result.status) \(result.err)")
            }
            return list
        }
        /// Markers of the messages Postfix queued, then the queue emptied.
        func delivered() -> [String] {
            usleep(500_000)
            var markers: [String] = []
            for file in postfix.queueFiles() {
                let id = String(file.split(separator: "/").last ?? "")
                let header = postfix.postcat("-h", id: id).out
                for line in header.split(separator: "\n") where line.hasPrefix("X-Dialogue: ") {
                    markers.append(String(line.dropFirst("X-Dialogue: ".count)))
                }
            }
            _ = run("/usr/sbin/ip", ["netns", "exec", server.name, "/usr/sbin/postsuper", "-c", postfix.etc, "-d", "ALL"])
            return markers
        }

        let direct = try dialogues(root + "/direct.json")
        let directMarkers = delivered()

        try """
            [Root]
            ControlSocket = \(root)/run/moat-ctl.sock
            VarDir = \(root)/var
            TempDir = \(root)/tmp
            LogLevel = Notice

            [MailD]
            ReportLanguages = en

            [LinuxFirewall]
            InputDivert = Auto(interface:eth0 protected:25)
            """.write(toFile: root + "/moat.ini", atomically: true, encoding: .utf8)
        let moatd = try GatewayMoatd(binary: binary, namespace: gateway, config: root + "/moat.ini", log: root + "/moatd.log")
        let viaGate = try dialogues(root + "/gate.json")
        let gateMarkers = delivered()
        moatd.stop()
        withExtendedLifetime((client, gateway, server)) {}

        var rows: [Row] = []
        for (index, entry) in direct.enumerated() {
            let id = entry["id"] as? String ?? "?"
            var row = Row(id: id, name: entry["name"] as? String ?? "?", kind: entry["kind"] as? String ?? "?")
            row.direct = directMarkers.filter { $0 == id + "-eicar" }.count
            row.gate = gateMarkers.filter { $0 == id + "-eicar" }.count
            row.gateCleanDelivered = gateMarkers.filter { $0 == id + "-clean" }.count
            if index < viaGate.count, let transcript = viaGate[index]["transcript"] as? [String] {
                row.gateReply = transcript.dropLast().last(where: { !$0.isEmpty }) ?? ""
            }
            rows.append(row)
        }
        return rows
    }
}
