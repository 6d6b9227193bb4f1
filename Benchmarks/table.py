#!/usr/bin/env python3
"""The table of Benchmarks/run-all.sh: from the RESULT lines the benchmark scripts printed
("RESULT <bench> <label> <value> <unit>", Benchmarks/lib.sh), one markdown row per path: the
tool Moat replaces (the anchor), its figure, Moat's, Moat/anchor and the goal of issue 19.
A row whose figures are missing (a script not run, or a label an older script does not print)
shows a dash. Nothing here judges a figure: the goals are for people to read.

usage: table.py RESULTS
"""
import math, sys

# A key is (bench, label); a list of keys takes the first one present (labels differ between
# versions of a script: the Milter benchmark's TCP run is "postfix-moat-milter" in older trees).
NO_MILTER = ("milter", "postfix-no-milter")
MOAT_TCP = [("milter", "postfix-moat-sqlite"), ("milter", "postfix-moat-milter")]
MOAT_UNIX = [("milter", "postfix-moat-unix-socket"), ("milter", "postfix-moat-milter-unix")]
DIRECT_HS = ("gate-tls", "direct-handshakes-465")

# path, anchor name, anchor key, Moat key, goal[, optional: the row left out without Moat's figure]
ROWS = [
    ("`moat-ctl scan --local` over the corpus, temp dirs on tmpfs (files/s)", "clamscan",
     ("scan", "clamscan"), ("scan", "moat-ctl-scan-local"), "≥ 1.5 × (every core)"),
    ("Moat's check in process over the corpus, `moat-bench corpus` (msgs/s)", "libclamav alone, same bytes",
     ("moat-bench", "engine"), ("moat-bench", "moat"), "—"),
    ("Postfix + Moat's milter, unix socket (msgs/s at smtp-sink)", "Postfix, no milter",
     NO_MILTER, MOAT_UNIX, "≥ 0.85 ×"),
    ("Postfix + Moat's milter, TCP, the default (msgs/s)", "Postfix, no milter",
     NO_MILTER, MOAT_TCP, "≥ 0.85 × (TCP as fast as unix)"),
    ("Postfix + Moat's milter, TCP, storage off (msgs/s)", "Postfix, no milter",
     NO_MILTER, ("milter", "postfix-moat-storage-off"), "≥ 0.85 ×", True),
    ("Postfix + Moat's milter, TCP, PostgreSQL (msgs/s)", "Postfix, no milter",
     NO_MILTER, ("milter", "postfix-moat-postgresql"), "≥ 0.85 ×", True),
    ("Milter: moatd CPU per message with SQLite (ms)", "the same with storage off",
     ("milter", "postfix-moat-storage-off-moatd-cpu"), ("milter", "postfix-moat-sqlite-moatd-cpu"),
     "≤ 1.05 × (issue 18)", True),
    ("Milter: moatd CPU per message with PostgreSQL (ms)", "the same with storage off",
     ("milter", "postfix-moat-storage-off-moatd-cpu"), ("milter", "postfix-moat-postgresql-moatd-cpu"),
     "≤ 1.05 × (issue 18; the server's CPU apart)", True),
    ("Postfix + Moat's milter, TCP (msgs/s)", "Postfix + clamav-milter + clamd",
     ("milter", "postfix-clamav-milter"), MOAT_TCP, "≥ 2 ×"),
    # What a milter costs Postfix itself (smtpd and cleanup do the milter protocol), and the
    # ceiling it puts on any milter: one that does nothing (Benchmarks/Milter/nullmilter.c).
    ("Postfix + Moat's milter, TCP, storage off (msgs/s)", "Postfix + a milter that does nothing (libmilter)",
     ("milter", "postfix-null-milter"), ("milter", "postfix-moat-storage-off"), "—", True),
    ("Milter: Postfix's own CPU per message (ms; the milter protocol's share)", "Postfix, no milter",
     ("milter", "postfix-no-milter-postfix-cpu"), ("milter", "postfix-moat-storage-off-postfix-cpu"), "—", True),
    ("Milter: the filter's CPU per message, scanner included (ms; fewer is better)", "clamav-milter + clamd",
     ("milter", "postfix-clamav-milter-filter-cpu"), ("milter", "postfix-moat-storage-off-filter-cpu"), "—", True),
    ("clamd interface, zINSTREAM from 8 threads, each corpus file once, median of 3 rounds (req/s)", "clamd",
     ("filters", "zinstream-clamd"), ("filters", "zinstream-moat"), "≥ 1.2 ×"),
    ("clamd interface, the servers' CPU per zINSTREAM request (ms; fewer is better)", "clamd",
     ("filters", "zinstream-clamd-cpu"), ("filters", "zinstream-moat-cpu"), "—", True),
    ("clamd interface, `clamdscan --stream`, a process per request (req/s)", "clamd",
     ("filters", "clamdscan-stream-clamd"), ("filters", "clamdscan-stream-moat"), "—"),
    ("spamd interface, `spamc -c` (req/s)", "SpamAssassin spamd",
     ("filters", "spamc-c-spamassassin-spamd"), ("filters", "spamc-c-moat"), "≥ 10 × (anti-spam engine on)"),
    ("rspamd interface, `rspamc` (req/s)", "rspamd",
     ("filters", "rspamc-rspamd"), ("filters", "rspamc-moat"), "≥ 1.2 × (anti-spam engine on)"),
    ("Gate, SMTP 2 KB, one message per connection (msgs/s)", "Postfix relay + clamav-milter + clamd, same namespaces",
     ("gate", "postfix-relay-clamav-milter"), ("gate", "gate"), "≥ 3 ×"),
    ("Gate, SMTP 2 KB, one message per connection (msgs/s)", "direct (the gateway's kernel forwards)",
     ("gate", "direct"), ("gate", "gate"), "—"),
    ("Gate, CPU per relayed message (ms): moatd vs the whole direct path", "smtp-source + smtp-sink",
     ("gate", "direct-cpu"), ("gate", "moatd-cpu"), "≤ 0.35 ms"),
    ("Gate, CPU per relayed and scanned message, scanner included (ms; fewer is better)",
     "Postfix relay + clamav-milter + clamd", ("gate", "relay-cpu"), ("gate", "moat-cpu"), "—", True),
    ("Gate, latency per message, one connection each (ms)", "direct",
     ("gate", "latency-direct-connection"), ("gate", "latency-gate-connection"), "—"),
    ("Gate, memory per idle IMAP connection (kB)", "—", None, ("gate", "idle-connection-rss"), "< 64 kB"),
    ("Gate, SMTPS 465 unwrapped (msgs/s)", "direct TLS",
     ("gate-tls", "direct-smtps-465"), ("gate-tls", "gate-smtps-465-unwrapped"), "≥ 0.8 ×"),
    ("Gate, STARTTLS 587 unwrapped (msgs/s)", "direct TLS",
     ("gate-tls", "direct-starttls-587"), ("gate-tls", "gate-starttls-587-unwrapped"), "≥ 0.8 ×"),
    ("Gate, STARTTLS 25 unwrapped (msgs/s)", "direct TLS",
     ("gate-tls", "direct-starttls-25"), ("gate-tls", "gate-starttls-25-unwrapped"), "≥ 0.8 ×"),
    ("Gate, TLS handshakes 465, leaf-cache hit (/s)", "direct TLS",
     DIRECT_HS, ("gate-tls", "gate-handshakes-465-same-sni-hit"), "≥ 0.8 ×"),
    ("Gate, TLS handshakes 465, new SNI: leaf made (/s)", "direct TLS",
     DIRECT_HS, ("gate-tls", "gate-handshakes-465-new-sni-miss"), "—"),
    ("Gate, exempt port, blind relay in userspace (MB/s, one transfer)", "plain forwarding (no moatd)",
     ("gate-bypass", "plain-forwarding-no-moatd"), ("gate-bypass", "gate-blind-relay-in-userspace"), "—"),
    ("Gate, exempt port left out of the divert (MB/s, one transfer)", "plain forwarding (no moatd)",
     ("gate-bypass", "plain-forwarding-no-moatd"), ("gate-bypass", "static-exemption-not-diverted"), "≥ 0.95 ×"),
    ("Gate, learned TLS pass-through in the kernel (MB/s, one transfer)", "plain forwarding (no moatd)",
     ("gate-bypass", "plain-forwarding-no-moatd"), ("gate-bypass", "learned-pass-through-kernel-ct-mark"), "≥ 0.95 ×"),
    ("Message log search by recipient, SQLite (ms, median)", "—",
     None, ("storage", "sqlite-search-median"), "< 100 ms at 1 M rows (issue 18)"),
    ("Message log search by recipient, PostgreSQL (ms, median)", "—",
     None, ("storage", "postgresql-search-median"), "< 100 ms at 1 M rows (issue 18)"),
    ("Anti-spam through the spamd protocol, 2 clients (msgs/s)", "SpamAssassin spamd",
     ("antispam", "sa-speed"), ("antispam", "moatd-speed"), "≥ 10 ×"),
    ("Anti-spam through the spamd protocol, 2 clients (msgs/s)", "rspamd (its HTTP protocol)",
     ("antispam", "rspamd-speed"), ("antispam", "moatd-speed"), "≥ 1.2 ×"),
    ("Anti-spam k-fold F1", "SpamAssassin 4, sa-learn",
     ("antispam", "sa-f1"), ("antispam", "moat-f1"), "—"),
    # Benchmarks/Callgrind: instructions per message (fewer is better: a ratio below 1 is Moat ahead).
    ("Milter, instructions per message, moatd + scan worker (Ir, callgrind; fewer is better)",
     "clamav-milter + clamd", ("callgrind", "milter-clamav-milter-clamd"), ("callgrind", "milter-moat"), "—"),
    ("clamd interface, instructions per zINSTREAM (Ir, callgrind; fewer is better)", "clamd",
     ("callgrind", "clamd-clamd"), ("callgrind", "clamd-moat"), "—"),
    ("spamd interface, instructions per `spamc -c` (Ir, callgrind; fewer is better)", "SpamAssassin spamd (its child)",
     ("callgrind", "spamd-spamassassin-spamd-child"), ("callgrind", "spamd-moat"), "—"),
    ("rspamd interface, instructions per `rspamc` (Ir, callgrind; fewer is better)", "rspamd",
     ("callgrind", "rspamd-rspamd"), ("callgrind", "rspamd-moat"), "—"),
]
# Benchmarks/Scale/mixed.sh: a small message's latency through the spamd interface with moatd
# otherwise idle (the anchor) and while large-message clients send 10 MB messages (1 MB in smoke).
ROWS += [
    (f"spamd interface, a 150-byte message's latency while {n} clients send large messages, p90 (ms; fewer is better)",
     "the same, moatd otherwise idle", ("mixed", "small-p90-0"), ("mixed", f"small-p90-{n}"), "—", True)
    for n in (2, 4, 8, 12)
]
# Benchmarks/Scale: a few cells of the size × sessions matrix (its own table has them all); the
# 10 MB and 200-session cells are left out of a smoke run, which has none.
ROWS += [
    (f"{name}, {cell.replace('-', ' × ', 1).replace('kb', ' KB').replace('mb', ' MB')} sessions, smtp-load ({unit})",
     anchor, ("scale", f"{path}-{cell}-anchor{suffix}"), ("scale", f"{path}-{cell}-moat{suffix}"), "—", True)
    for path, name, anchor in [("milter", "Milter", "Postfix, no milter"), ("gate", "Gate", "direct")]
    for cell, suffix, unit in [("2kb-20", "", "msgs/s"), ("10mb-20", "", "msgs/s"), ("2kb-200", "-p99", "p99 ms")]
]


def load(path):
    figures = {}
    for line in open(path):
        fields = line.split()
        if len(fields) >= 4 and fields[0] == "RESULT":
            try:
                figures[(fields[1], fields[2])] = float(fields[3])
            except ValueError:
                pass
    return figures


def lookup(figures, key):
    keys = key if isinstance(key, list) else [key]
    return next((figures[k] for k in keys if k in figures), None)


def number(value):
    if value is None or math.isnan(value):
        return "—"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if value < 1 else f"{value:.1f}"


def main():
    figures = load(sys.argv[1])
    print("| path | anchor | anchor figure | Moat | Moat / anchor | goal (issue 19) |")
    print("|---|---|---:|---:|---:|---|")
    for path, anchor_name, anchor_key, moat_key, goal, *optional in ROWS:
        anchor = lookup(figures, anchor_key) if anchor_key else None
        moat = lookup(figures, moat_key)
        if moat is None and (anchor is None or optional):
            continue  # that benchmark did not run, or this version of it has no such run
        ratio = f"{moat / anchor:.2f}" if moat is not None and anchor and not math.isnan(moat / anchor) else "—"
        print(f"| {path} | {anchor_name} | {number(anchor)} | {number(moat)} | {ratio} | {goal} |")


main()
