#!/usr/bin/env bash
# Connections Moat does not inspect cost nothing (issue 19): the throughput of one bulk TCP
# transfer (iperf3, SIZE per run) from the client to the server across the gateway of
# netns.sh (client 10.77.1.2 -- gateway -- server 10.77.2.2), four ways, RUNS runs each, the median:
#
# The ways run in turn in each round (moatd restarted for each), so a machine whose load changes
# (shared CPUs) weighs on all four alike.
#
#   plain     no moatd: the gateway's kernel forwards (the goal's reference)
#   gate      the Gate's blind relay in userspace: port 8993 (no protocol Moat knows) diverted
#             and relayed untouched, as every exempt connection was before the kernel bypass
#             (`UnrecognizedProtocol = Close` keeps such a port diverted; MOATD_BEFORE, when
#             given, is an older moatd that diverts it with the default settings)
#   static    port 8993 with `UnrecognizedProtocol = Relay`: moatd leaves it out of the divert
#   learned   port 993 diverted (UnwrapSsl = Yes, PassThroughRejectingClients = Yes): the client
#             first refuses Moat's certificate (openssl s_client trusting only the server's CA),
#             the Gate learns the pair and moatd puts it in the kernel's pass-through set; the
#             transfer then runs to 993 and is forwarded by the kernel (ct mark)
#
# Goal: static and learned ≥ 0.95 × plain. Figures as RESULT lines (Benchmarks/lib.sh), MB/s.
#
# Usage: Benchmarks/Gate/bypass.sh [--smoke]   (root; iperf3, openssl, nftables, iproute2, python3)
#   MOATD=path (default: <repo>/.build/release/moatd, built when missing; MOAT_BIN_DIR/moatd when
#   set), MOATD_BEFORE=path (optional), SIZE=200M RUNS=3 (--smoke: 20M, 1), SETTLE=3 (seconds
#   between setting a way up and measuring it), PREFIX=mbp.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$REPO/Benchmarks/lib.sh"
SIZE=${SIZE:-200M}
RUNS=${RUNS:-3}
SETTLE=${SETTLE:-3}
for arg in "$@"; do
    case $arg in
    --smoke) SIZE=20M RUNS=1 ;;
    *) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
    esac
done
P=${PREFIX:-mbp}
SERVER=10.77.2.2
CLIENT=10.77.1.2
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces, nftables)" >&2; exit 1; }
for tool in ip nft iperf3 openssl python3 timeout ss; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is missing (scripts/deps/bench.txt)" >&2; exit 1; }
done
if [ -z "${MOATD:-}" ]; then
    if [ -n "${MOAT_BIN_DIR:-}" ]; then MOATD=$MOAT_BIN_DIR/moatd; else
        MOATD=$REPO/.build/release/moatd
        [ -x "$MOATD" ] || (cd "$REPO" && swift build -c release --product moatd >/dev/null)
    fi
fi
[ -x "$MOATD" ] || { echo "$0: no moatd at $MOATD" >&2; exit 1; }
if ip netns list | grep -q "^${P}[cgs]\b"; then
    echo "$0: namespaces ${P}c/${P}g/${P}s exist already (another run? else: $HERE/netns.sh down $P)" >&2
    exit 1
fi

