#!/usr/bin/env bash
# TLS through the Gate: messages/s and handshakes/s of the TLS-unwrapped SMTP path, against the
# plaintext path through the Gate and against TLS straight to the server.
#
#   client ns (10.207.1.2) —veth— gateway ns (moatd: divert + Gate) —veth— server ns (10.207.2.2)
#
# The server is a private Postfix as mail.test (certificate from a CA made here, SANs mail.test
# and *.bench.test): STARTTLS offered on 25, SMTPS on 465, submission with TLS required on 587,
# every message discarded after acceptance (discard transport). The client is
# Benchmarks/Gate/tls-client.py: W worker processes, one connection and one full TLS handshake
# per message (no session resumption), ~2 KB clean messages, chain and host name verified.
#
#   1. direct: no moatd, the gateway only routes: plain 25, SMTPS 465, STARTTLS 587 and 25,
#      handshakes on 465;
#   2. through the Gate: moatd (release build) diverts 25, 465 and 587 with UnwrapSsl = Yes and
#      trusts the server's CA (UpstreamCaCertificates): the same runs, then handshakes with one
#      SNI (Moat's leaf cache hits) and with a new SNI per connection (misses).
#
# Usage: Benchmarks/Gate/tls.sh [messages] [workers] [handshakes]   (as root; packages of
# scripts/deps/gate.txt). Defaults: 5000 messages, 32 workers, 5000 handshakes. Many workers
# because each connection waits on latency that costs no CPU: Postfix's 220 greeting after an
# SMTPS handshake leaves ~40 ms late (Nagle on its side against the peer's delayed ACK), for
# direct clients and for the Gate's upstream leg alike.
# Env: SCRATCH (SwiftPM scratch path, default .build; moatd and moat-ctl are built in release
# mode there when missing), MOATD and MOAT_CTL (other binaries), PORTS (default "465 587 25":
# which TLS ports to measure).
# Each line gives the rate, and for the Gate moatd's CPU time per message/handshake and its RSS
# and open files after the run; the summary compares each Gate path with its direct path (the
# goal: unwrapped within 30% of direct TLS). Results: Benchmarks/Gate/TLS-RESULTS.md.
# Each rate is also printed as a RESULT line (Benchmarks/lib.sh) for Benchmarks/run-all.sh, only
# when every connection succeeded with the expected issuer; the exit status is 1 when one did not.
set -euo pipefail
MESSAGES=${1:-5000}
WORKERS=${2:-32}
HANDSHAKES=${3:-5000}
PORTS=${PORTS:-465 587 25}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SCRATCH=${SCRATCH:-$REPO/.build}
CLIENT_PY="$REPO/Benchmarks/Gate/tls-client.py"
. "$REPO/Benchmarks/lib.sh"
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)" >&2; exit 2; }
for tool in ip nft postfix postconf openssl python3 timeout ss; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: bash scripts/install-deps.sh" >&2; exit 2; }
done

