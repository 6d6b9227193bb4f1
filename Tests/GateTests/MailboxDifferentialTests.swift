import Foundation
import NIOCore
import Testing
@testable import Gate

/// Differential test of POP3 and IMAP against a real Dovecot: every way to fetch message bytes
/// (RETR/TOP in several spellings, pipelined; FETCH and UID FETCH with every content item,
/// partial ranges, BINARY, literal+ in the command, 1-byte slices reassembled) is tried straight
/// against Dovecot and through the Gate. Goal: none gets EICAR (raw or its base64) to the
/// client through the Gate. The table goes to the test output.
@Suite(.serialized, .enabled(if: getuid() == 0, "Dovecot's static user needs root to start"))
struct MailboxDifferentialTests {
    static let driver = #"""
import base64, json, socket, sys, time, select

host, pop3_port, imap_port, out_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
B64 = base64.b64encode(EICAR)

def leaked(data):
    return EICAR in data or B64 in data

def talk(port, script, quiet=0.3, limit=15):
    """Connects, then for each chunk: send it and read until the line `until` arrives (or quiet)."""
    sock = socket.create_connection((host, port), timeout=10)
    got = b""
    def read_until(marker):
        nonlocal got
        end = time.time() + limit
        buf = b""
        while time.time() < end:
            r, _, _ = select.select([sock], [], [], min(quiet, max(0, end - time.time())))
            if not r:
                if marker is None:
                    break
                continue
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
            if marker is not None and marker in buf:
                # a FETCH literal may contain the marker text; the tagged line ends the reply
                if buf.endswith(b"\r\n") or buf.endswith(b"\n"):
                    break
        got += buf
        return buf
    for chunk, marker in script:
        if chunk:
            sock.sendall(chunk)
        read_until(marker)
    sock.close()
    return got

results = []
def record(proto, form, data):
    results.append({"proto": proto, "form": form, "leaked": leaked(data), "bytes": len(data)})

# POP3: each form on a fresh, logged-in connection.
POP3_LOGIN = [(None, b"+OK"), (b"USER bob\r\n", b"+OK"), (b"PASS secret\r\n", b"+OK")]
pop3_forms = [b"RETR 2", b"retr 2", b" RETR 2", b"RETR\t2", b"RETR 2 ", b"Retr  2", b"TOP 2 9999", b"top 2 100",
              b"TOP\t2\t50", b"TOP 2 0", b"RETR 02", b"RETR +2", b"RETR 2\x00", b"UIDL 2", b"LIST"]
for form in pop3_forms:
    data = talk(pop3_port, POP3_LOGIN + [(form + b"\r\n", None), (b"QUIT\r\n", None)])
    record("POP3", form.decode("latin-1"), data)
for name, batch in [("CAPA + RETR 2 pipelined", b"CAPA\r\nRETR 2\r\n"), ("RETR 1 + RETR 2 pipelined", b"RETR 1\r\nRETR 2\r\n"),
                    ("RETR 2 with a bare LF", b"RETR 2\n")]:
    data = talk(pop3_port, POP3_LOGIN + [(batch, None), (b"QUIT\r\n", None)])
    record("POP3", name, data)

# IMAP: each form on a fresh connection, logged in, INBOX selected.
IMAP_LOGIN = [(None, b"* OK"), (b"a LOGIN bob secret\r\n", b"a OK"), (b"b SELECT INBOX\r\n", b"b OK")]
items = ["BODY[]", "BODY.PEEK[]", "RFC822", "RFC822.TEXT", "BODY[TEXT]", "BODY.PEEK[TEXT]", "BODY[1]", "BODY[2]",
         "BODY.PEEK[2]", "BINARY[2]", "BINARY.PEEK[2]", "BINARY[]", "BINARY.PEEK[]", "BODY[]<0.100000>",
         "BODY.PEEK[2]<0.200>", "BINARY.PEEK[2]<0.100>", "BODY.PEEK[2.MIME]", "(FLAGS BODY.PEEK[1] BODY.PEEK[2])",
         "(UID RFC822.SIZE BODY.PEEK[TEXT]<10.5000>)", "BINARY.PEEK[2]<20.40>"]
forms = []
for item in items:
    forms.append(("FETCH 2 " + item, b"c FETCH 2 " + item.encode() + b"\r\n"))
for text in [b"c UID FETCH 2 BODY.PEEK[2]", b"c fetch 2 body.peek[2]", b"c uid fetch 2 (binary.peek[2])",
             b"c FETCH 2:* BODY.PEEK[2]", b"c FETCH * BODY.PEEK[]", b"c UID FETCH 1:* (BODY.PEEK[2])", b"c FETCH 1,2 BODY.PEEK[TEXT]",
             b"c FETCH 2 (BODY.PEEK[2] BODY.PEEK[HEADER.FIELDS ({4+}\r\nDATE)])",
             b"c FETCH 2 (BODY.PEEK[HEADER.FIELDS ({4+}\r\nDATE)] BODY.PEEK[2])"]:
    forms.append((text.decode("latin-1"), text + b"\r\n"))
for name, command in forms:
    data = talk(imap_port, IMAP_LOGIN + [(command, b"c "), (b"z LOGOUT\r\n", None)])
    record("IMAP", name, data)
# 1-byte slices of the attachment's text, reassembled by the client.
script = IMAP_LOGIN[:]
for offset in range(0, 140):
    script.append((b"s%d FETCH 2 BODY.PEEK[2]<%d.1>\r\n" % (offset, offset), b"s%d " % offset))
script.append((b"z LOGOUT\r\n", None))
data = talk(imap_port, script)
# the literal bytes of each slice, in order
pieces = []
i = 0
while True:
    j = data.find(b"{1}\r\n", i)
    if j < 0:
        break
    pieces.append(data[j + 5:j + 6])
    i = j + 6
record("IMAP", "1-byte slices of BODY.PEEK[2], reassembled", b"".join(pieces))
json.dump(results, open(out_path, "w"), indent=1)
"""#

    struct Form: Sendable { var proto: String; var form: String; var leaked: Bool }

    static func forms(pop3Port: Int, imapPort: Int, dir: String, tag: String) throws -> [Form] {
        let out = dir + "/\(tag).json"
        let result = run("/usr/bin/python3", [dir + "/forms.py", "127.0.0.1", "\(pop3Port)", "\(imapPort)", out])
        guard result.status == 0, let data = FileManager.default.contents(atPath: out),
              let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw GateTestFailure("fetch-form driver: \(result.status) \(result.err)")
        }
        return list.map { Form(proto: $0["proto"] as? String ?? "?", form: $0["form"] as? String ?? "?",
                               leaked: $0["leaked"] as? Bool ?? true) }
    }

    @Test func noFetchFormGetsEICARThroughTheGate() async throws {
        // A port range no other Dovecot test uses (suites run side by side).
        let pop3Port = 30110 + Int(getpid() % 500), imapPort = pop3Port + 1000
        let dovecot = try Dovecot(listen: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort, messages: MailboxFixtures.messages)
        defer { dovecot.stop() }
        let dir = GateFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.driver.write(toFile: dir + "/forms.py", atomically: true, encoding: .utf8)
        let pop3 = try await GateFixtures.gate(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: pop3Port), protocol: .pop3)
        defer { pop3.channels.forEach { $0.close(promise: nil) } }
        let imap = try await GateFixtures.gate(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: imapPort), protocol: .imap)
        defer { imap.channels.forEach { $0.close(promise: nil) } }
        let (gatePOP3, gateIMAP) = (pop3.port, imap.port)
        let (direct, viaGate) = try await offPool { () -> ([Form], [Form]) in
            (try Self.forms(pop3Port: pop3Port, imapPort: imapPort, dir: dir, tag: "direct"),
             try Self.forms(pop3Port: gatePOP3, imapPort: gateIMAP, dir: dir, tag: "gate"))
        }
        #expect(direct.count == viaGate.count)
        var table = "POP3/IMAP differential (Dovecot direct vs through the Gate): EICAR reaches the client?\n"
        table += "proto | direct | gate | form\n"
        var leakedDirect = 0
        for (d, g) in zip(direct, viaGate) {
            let form = d.form.debugDescription
            if d.leaked { leakedDirect += 1 }
            table += "\(d.proto)  | \(d.leaked ? "yes   " : "no    ") | \(g.leaked ? "YES " : "no  ") | \(form)\n"
            #expect(!g.leaked, "\(d.proto) \(form): EICAR reached the client through the Gate")
        }
        table += "forms: \(direct.count); EICAR to the client directly in \(leakedDirect), "
            + "through the Gate in \(viaGate.filter(\.leaked).count)\n"
        print(table)
        #expect(leakedDirect >= 25, "the forms must reach the content directly: \(table)")
        #expect(dovecot.process.isRunning, "\(dovecot.log)")
    }
}