T=$(mktemp -d /tmp/moat-bypass-bench.XXXXXX)
chmod 755 "$T"
PIDS=()
MOATD_PID=
cleanup() {
    set +e
    for pid in $MOATD_PID "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 0.5
    for n in c g s; do
        for pid in $(ip netns pids "${P}$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
    "$HERE/netns.sh" down "$P"
    if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
in_ns() { local n=$1; shift; ip netns exec "${P}$n" "$@"; }
listening() {
    for _ in $(seq 1 300); do
        in_ns "$1" ss -ltnH | grep -q " $2 " && return 0
        sleep 0.1
    done
    echo "nothing listens on $2 in ${P}$1" >&2
    return 1
}

"$HERE/netns.sh" up "$P"

# The server: iperf3 on 8993, and on 993 (start_iperf_993: it makes way for a TLS server while
# a pair is learned).
# (Background processes are started with `ip netns exec`, which execs them: $! is their pid.)
ip netns exec "${P}s" iperf3 -s -B "$SERVER" -p 8993 > "$T/iperf3-8993.log" 2>&1 &
PIDS+=($!)
listening s "$SERVER:8993"
# The server's CA and a certificate for mail.test signed by it (moatd trusts that CA upstream).
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj "/CN=Bypass bench CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req "${ec[@]}" -keyout "$T/mail.key" -out "$T/mail.csr" -subj /CN=mail.test 2>/dev/null
printf 'subjectAltName=DNS:mail.test\nextendedKeyUsage=serverAuth\n' > "$T/mail.ext"
openssl x509 -req -in "$T/mail.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -out "$T/mail.pem" -days 2 \
    -extfile "$T/mail.ext" 2>/dev/null

# Moat's two builtin test signatures (as run.sh): nothing here is scanned.
write_signatures
mkdir -p "$T/moat/run" "$T/moat/var"
moat_config() {  # [LinuxFirewall] lines
    cat > "$T/moat/moat.ini" <<CONF
$(moat_root_section Info)

[LinuxFirewall]
InputDivert = Auto(interface:veth-gw protected:993,8993)
UpstreamCaCertificates = $T/ca.pem
$1
CONF
}
start_moatd() {  # binary log
    : > "$2"
    ip netns exec "${P}g" "$1" --config "$T/moat/moat.ini" > "$2" 2>&1 &
    MOATD_PID=$!
    for _ in $(seq 1 600); do
        kill -0 "$MOATD_PID" 2>/dev/null || break
        if grep -q "divert installed" "$2" && in_ns g ss -ltnH | grep -q ":20025 "; then return 0; fi
        sleep 0.1
    done
    echo "moatd did not start its divert and Gate; log:" >&2
    cat "$2" >&2
    return 1
}
stop_moatd() {
    [ -n "$MOATD_PID" ] || return 0
    kill "$MOATD_PID" 2>/dev/null || true
    for _ in $(seq 1 400); do kill -0 "$MOATD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$MOATD_PID" 2>/dev/null || true
    MOATD_PID=
}

# transfer PORT: MB/s the server received (iperf3's receiver side), one run
transfer() {
    local out="$T/client-$1.json"
    timeout 300 ip netns exec "${P}c" iperf3 -c "$SERVER" -p "$1" -n "$SIZE" -J > "$out" 2>&1 ||
        { echo "iperf3 to $1 failed:" >&2; tail -n 20 "$out" >&2; return 1; }
    python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 8e6, 1))' "$out"
}
# The four ways, each set up from whatever state the previous one left.
LABEL_plain="plain forwarding, no moatd"
LABEL_gate="gate blind relay in userspace"
LABEL_static="static exemption, not diverted"
LABEL_learned="learned pass-through, kernel (ct mark)"
PORT_plain=993 PORT_gate=8993 PORT_static=8993 PORT_learned=993
setup_plain() { stop_moatd; }
setup_gate() {  # the Gate's blind relay in userspace
    stop_moatd
    if [ -n "${MOATD_BEFORE:-}" ]; then
        moat_config ""
        start_moatd "$MOATD_BEFORE" "$T/moatd-gate.log"
    else
        moat_config "UnrecognizedProtocol = Close"
        start_moatd "$MOATD" "$T/moatd-gate.log"
    fi
    local diverted=no
    for _ in $(seq 1 50); do
        in_ns g nft list set inet moat protected_ports 2>/dev/null | grep -q "8993" && { diverted=yes; break; }
        sleep 0.1
    done
    [ $diverted = yes ] || { echo "8993 is not diverted for the blind-relay measure:" >&2; in_ns g nft list ruleset >&2; return 1; }
}
setup_static() {  # 8993 left out of the divert
    stop_moatd
    moat_config ""
    start_moatd "$MOATD" "$T/moatd-static.log"
    if in_ns g nft list set inet moat protected_ports | grep -q "8993"; then
        echo "8993 is still diverted: is $MOATD older than the kernel bypass?" >&2; return 1
    fi
    grep -q "port 8993 not diverted" "$T/moatd-static.log" || { echo "moatd did not say 8993 is not diverted" >&2; return 1; }
}
IPERF_993=
start_iperf_993() {
    ip netns exec "${P}s" iperf3 -s -B "$SERVER" -p 993 >> "$T/iperf3-993.log" 2>&1 &
    IPERF_993=$!
    PIDS+=($IPERF_993)
    listening s "$SERVER:993"
}
setup_learned() {  # the client refuses Moat's certificate once on 993: the pair is learned
    stop_moatd
    moat_config "UnwrapSsl = Yes
PassThroughRejectingClients = Yes
PassThroughTime = 1h"
    start_moatd "$MOATD" "$T/moatd-learned.log"
    kill "$IPERF_993"  # iperf3 on 993 makes way for a TLS server for the learning
    while in_ns s ss -ltnH | grep -q " $SERVER:993 "; do sleep 0.1; done
    ip netns exec "${P}s" openssl s_server -accept "$SERVER:993" -cert "$T/mail.pem" -key "$T/mail.key" -quiet > "$T/s_server.log" 2>&1 &
    local tls=$!
    listening s "$SERVER:993"
    echo | timeout 30 ip netns exec "${P}c" openssl s_client -connect "$SERVER:993" -servername mail.test -CAfile "$T/ca.pem" \
        -verify_return_error > "$T/s_client.log" 2>&1 || true
    for _ in $(seq 1 100); do
        in_ns g nft list set inet moat passthrough_v4 | grep -q "$CLIENT . $SERVER . 993" && break
        sleep 0.1
    done
    kill "$tls"
    wait "$tls" 2>/dev/null || true
    in_ns g nft list set inet moat passthrough_v4 | grep -q "$CLIENT . $SERVER . 993" ||
        { echo "the pair was not learned; moatd log:" >&2; tail -n 30 "$T/moatd-learned.log" >&2
          echo "the gateway's table inet moat:" >&2; in_ns g nft list table inet moat >&2; return 1; }
    start_iperf_993
    GATE_LINES=$(grep -c "$SERVER:993" "$T/moatd-learned.log" || true)
}
check_learned() {  # the Gate saw nothing of the learned pair's transfers
    local now
    now=$(grep -c "$SERVER:993" "$T/moatd-learned.log" || true)
    [ "$now" = "$GATE_LINES" ] || { echo "the Gate saw the learned pair's transfers ($GATE_LINES -> $now log lines)" >&2; return 1; }
}