ID=$$
NC=mtls${ID}c NG=mtls${ID}g NS=mtls${ID}s
SERVER=10.207.2.2
T=$(mktemp -d /tmp/moat-gate-tls-bench.XXXXXX)
chmod 755 "$T"
MOATD_PID=""
cleanup() {
    set +e
    if [ -n "$MOATD_PID" ] && kill -0 "$MOATD_PID" 2>/dev/null; then
        kill "$MOATD_PID"
        for _ in $(seq 1 100); do kill -0 "$MOATD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$MOATD_PID" 2>/dev/null
    fi
    ip netns exec "$NS" postfix -c "$T/etc" stop >/dev/null 2>&1
    for n in "$NC" "$NG" "$NS"; do ip netns del "$n" 2>/dev/null; rm -rf "/etc/netns/$n"; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (bounded) until something listens on ADDRESS:PORT in namespace NS.
wait_listen() {  # ns address:port seconds
    for _ in $(seq 1 $(($3 * 10))); do
        ip netns exec "$1" ss -ltnH | grep -q " $2 " && return 0
        sleep 0.1
    done
    echo "nothing listens on $2 in $1 after $3 s" >&2
    return 1
}

# --- moatd and moat-ctl (release) ---
MOATD=${MOATD:-$SCRATCH/release/moatd}
MOAT_CTL=${MOAT_CTL:-$SCRATCH/release/moat-ctl}
for binary in "$MOATD" "$MOAT_CTL"; do
    if [ ! -x "$binary" ]; then
        (cd "$REPO" && swift build -c release --scratch-path "$SCRATCH" --product "$(basename "$binary")" >/dev/null)
    fi
done

# --- namespaces ---
for n in "$NC" "$NG" "$NS"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add mt${ID}c0 netns "$NC" type veth peer name mt${ID}g0 netns "$NG"
ip link add mt${ID}s0 netns "$NS" type veth peer name mt${ID}g1 netns "$NG"
ip -n "$NC" link set mt${ID}c0 name eth0
ip -n "$NG" link set mt${ID}g0 name eth0
ip -n "$NG" link set mt${ID}g1 name eth1
ip -n "$NS" link set mt${ID}s0 name eth0
ip -n "$NC" addr add 10.207.1.2/24 dev eth0
ip -n "$NG" addr add 10.207.1.1/24 dev eth0
ip -n "$NG" addr add 10.207.2.1/24 dev eth1
ip -n "$NS" addr add $SERVER/24 dev eth0
ip -n "$NC" link set eth0 up
ip -n "$NG" link set eth0 up
ip -n "$NG" link set eth1 up
ip -n "$NS" link set eth0 up
ip -n "$NC" route add default via 10.207.1.1
ip -n "$NS" route add default via 10.207.2.1
ip netns exec "$NG" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
# The client resolves mail.test (ip netns exec mounts /etc/netns/<ns>/hosts over /etc/hosts).
mkdir -p "/etc/netns/$NC"
printf '127.0.0.1 localhost\n%s mail.test\n' $SERVER > "/etc/netns/$NC/hosts"

# --- certificates: the servers' CA and mail.test ---
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${EC[@]}" -keyout "$T/ca.key" -out "$T/servers-ca.pem" -days 2 -subj "/O=Moat bench/CN=Bench Servers CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req "${EC[@]}" -keyout "$T/mail.key" -out "$T/mail.csr" -subj /CN=mail.test 2>/dev/null
printf 'subjectAltName=DNS:mail.test,DNS:*.bench.test\nextendedKeyUsage=serverAuth\n' > "$T/mail.ext"
openssl x509 -req -in "$T/mail.csr" -CA "$T/servers-ca.pem" -CAkey "$T/ca.key" -CAcreateserial -out "$T/mail.pem" \
    -days 2 -extfile "$T/mail.ext" 2>/dev/null

# --- Postfix (server namespace) ---
mkdir -p "$T/etc" "$T/queue" "$T/data"
chown postfix "$T/data"
cp /etc/postfix/master.cf "$T/etc/"
cat > "$T/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
myhostname = mail.test
mydestination =
inet_interfaces = $SERVER
inet_protocols = ipv4
mynetworks = 10.207.0.0/16 127.0.0.0/8
relay_domains = example.org
relay_transport = discard
default_transport = discard
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject
maillog_file = $T/postfix.log
maillog_file_prefixes = $T
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtputf8_enable = no
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_tls_cert_file = $T/mail.pem
smtpd_tls_key_file = $T/mail.key
smtpd_tls_security_level = may
CONF
postconf -c "$T/etc" -F '*/*/chroot = n'
postconf -c "$T/etc" -M "$SERVER:465/inet = $SERVER:465 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt"
postconf -c "$T/etc" -M "$SERVER:587/inet = $SERVER:587 inet n - n - - smtpd -o smtpd_tls_security_level=encrypt"
ip netns exec "$NS" postfix -c "$T/etc" start >/dev/null 2>&1
for p in 25 465 587; do wait_listen "$NS" "$SERVER:$p" 20; done

# --- measuring ---
RESULTS="$T/results.tsv"
: > "$RESULTS"
CA_BOTH="$T/clients-ca.pem"   # the client trusts both: it is shown Moat's leaf through the Gate
cp "$T/servers-ca.pem" "$CA_BOTH"

client() {  # mode port total
    ip netns exec "$NC" timeout 900 python3 "$CLIENT_PY" "$1" mail.test $SERVER "$2" "$3" "$WORKERS" "$CA_BOTH" bench.test
}

# moatd's CPU time so far (user + system, clock ticks) and RSS (kB); 0 without moatd.
moatd_cpu() { [ -n "$MOATD_PID" ] && awk '{print $14 + $15}' "/proc/$MOATD_PID/stat" || echo 0; }
moatd_rss() { [ -n "$MOATD_PID" ] && awk '/^VmRSS/ {print $2}' "/proc/$MOATD_PID/status" || echo 0; }
moatd_fds() { [ -n "$MOATD_PID" ] && ls "/proc/$MOATD_PID/fd" | wc -l || echo 0; }

# measure PATH LABEL MODE PORT TOTAL EXPECTED-ISSUER
measure() {
    local path=$1 label=$2 mode=$3 port=$4 total=$5 expect=$6 out cpu
    client "$mode" "$port" $((WORKERS * 4)) >/dev/null   # warm-up: Postfix processes, caches
    cpu=$(moatd_cpu)
    out=$(client "$mode" "$port" "$total")
    cpu=$(($(moatd_cpu) - cpu))
    python3 - "$out" "$path" "$label" "$expect" "$RESULTS" "$cpu" "$(getconf CLK_TCK)" "$(moatd_rss)" "$(moatd_fds)" "$T/failed" <<'PY'
import json, re, sys
r = json.loads(sys.argv[1]); path, label, expect, results = sys.argv[2:6]
cpu, tck, rss, fds = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
issuer = ",".join(r["issuer"])
note = "" if expect == "-" or issuer == expect or issuer.startswith(expect) else "  UNEXPECTED ISSUER"
if r["errors"]:
    note += "  %d errors, e.g. %s" % (r["errors"], r["first_errors"][:1])
if rss:
    note += "  moatd %.2f ms CPU each, RSS %d MB, %d fds" % (1000.0 * cpu / tck / max(r["ok"], 1), rss // 1024, fds)
print("%-7s %-34s %8.1f /s  (%d in %.2f s, issuer %s)%s" % (path, label, r["rate"], r["ok"], r["seconds"], issuer or "-", note))
if note.startswith("  UNEXPECTED") or r["errors"] or not r["ok"]:
    open(sys.argv[10], "a").write("%s %s\n" % (path, label))
else:
    # the slug of Benchmarks/lib.sh's result()
    print("RESULT gate-tls %s %.1f /s" % (re.sub("[^a-z0-9.]+", "-", (path + " " + label).lower()).strip("-"), r["rate"]))
with open(results, "a") as f:
    f.write("%s\t%s\t%s\t%d\t%d\t%.3f\t%s\n" % (path, label, r["rate"], r["ok"], r["errors"], r["seconds"], issuer + note))
PY
}

echo "Postfix $(postconf -d -h mail_version), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $MESSAGES messages, $HANDSHAKES handshakes, $WORKERS workers"
measure direct "SMTP plain :25" plain 25 "$MESSAGES" -
for p in $PORTS; do
    case $p in
    465) measure direct "SMTPS :465" smtps 465 "$MESSAGES" "Bench Servers CA" ;;
    *) measure direct "STARTTLS :$p" starttls "$p" "$MESSAGES" "Bench Servers CA" ;;
    esac
