#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/seeds/<target>/ from the peer dialogues in
shared/reference/protocols.md (Postfix milter, spamc, Exim/rspamc, clamdscan, SMTP, POP3,
IMAP sessions). Each seed starts with the bytes the target's harness reads as choices (see
Targets/<Target>/main.swift); `Splits` takes a 0x00 head byte as "no cuts"."""
import os, ssl, struct, zlib

here = os.path.dirname(os.path.abspath(__file__))

def write(target, name, data):
    d = os.path.join(here, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

MSG = (b"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: lunch\r\n"
       b"Message-ID: <clean-1@example.com>\r\n\r\nShall we meet at noon?\r\n.dot line\r\n")

# --- milter: Postfix 3.7, milter_protocol = 6 (protocols.md 1.6)
def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data
def s0(*xs):
    return b"".join(x + b"\0" for x in xs)
postfix = (pkt(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
    + pkt(b"D", b"C" + s0(b"j", b"mx.example.org", b"{daemon_name}", b"mx", b"v", b"Postfix 3.7.11"))
    + pkt(b"C", s0(b"client.example.com") + b"4" + struct.pack(">H", 40000) + s0(b"192.0.2.1"))
    + pkt(b"D", b"H") + pkt(b"H", s0(b"client.example.com"))
    + pkt(b"D", b"M" + s0(b"i", b"4XyZ1", b"{mail_addr}", b"alice@example.com"))
    + pkt(b"M", s0(b"<alice@example.com>", b"SIZE=120"))
    + pkt(b"D", b"R" + s0(b"{rcpt_addr}", b"bob@example.org")) + pkt(b"R", s0(b"<bob@example.org>"))
    + pkt(b"D", b"T") + pkt(b"T")
    + pkt(b"D", b"L") + pkt(b"L", s0(b"From", b" Alice <alice@example.com>"))
    + pkt(b"L", s0(b"Subject", b" lunch"))
    + pkt(b"D", b"N") + pkt(b"N")
    + pkt(b"D", b"B") + pkt(b"B", b"Shall we meet at noon?\r\n")
    + pkt(b"D", b"E" + s0(b"i", b"4XyZ1")) + pkt(b"E"))
write("milter-codec", "postfix-session", b"\xff\x00" + postfix + pkt(b"A") + pkt(b"Q"))
write("milter-codec", "sendmail-unix-connect", b"\xff\x00" + pkt(b"O", struct.pack(">III", 2, 0x1FF, 0x7F))
      + pkt(b"C", s0(b"localhost") + b"U") + pkt(b"K") + pkt(b"U", s0(b"XYZZY")))
write("milter-codec", "oversized", b"\x05\x03\x00\x01\x00\x02\x00\x03" + postfix[:40])
# milter-session: byte0 = profile, then events (0 = MTA bytes: length byte + bytes; 5 = verdict)
def mta(data):
    out = b""
    for i in range(0, len(data), 200):
        chunk = data[i:i + 200]
        out += b"\x00" + bytes([len(chunk)]) + chunk
    return out
write("milter-session", "postfix-pass", b"\x00" + mta(postfix) + b"\x05\x00\x00\x00" + mta(pkt(b"A") + pkt(b"Q")))
write("milter-session", "postfix-repack", b"\x00" + mta(postfix) + b"\x05\x00\x05\x01X-Virus\0found\0\x10Subject: new\r\n\r\nbody"
      + mta(pkt(b"A")) + mta(postfix[postfix.index(pkt(b"D", b"M" + s0(b"i", b"4XyZ1", b"{mail_addr}", b"alice@example.com"))):]) + b"\x06\x01")
write("milter-session", "spooled", b"\x01" + mta(postfix) + b"\x07\x05\x00\x02")

# --- spamd: spamc 4.0 (SPAMC/1.5), Exim (SPAMC/1.2), Compress: zlib
write("spamd", "spamc-check", b"\x00\x00" + b"CHECK SPAMC/1.5\r\nUser: alice\r\nContent-length: %d\r\n\r\n" % len(MSG) + MSG)
write("spamd", "exim-report", b"\x00\x00" + b"REPORT SPAMC/1.2\r\nContent-length: %d\r\n\r\n" % len(MSG) + MSG)
write("spamd", "ping", b"\x00\x00PING SPAMC/1.2\r\n\r\n")
write("spamd", "old-ping-twice", b"\x00\x03\x00\x05\x00\x10\x00\x20PING SPAMC/1.2\r\nSKIP SPAMC/1.2\r\n")
z = zlib.compress(MSG * 3)
write("spamd", "compress-zlib", b"\x00\x00" + b"PROCESS SPAMC/1.5\r\nCompress: zlib\r\nContent-length: %d\r\n\r\n" % len(z) + z)
write("spamd", "compress-zlib-eof", b"\x00\x00" + b"SYMBOLS SPAMC/1.5\r\nCompress: zlib\r\n\r\n" + z)
write("spamd", "small-limits", b"\x01\x04\x20\x03\x07\x00" + b"HEADERS SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(MSG) + MSG)

# --- rspamd: Exim legacy RSPAMC/1.3, rspamc HTTP/1.0, HTTP/1.1 chunked keep-alive
legacy = (b"CHECK RSPAMC/1.3\r\nContent-length: %d\r\nQueue-Id: 1abc-00001-XY\r\nFrom: <alice@example.com>\r\n"
          b"Recipient-Number: 1\r\nRcpt: <bob@example.org>\r\nHelo: client.example.com\r\nIP: 192.0.2.1\r\n\r\n") % len(MSG) + MSG
write("rspamd", "exim-legacy", b"\x00\x00" + legacy)
http10 = (b"POST /checkv2 HTTP/1.0\r\nContent-Length: %d\r\nConnection: close\r\nContent-Type: text/plain\r\n"
          b"User: someuser\r\nIp: 192.0.2.1\r\nUser-Agent: rspamc\r\nFlags: body_block\r\nFrom: s@example.com\r\n"
          b"Rcpt: r@example.com\r\nRcpt: q@example.com\r\n\r\n") % len(MSG) + MSG
write("rspamd", "rspamc-http10", b"\x00\x00" + http10)
chunks = b"".join(b"%x\r\n" % len(MSG[i:i+40]) + MSG[i:i+40] + b"\r\n" for i in range(0, len(MSG), 40))
http11 = (b"POST /checkv2 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
          + b"0;ext=1\r\nX-Trailer: yes\r\n\r\nGET /ping HTTP/1.1\r\nConnection: close\r\n\r\n")
write("rspamd", "chunked-keepalive", b"\x00\x00" + http11)
write("rspamd", "chunked-small-limits", b"\x01\x08\x30\x04\x05\x00" + http11)

# --- clamd: clamdscan, clamav-milter, Exim, old style
def instream(data, size):
    return b"".join(struct.pack(">I", len(data[i:i+size])) + data[i:i+size] for i in range(0, len(data), size)) + b"\0\0\0\0"
eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
write("clamd", "clamdscan-instream", b"\x00\x00zINSTREAM\0" + instream(MSG + eicar, 64))
write("clamd", "milter-idsession", b"\x00\x00zIDSESSION\0zPING\0zINSTREAM\0" + instream(MSG, 30) + b"zVERSION\0zEND\0")
write("clamd", "n-style", b"\x00\x00nVERSIONCOMMANDS\nnSCAN /tmp/x\nnINSTREAM\n" + instream(eicar, 1000))
write("clamd", "bare", b"\x00\x00PING\r\n")
write("clamd", "quota", b"\x03\x04\x05\x00zINSTREAM\0" + instream(MSG, 16))

# --- SMTP line codec: a whole session's bytes, both directions
smtp_client = (b"EHLO client.example.com\r\nMAIL FROM:<alice@example.com> SIZE=120\r\nRCPT TO:<bob@example.org>\r\n"
               b"DATA\r\n" + MSG + b".\r\nQUIT\r\n")
smtp_server = (b"220 mx.example.org ESMTP Postfix\r\n250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
               b"250-STARTTLS\r\n250-CHUNKING\r\n250 8BITMIME\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
               b"250 2.0.0 Ok: queued as 4XyZ1\r\n221 2.0.0 Bye\r\n")
write("smtp-lines", "client", b"\xff\x00" + smtp_client)
write("smtp-lines", "server", b"\xff\x00" + smtp_server)
write("smtp-lines", "cut-lines", b"\x10\x02\x00\x05\x00\x09" + b"x" * 40 + b"\nabc\r\n" + b"y" * 20)

# --- SMTP session: events (see FuzzSMTPSession): client 0x80|0 = bytes up to NUL then LF;
# server 0x06 = reply to the oldest command: code index, [DATA byte], text up to NUL
def c(line): return b"\x80" + line + b"\0"
def s(code, text=b"ok", data=None):
    return b"\x06" + bytes([code]) + (bytes([data]) if data is not None else b"") + text + b"\0"
greet = s(1, b"mx.example.org ESMTP")
ehlo = c(b"EHLO client.example.com\r") + b"\x36\x00mx.example.org\0"  # 250 with 3 continuation lines
txn = (c(b"MAIL FROM:<alice@example.com>\r") + s(0) + c(b"RCPT TO:<bob@example.org>\r") + s(0)
       + c(b"DATA\r") + b"".join(c(l) for l in MSG.split(b"\r\n")[:-1]) + c(b".\r"))
deliver = b"\x0b\x00" + s(15, b"go ahead", data=0) + b"\x0d\x01" + s(0, b"queued")
write("smtp-session", "deliver", greet + ehlo + txn + deliver + c(b"QUIT\r") + s(2))
write("smtp-session", "reject-pipelined", greet + ehlo + b"\x00MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n\0" + s(0) + s(0)
      + b"\x00Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n\0" + b"\x0b\x01bad\0" + s(0) + s(2))
write("smtp-session", "starttls", greet + ehlo + b"\x00STARTTLS\r\nMAIL FROM:<evil@x>\r\n\0" + b"\x46\x01Ready\0" + b"\x0d\x00"
      + c(b"EHLO again\r") + s(0) + txn + b"\x0b\x02later\0")
write("smtp-session", "bdat-auth-keepalive", greet + ehlo + c(b"AUTH PLAIN\r") + s(4, b"") + c(b"AGFsaWNlAHNlY3JldA==\r") + s(3)
      + c(b"BDAT 5 LAST\r") + c(b"hello") + c(b"XCLIENT ADDR=1.2.3.4\r") + txn + b"\x0c\x0c" + s(0) + b"\x0e\x00")
write("smtp-session", "data-variants", greet + ehlo + c(b"MAIL FROM:<a@b>\r") + s(0) + c(b"RCPT TO:<c@d>\r") + s(0)
      + c(b"data\r") + c(b"x\r") + c(b".\r"))

# --- POP3
pop_server = (b"+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n+OK\r\nTOP\r\nUSER\r\nPIPELINING\r\nSTLS\r\n.\r\n"
              b"+OK\r\n+OK logged in\r\n+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n+OK 120 octets\r\n" + MSG.replace(b"\r\n.dot", b"\r\n..dot")
              + b".\r\n+OK bye\r\n")
write("pop3-codec", "server", b"\xff\x26\x00" + pop_server)
write("pop3-codec", "client", b"\xff\x00\x00CAPA\r\nUSER alice\r\nPASS secret\r\nLIST\r\nRETR 1\r\nQUIT\r\n")
def pc(line): return b"\x80" + line + b"\0"
ps = b"\x03"            # server writes its reply to the oldest command (ok byte, text)
def pr(ok=1, text=b"ok"): return b"\x03" + bytes([ok]) + text + b"\0"
read_all = b"\x86"
write("pop3-session", "retr-pass", b"\x00" + ps + read_all + pc(b"CAPA\r") + pr(1, b"") + b"\x02" + read_all
      + pc(b"USER alice\r") + pr() + read_all + pc(b"PASS secret\r") + pr() + read_all
      + pc(b"RETR 1\r") + pr(1, b"hello") + b"\x03line one\0.dotted\0" + read_all + b"\x09\x00\x00" + pc(b"QUIT\r") + pr() + read_all)
write("pop3-session", "retr-replace-top", b"\x05" + ps + read_all + pc(b"TOP 1 5\r") + pr(1, b"x") + read_all
      + pc(b"RETR 2\r") + pr(1, b"big") + b"\x06\x20\x06\x20\x86" + b"\x09\x00\x01")
write("pop3-session", "stls", b"\x00" + ps + read_all + b"\x00STLS\r\nUSER injected\r\n\0" + pr(1, b"go") + b"\x0b\x02"
      + pc(b"CAPA\r"))

# --- IMAP
imap_server = (b"* OK [CAPABILITY IMAP4rev1 STARTTLS COMPRESS=DEFLATE LITERAL+] ready\r\n"
               b"* CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE\r\na1 OK done\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n"
               b"a2 OK [READ-WRITE] SELECT\r\n* 1 FETCH (UID 5 FLAGS (\\Seen) BODY[] {%d}\r\n" % len(MSG) + MSG
               + b")\r\n* 2 FETCH (UID 6 BINARY[] ~{5}\r\nhello BODY[HEADER.FIELDS (FROM)] {0}\r\n)\r\na3 OK FETCH done\r\n")
write("imap-codec", "server", b"\x00\xff\x00" + imap_server)
write("imap-codec", "client", b"\x01\xff\x00a1 CAPABILITY\r\na2 LOGIN {5}\r\nalice {6+}\r\nsecret\r\na3 APPEND INBOX ~{3}\r\nabc\r\na4 IDLE\r\nDONE\r\n")
def ic(line): return b"\x80" + line + b"\0"
def ir(st=0, text=b"done"): return b"\x04" + bytes([st]) + text + b"\0"
iread = b"\x86"
write("imap-session", "fetch-whole", b"\x00" + ir() + iread + ic(b"a1 CAPABILITY") + ir() + iread + ic(b"a2 SELECT INBOX") + ir() + iread
      + ic(b"a3 UID FETCH 1:3 (UID BODY.PEEK[])") + b"\x04\x00\x02\x01\x00hello\0\x02\x01\x00world\0done\0" + iread
      + b"\x09\x00\x00\x09\x00\x01" + ic(b"a4 UID FETCH 1 (BODY.PEEK[1])") + ir() + b"\x03\x01\x03\0" + iread)
write("imap-session", "partial-private", b"\x04" + ir() + iread + ic(b"a2 SELECT INBOX") + ir() + iread
      + ic(b"a3 FETCH 2 (BODY.PEEK[TEXT])") + ir() + iread + b"\x09\x00\x00" + ir() + iread + b"\x09\x00\x00" + iread)
write("imap-session", "starttls-idle", b"\x00" + ir() + iread + b"\x00a1 STARTTLS\r\na2 LOGIN x y\r\n\0" + ir() + b"\x0b\x02"
      + ic(b"b1 IDLE") + b"\x03\x02\x00\0" + iread + ic(b"DONE") + ir() + iread + ic(b"b2 COMPRESS DEFLATE"))

# --- control socket frames: moat-ctl's JSON lines
write("control-frames", "requests", b"\xff\x00" + b'{"command":"reload"}\n{"command":"appinfo"}\n{"command":"scan","path":"/tmp/x"}\n')
write("control-frames", "long", b"\x10\x02\x00\x03\x00\x30" + b"a" * 40 + b"\nok\n")

# --- console: form bodies, cookies, origins, login
write("console-form", "login", b"\x00user=admin&password=correct+horse&csrf=abc%2Fdef&user=other")
write("console-form", "roundtrip", b"\x01csrf\0tok en/+=&\0rule\0scan_result in (Threat) : REJECT \"x\"\0")
write("console-form", "cookie", b"\x02theme=dark; moat_session=AbC123_-x; other=1\0AbC123\0")
write("console-form", "origin", b"\x03https://console.example:4443\0https://console.example:4443/status\0console.example:4443\0\x07correct horse")

# --- TLS ClientHello with SNI, as Python's ssl (OpenSSL) sends it; and without SNI
def hello(name):
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()
write("tls-hello", "sni-smtp", b"\x00" + hello("smtp.example.org"))
write("tls-hello", "sni-bank", b"\x03\x00\x05\x00\x40\x01\x00" + hello("www.bank.example"))
write("tls-hello", "no-sni", b"\x00" + hello(None))
write("tls-hello", "byte-by-byte", b"\x80" + hello("mx.example.org"))

# --- DNS rdata: the first byte picks the type (index in DNSRecordType.allCases: A, AAAA, TXT,
# MX, PTR, TLSA, CNAME), the rest is the rdata
def dname(*labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"
write("dns-wire", "a", b"\x00" + bytes([192, 0, 2, 1]))
write("dns-wire", "aaaa", b"\x01" + bytes(15) + b"\x01")
write("dns-wire", "txt", b"\x02" + b"\x1ev=spf1 ip4:192.0.2.0/24 -all\x05 more")
write("dns-wire", "mx", b"\x03\x00\x0a" + dname(b"mx", b"example", b"com"))
write("dns-wire", "ptr", b"\x04" + dname(b"host", b"ex.ample", b"com"))
write("dns-wire", "tlsa", b"\x05\x03\x01\x01" + bytes(range(32)))
write("dns-wire", "cname-pointer", b"\x06\xc0\x0c")

# --- SPF records (published at example.com in the harness)
for name, text in [
    ("mechanisms", "v=spf1 +a mx/24 ptr ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{ir}.%{v}._spf.%{d2} include:inc.example.com ~all"),
    ("redirect-exp", "v=spf1 a:%{l1r-}.example.com//64 exp=%{d}.explain.example.com redirect=inc.example.com"),
    ("macros", "v=spf1 -exists:%{L}.%{S}.%{O}.%{P}.%{H}.%{I}.%{V}.example.com foo.bar=%%%_%-"),
    ("timeout", "v=spf1 include:timeout.example.com -all"),
    ("not-spf", "spf2.0/pra ?all"),
    ("blocklists", "zen.example(127.0.0.2:SBL,127.0.0.4:XBL), bl.example, uribl.example(&2:black)"),
]:
    write("spf", name, text.encode())