echo "moatd $MOATD ($(git -C "$REPO" rev-parse --short HEAD)), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "One iperf3 transfer of $SIZE client -> server, the four ways in turn, $RUNS rounds, the median:"
start_iperf_993
WAYS="plain gate static learned"
declare -A RUNS_OF
for round in $(seq 1 "$RUNS"); do
    for way in $WAYS; do
        "setup_$way"
        sleep "$SETTLE"  # a moatd just started loads its signatures and starts its workers
        port_var=PORT_$way
        RUNS_OF[$way]="${RUNS_OF[$way]:-} $(transfer "${!port_var}")"
        [ "$way" != learned ] || check_learned
    done
    echo "  round $round: $(for way in $WAYS; do printf '%s %s  ' "$way" "${RUNS_OF[$way]##* }"; done)(load $(cut -d' ' -f1 /proc/loadavg))"
done
stop_moatd
declare -A MEDIAN
for way in $WAYS; do
    MEDIAN[$way]=$(python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))' ${RUNS_OF[$way]})
    label_var=LABEL_$way
    printf '  %-42s %8s MB/s  (runs:%s)\n' "${!label_var}" "${MEDIAN[$way]}" "${RUNS_OF[$way]}"
    result gate-bypass "${!label_var}" "${MEDIAN[$way]}" MB/s
done
for way in gate static learned; do
    printf '  %-8s %s × plain\n' "$way" "$(python3 -c "print(round(${MEDIAN[$way]} / ${MEDIAN[plain]}, 3))")"
done
