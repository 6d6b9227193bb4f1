# Sourced by the benchmark scripts: the one machine-readable line each figure is also printed as,
# which Benchmarks/run-all.sh collects into its table (the prose around it is for people).
#
#   result BENCH LABEL VALUE UNIT   prints "RESULT <bench> <label> <value> <unit>"
#
# LABEL may be prose ("Postfix + Moat, unix socket"): it is turned into a slug
# (postfix-moat-unix-socket), so every field is one word.
result() {
    local slug
    slug=$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]' | sed -E 's/[^a-z0-9.]+/-/g; s/^-+//; s/-+$//')
    printf 'RESULT %s %s %s %s\n' "$1" "$slug" "$3" "$4"
}

# CPU time (ms) of processes and all their descendants so far, those already reaped included
# (in their parent's cutime and cstime): Postfix's smtpd and cleanup processes end after
# max_use messages, so the live processes alone would lose their work.
tree_cpu_ms() {  # root pids (a pid that is gone counts nothing)
    python3 - "$@" <<'PY'
import os, sys
procs, children = {}, {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()  # from the state on: the name may hold anything
    procs[int(pid)] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    children.setdefault(int(fields[1]), []).append(int(pid))
total, todo, seen = 0, [int(p) for p in sys.argv[1:]], set()
while todo:
    pid = todo.pop()
    if pid in seen or pid not in procs:
        continue
    seen.add(pid)
    total += procs[pid]
    todo += children.get(pid, [])
print(total * 1000 / os.sysconf("SC_CLK_TCK"))
PY
}

# write_signatures [DIR]: Moat's two builtin test signatures (ThreatEngine/BuiltinSignatures.swift)
# in DIR (default $T/sigs), for moatd and clamd alike: the same pattern matching on both sides.
write_signatures() {
    local dir=${1:-$T/sigs}
    mkdir -p "$dir"
    echo 'aa15bcf478d165efd2065190eb473bcb:544:Clamav.Test.File-6' > "$dir/moat-builtin.hdb"
    echo 'Moat.Test.EICAR:0:*:58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a' > "$dir/moat-builtin.ndb"
    chmod -R a+rX "$dir"
}

# moat_root_section [LOGLEVEL [DIR]]: the [Root] section of a benchmark's moat.ini, moatd's
# files under DIR (default $T/moat; made here), the signatures of write_signatures.
moat_root_section() {
    local dir=${2:-$T/moat}
    mkdir -p "$dir/run" "$dir/var"
    printf '[Root]\nControlSocket = %s\nSignatureDir = %s\nVarDir = %s\nLogLevel = %s\n' \
        "$dir/run/moat-ctl.sock" "$T/sigs" "$dir/var" "${1:-Notice}"
    bench_dns_root_lines
}

# start_bench_dns [DIR]: an authoritative NSD on 127.0.0.1 (a free port) for the benchmark's
# sender domains, so that moatd's sender authentication (SPF, DMARC) gets real answers with
# TTLs from loopback instead of asking the machine's resolver: no address outside the run is
# ever queried, and every run asks the same questions. example.com (the envelope sender) and
# example.org publish SPF for loopback and the Gate benchmark's namespaces (10.77.0.0/16) and a
# DMARC policy of none. Sets BENCH_DNS_PORT, from which moat_root_section writes the [Root]
# lines that point moatd at it (bench_dns_root_lines: DnsResolver, no trust anchor, nothing is
# signed). The caller stops it with its PIDS (the nsd process is appended). BENCH_DNS_NETNS=name:
# NSD runs in that network namespace, on its loopback (where the Gate's moatd runs).
start_bench_dns() {
    local dir=${1:-$T/dns}
    mkdir -p "$dir"
    # A port below the kernel's ephemeral range, free for UDP and TCP: a port 0 picked for UDP
    # alone could be taken for TCP by any of the run's outgoing connections, and NSD, which
    # listens on both, would not start (every lookup of the run then waits for its timeout).
    BENCH_DNS_PORT=$(python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for port in random.sample(range(10000, low), 200):
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
PY
)
    local zone
    for zone in example.com example.org; do
        cat > "$dir/$zone.zone" <<ZONE
\$ORIGIN $zone.
\$TTL 3600
@ IN SOA ns.$zone. hostmaster.$zone. 1 3600 600 86400 300
@ IN NS ns.$zone.
ns IN A 127.0.0.1
@ IN TXT "v=spf1 ip4:127.0.0.0/8 ip4:10.77.0.0/16 -all"
_dmarc IN TXT "v=DMARC1; p=none"
ZONE
    done
    # The root zone, empty: every other name (the HELO name, the client's PTR) is NXDOMAIN
    # with a negative TTL, as a real resolver would answer, instead of REFUSED (a temporary
    # failure, asked again for every message).
    cat > "$dir/root.zone" <<ZONE
\$ORIGIN .
\$TTL 3600
@ IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300
@ IN NS ns.example.com.
ZONE
    cat > "$dir/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1
    port: $BENCH_DNS_PORT
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: ""
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    pidfile: "$dir/nsd.pid"
    logfile: "$dir/nsd.log"
    server-count: 1
    do-ip6: no
remote-control:
    control-enable: no
zone:
    name: "."
    zonefile: $dir/root.zone
zone:
    name: example.com
    zonefile: $dir/example.com.zone
zone:
    name: example.org
    zonefile: $dir/example.org.zone
CONF
    if [ -n "${BENCH_DNS_NETNS:-}" ]; then
        ip netns exec "$BENCH_DNS_NETNS" /usr/sbin/nsd -d -c "$dir/nsd.conf" >"$dir/nsd.out" 2>&1 &
    else
        /usr/sbin/nsd -d -c "$dir/nsd.conf" >"$dir/nsd.out" 2>&1 &
    fi
    PIDS+=($!)
    local _
    for _ in $(seq 1 100); do
        grep -q "nsd started" "$dir/nsd.log" 2>/dev/null && break
        sleep 0.1
    done
    # It must answer before moatd starts: a run whose lookups all time out measures the
    # timeout, not Moat.
    local ns=()
    [ -z "${BENCH_DNS_NETNS:-}" ] || ns=(ip netns exec "$BENCH_DNS_NETNS")
    if ! "${ns[@]}" python3 - "$BENCH_DNS_PORT" <<'PY'
import socket, struct, sys
query = struct.pack(">HHHHHH", 0x4D4F, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\x00" + struct.pack(">HH", 16, 1)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(1)
    for _ in range(5):
        s.sendto(query, ("127.0.0.1", int(sys.argv[1])))
        try:
            answer = s.recv(512)
        except socket.timeout:
            continue
        sys.exit(0 if answer[:2] == b"\x4d\x4f" and answer[3] & 0x0F == 0 else 1)
sys.exit(1)
PY
    then
        echo "the benchmark's NSD on 127.0.0.1:$BENCH_DNS_PORT does not answer:" >&2
        tail -5 "$dir/nsd.out" "$dir/nsd.log" >&2 2>/dev/null || true
        return 1
    fi
}

# bench_dns_root_lines: the [Root] lines for moatd when start_bench_dns runs (else nothing).
bench_dns_root_lines() {
    [ -n "${BENCH_DNS_PORT:-}" ] || return 0
    printf 'DnsResolver = 127.0.0.1@%s\nDnsTrustAnchor =\n' "$BENCH_DNS_PORT"
}

# start_filters_moatd WORK TEMPDIR SPAMD RSPAMD CLAMD [ADMIN]: moatd (the binary in $MOATD)
# serving the spamd, rspamd and clamd interfaces on those loopback ports, its files under
# WORK, libclamav's scratch space in TEMPDIR, the console on ADMIN (none without it); returns
# once spamc's PING is answered, with FILTERS_MOATD_PID set (fails if moatd exits first).
start_filters_moatd() {
    local work=$1 tempdir=$2 spamd=$3 rspamd=$4 clamd=$5 admin=${6:-}
    cat > "$work/moat.ini" <<INI
[Root]
TempDir = $tempdir
ControlSocket = $work/run/ctl.sock
PidFile = $work/run/moatd.pid
VarDir = $work/var
[MailD]
SpamdSocket = 127.0.0.1:$spamd
RspamdSocket = 127.0.0.1:$rspamd
[ClamD]
ClamdSocket = 127.0.0.1:$clamd
[HTTPD]
AdminListen = ${admin:+127.0.0.1:$admin}
INI
    "$MOATD" -c "$work/moat.ini" > "$work/moatd.log" 2>&1 &
    FILTERS_MOATD_PID=$!
    local _
    for _ in $(seq 120); do
        spamc -d 127.0.0.1 -p "$spamd" -K > /dev/null 2>&1 && return 0
        kill -0 "$FILTERS_MOATD_PID" 2>/dev/null || { echo "moatd exited: $(tail -3 "$work/moatd.log")" >&2; return 1; }
        sleep 1
    done
    echo "moatd did not answer spamc's PING on 127.0.0.1:$spamd in 120 s" >&2
    return 1
}