done
measure direct "handshakes :465" hs-same 465 "$HANDSHAKES" "Bench Servers CA"

# --- moatd on the gateway ---
# Moat's built-in test signatures (ThreatEngine/BuiltinSignatures.swift), as Benchmarks/Milter.
write_signatures
mkdir -p "$T/moat/run" "$T/moat/var"
cat > "$T/moat/moat.ini" <<CONF
$(moat_root_section Notice)

[MailD]
ReportLanguages = en

[LinuxFirewall]
InputDivert = Auto(interface:eth0 protected:25,465,587)
UnwrapSsl = Yes
UpstreamCaCertificates = $T/servers-ca.pem
CONF
ip netns exec "$NG" "$MOATD" --config "$T/moat/moat.ini" > "$T/moat/moatd.log" 2>&1 &
MOATD_PID=$!
for _ in $(seq 1 600); do
    grep -q "divert installed" "$T/moat/moatd.log" && ip netns exec "$NG" ss -ltnH | grep -q ":20025 " && break
    kill -0 "$MOATD_PID" 2>/dev/null || { echo "moatd exited:" >&2; cat "$T/moat/moatd.log" >&2; exit 1; }
    sleep 0.1
done
grep -q "divert installed" "$T/moat/moatd.log" || { echo "moatd did not install the divert in 60 s:" >&2; cat "$T/moat/moatd.log" >&2; exit 1; }
echo "moatd ready: RSS $(($(moatd_rss) / 1024)) MB"
"$MOAT_CTL" certificate --config "$T/moat/moat.ini" >> "$CA_BOTH"
MOAT_CN=$(openssl x509 -in "$T/moat/var/ca/ca.pem" -noout -subject -nameopt multiline | sed -n 's/ *commonName *= //p')

measure gate "SMTP plain :25 (scanned)" plain 25 "$MESSAGES" -
for p in $PORTS; do
    case $p in
    465) measure gate "SMTPS :465 unwrapped" smtps 465 "$MESSAGES" "$MOAT_CN" ;;
    *) measure gate "STARTTLS :$p unwrapped" starttls "$p" "$MESSAGES" "$MOAT_CN" ;;
    esac
done
measure gate "handshakes :465 same SNI (hit)" hs-same 465 "$HANDSHAKES" "$MOAT_CN"
measure gate "handshakes :465 new SNI (miss)" hs-distinct 465 "$HANDSHAKES" "$MOAT_CN"


# --- summary: the Gate against direct TLS ---
python3 - "$RESULTS" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
rate = {(r[0], r[1]): float(r[2]) for r in rows}
def ratio(gate, direct):
    g, d = rate.get(("gate", gate)), rate.get(("direct", direct))
    if g and d:
        verdict = "within 30%" if g >= 0.7 * d else "NOT within 30%"
        print("%-34s %6.1f%% of %-22s %s" % (gate, 100 * g / d, direct, verdict))
print()
ratio("SMTP plain :25 (scanned)", "SMTP plain :25")
ratio("SMTPS :465 unwrapped", "SMTPS :465")
for p in ("587", "25"):
    ratio("STARTTLS :%s unwrapped" % p, "STARTTLS :%s" % p)
ratio("handshakes :465 same SNI (hit)", "handshakes :465")
ratio("handshakes :465 new SNI (miss)", "handshakes :465")
PY
[ ! -s "$T/failed" ] || { echo "failed: $(tr '\n' ';' < "$T/failed")" >&2; exit 1; }
