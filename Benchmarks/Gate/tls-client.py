#!/usr/bin/env python3
"""Load generator for Benchmarks/Gate/tls.sh: N worker processes, one TCP connection (and TLS
session) per message or handshake, no session resumption.

  tls-client.py MODE HOST IP PORT TOTAL WORKERS CAFILE [SNI]
    MODE  plain      SMTP without TLS
          smtps      implicit TLS (SMTPS, port 465)
          starttls   SMTP + STARTTLS
          hs-same    TLS handshake only (implicit TLS), SNI HOST every time (Moat's leaf cache hits)
          hs-distinct TLS handshake only, a new SNI name per connection: h<worker>-<n>-<run>.SNI
                     (Moat's leaf cache misses: leaves are keyed by names)
    HOST  the name clients connect to (SNI, certificate name check); IP: its address
    CAFILE the CAs the client trusts (chain and host name verified)
Prints one JSON line: ok, errors, seconds, rate, issuer (CN of the first peer certificate's
issuer), first errors.
"""
import json
import multiprocessing as mp
import os
import smtplib
import socket
import ssl
import sys
import time

MESSAGE = ("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: benchmark\r\n"
           "Message-ID: <{id}@bench.example.com>\r\n\r\n"
           + ("The quick brown fox jumps over the lazy dog. " * 2 + "\r\n") * 22)  # about 2 KB


def issuer_cn(cert):
    for rdn in cert.get("issuer", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return "?"


def worker(args):
    mode, host, ip, port, count, cafile, sni, wid, run = args
    context = ssl.create_default_context(cafile=cafile)
    ok, errors, issuer, first = 0, 0, None, []
    for n in range(count):
        try:
            if mode.startswith("hs-"):
                name = host if mode == "hs-same" else "h%d-%d-%s.%s" % (wid, n, run, sni)
                raw = socket.create_connection((ip, port), timeout=60)
                tls = context.wrap_socket(raw, server_hostname=name)
                if issuer is None:
                    issuer = issuer_cn(tls.getpeercert())
                tls.close()
            else:
                message = MESSAGE.format(id="%s-%d-%d" % (run, wid, n))
                if mode == "smtps":
                    s = smtplib.SMTP_SSL(host, port, context=context, timeout=60, local_hostname="bench.example.com")
                else:
                    s = smtplib.SMTP(host, port, timeout=60, local_hostname="bench.example.com")
                    if mode == "starttls":
                        s.starttls(context=context)
                if issuer is None:
                    issuer = issuer_cn(s.sock.getpeercert()) if mode != "plain" else "-"
                s.sendmail("alice@example.com", ["bob@example.org"], message)
                s.quit()
            ok += 1
        except Exception as e:  # counted and reported, the run goes on
            errors += 1
            if len(first) < 3:
                first.append("%s: %s" % (type(e).__name__, e))
    return ok, errors, issuer, first


def main():
    mode, host, ip, port, total, workers, cafile = sys.argv[1:8]
    sni = sys.argv[8] if len(sys.argv) > 8 else host
    port, total, workers = int(port), int(total), int(workers)
    run = "%x" % (int(time.time() * 1000) % 0xFFFFFFF)
    jobs = [(mode, host, ip, port, total // workers + (1 if i < total % workers else 0), cafile, sni, i, run)
            for i in range(workers)]
    with mp.Pool(workers) as pool:
        pool.map(abs, range(workers))  # the workers exist before the clock starts
        start = time.monotonic()
        results = pool.map(worker, jobs, chunksize=1)
        seconds = time.monotonic() - start
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    issuers = sorted({r[2] for r in results if r[2]})
    print(json.dumps({"mode": mode, "port": port, "ok": ok, "errors": errors, "seconds": round(seconds, 3),
                      "rate": round(ok / seconds, 1) if seconds > 0 else 0, "issuer": issuers,
                      "first_errors": [e for r in results for e in r[3]][:3]}))


if __name__ == "__main__":
    main()
