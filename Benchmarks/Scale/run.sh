#!/usr/bin/env bash
# How the cost grows with message size and concurrency (issue 19, "Scale"): messages/s and
# p50/p99 latency (MAIL FROM to the final 250, `moat-bench smtp-load`) for every size of SIZES and
# every session count of SESSIONS, each cell beside its anchor, anchor and Moat alternating:
#   milter  two private Postfix instances on loopback (Benchmarks/Milter/postfix.sh, mail
#           discarded once accepted), one without a milter (the anchor), one with Moat's Milter
#           over TCP (release moatd, SQLite message log: the defaults);
#   gate    the namespaces of Benchmarks/Gate/netns.sh: the client sends to smtp-sink in the
#           server namespace, on 10.77.2.2:2525 only forwarded by the gateway's kernel (the
#           anchor), and on 10.77.2.2:25 diverted to moatd's Gate (DATA held, scanned, sent on).
# Moat's CPU per message (moatd and its moat-scan workers) is shown beside each Moat cell.
# Each path's table (markdown) follows its runs; every figure is also a RESULT line
# (Benchmarks/lib.sh): scale <path>-<size>-<sessions>-<anchor|moat>[-p50|-p99].
#
# Usage: Benchmarks/Scale/run.sh [--smoke] [milter|gate|all]   (root; postfix, iproute2, nftables,
# python3: scripts/deps/bench.txt). Settings from the environment, defaults:
#   SIZES="2000 100000 10000000"  SESSIONS="1 20 200"  PER_CONNECTION=1 (messages per connection)
#   MESSAGES="2000:2000 100000:500 10000000:20"  messages per cell for each size, raised to the
#                     session count (every session sends one at least)
#   --smoke           SIZES="2000 100000 1000000" SESSIONS="1 20" MESSAGES="2000:20 100000:10
#                     1000000:2", not raised: every part runs, with debug binaries, in a minute
#   WARMUP=50         2 KB messages over the cell's sessions before each timed run, raised to the
#                     session count (Postfix starts its smtpd processes, moatd takes its Milter
#                     connections); --smoke: 5
#   MOAT_BIN_DIR=dir  moatd, moat-scan and moat-bench from there (default .build/release, built
#                     when missing; --smoke: .build/debug); MOATD=path and MOAT_BENCH=path
#                     override the two
#   SCRATCH=dir       (as the other scripts) moatd from dir/release
#   PREFIX=msk        the network namespaces (mskc, mskg, msks)
set -euo pipefail
SMOKE=
WHAT=all
for arg in "$@"; do
    case $arg in
    --smoke) SMOKE=1 ;;
    milter|gate|all) WHAT=$arg ;;
    *) echo "usage: $0 [--smoke] [milter|gate|all]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces, private Postfix)" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$REPO/Benchmarks/lib.sh"
PER_CONNECTION=${PER_CONNECTION:-1}
if [ -n "$SMOKE" ]; then
    # Debug binaries check a 10 MB message in seconds: 1 MB stands for it, within a minute.
    SIZES=${SIZES:-2000 100000 1000000}
    SESSIONS=${SESSIONS:-1 20}
    MESSAGES=${MESSAGES:-2000:20 100000:10 1000000:2}
    WARMUP=${WARMUP:-5}
else
    SIZES=${SIZES:-2000 100000 10000000}
    SESSIONS=${SESSIONS:-1 20 200}
    MESSAGES=${MESSAGES:-2000:2000 100000:500 10000000:20}
    WARMUP=${WARMUP:-50}
fi
P=${PREFIX:-msk}
SERVER=10.77.2.2

BIN=${MOAT_BIN_DIR:-$REPO/.build/release}
[ -z "$SMOKE" ] || BIN=${MOAT_BIN_DIR:-$REPO/.build/debug}
[ -z "${SCRATCH:-}" ] || BIN=${MOAT_BIN_DIR:-$SCRATCH/release}
MOATD=${MOATD:-$BIN/moatd}
MOAT_BENCH=${MOAT_BENCH:-$BIN/moat-bench}
for product in moatd moat-scan moat-bench; do
    path=$BIN/$product
    [ $product = moatd ] && path=$MOATD
    [ $product = moat-bench ] && path=$MOAT_BENCH
    # moatd scans in sandboxed moat-scan workers, found beside it.
    [ $product = moat-scan ] && path=$(dirname "$MOATD")/moat-scan
    [ -x "$path" ] && continue
    [ "$path" = "$REPO/.build/release/$product" ] || { echo "$0: $path is missing" >&2; exit 1; }
    (cd "$REPO" && swift build -c release --product "$product" >/dev/null)
done

T=$(mktemp -d /tmp/moat-scale-bench.XXXXXX)
chmod 755 "$T"
PIDS=()
MOATD_PID=
NETNS=
POSTFIXES=()
cleanup() {
    set +e
    for pf in "${POSTFIXES[@]}"; do postfix -c "$pf/etc" stop >/dev/null 2>&1; done
    for pid in $MOATD_PID "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for _ in $(seq 1 50); do
        alive=0
        for pid in $MOATD_PID "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    [ -z "$NETNS" ] || "$REPO/Benchmarks/Gate/netns.sh" down "$P"
    if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port, wait_port, write_signatures, postfix_start, set_milter
. "$REPO/Benchmarks/Milter/postfix.sh"
write_signatures
ulimit -n "$(ulimit -Hn)"
# Moat's CPU time so far (user + system, ms): moatd's and its sandboxed moat-scan workers'
# (children of a moat-scan supervisor, moatd's child).
descendants() { local pid; for pid in $(pgrep -P "$1"); do echo "$pid"; descendants "$pid"; done; }
moat_cpu_ms() {
    local pid
    for pid in "$MOATD_PID" $(descendants "$MOATD_PID"); do cat "/proc/$pid/stat" 2>/dev/null || true; done |
        awk -v hz="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { print s * 1000 / hz }'
}
verdicts() { grep -c "verdict action=" "$T/moatd.log" || true; }
count_for() {  # size sessions: the cell's message count
    local pair count=
    for pair in $MESSAGES; do [ "${pair%%:*}" = "$1" ] && count=${pair#*:}; done
    [ -n "$count" ] || { echo "$0: no message count for size $1 in MESSAGES" >&2; exit 2; }
    [ -n "$SMOKE" ] || [ "$count" -ge "$2" ] || count=$2
    echo "$count"
}
size_label() {
    if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))MB"
    elif [ $(($1 % 1000)) = 0 ]; then echo "$(($1 / 1000))KB"
    else echo "$1B"; fi
}

# load NS HOST PORT SESSIONS MESSAGES SIZE: smtp-load's key=value line (NS "-": no namespace).
load() {
    local ns=$1 host=$2 port=$3 sessions=$4 messages=$5 size=$6 out
    local run=()
    [ "$ns" = - ] || run=(ip netns exec "$ns")
    out=$("${run[@]}" "$MOAT_BENCH" smtp-load --host "$host" --port "$port" --sessions "$sessions" \
        --messages "$messages" --size "$size" --per-connection "$PER_CONNECTION" 2>"$T/load.err") || {
        echo "smtp-load to $host:$port failed ($messages messages of $size bytes, $sessions sessions):" >&2
        echo "$out" >&2; head -5 "$T/load.err" >&2
        [ ! -f "$T/moatd.log" ] || tail -5 "$T/moatd.log" >&2
        return 1
    }
    grep '^SMTPLOAD ' <<<"$out" | cut -d' ' -f2-
}
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# cell PATH SIZE SESSIONS KIND NS HOST PORT: warm-up, the timed run, its row and RESULT lines.
cell() {
    local path=$1 size=$2 sessions=$3 kind=$4 ns=$5 host=$6 port=$7
    local messages figures v0 c0 cpu=- name
    messages=$(count_for "$size" "$sessions")
    local warmup=$WARMUP
    [ -n "$SMOKE" ] || [ "$warmup" -ge "$sessions" ] || warmup=$sessions
    load "$ns" "$host" "$port" "$sessions" "$warmup" 2000 > /dev/null
    v0=$(verdicts)
    [ "$kind" = anchor ] || c0=$(moat_cpu_ms)
    figures=$(load "$ns" "$host" "$port" "$sessions" "$messages" "$size")
    if [ "$kind" = moat ]; then
        cpu=$(python3 -c "print(f'{($(moat_cpu_ms) - $c0) / $messages:.2f}')")
        # Moat saw every message: one verdict each (logged as the reply goes out; a moment's grace).
        for _ in $(seq 1 50); do [ $(($(verdicts) - v0)) -ge "$messages" ] && break; sleep 0.1; done
        [ $(($(verdicts) - v0)) = "$messages" ] ||
            { echo "moatd logged $(($(verdicts) - v0)) verdicts for $messages messages" >&2; tail -5 "$T/moatd.log" >&2; return 1; }
    fi
    printf '  %-6s %6s %3s sessions %-6s %5s msgs  %9s msgs/s  p50 %8s ms  p99 %8s ms  max %8s ms  Moat CPU %s ms/msg  connect to EHLO p50 %s ms p99 %s ms\n' \
        "$path" "$(size_label "$size")" "$sessions" "$kind" "$messages" "$(field rate "$figures")" \
        "$(field p50_ms "$figures")" "$(field p99_ms "$figures")" "$(field max_ms "$figures")" "$cpu" \
        "$(field connect_p50_ms "$figures")" "$(field connect_p99_ms "$figures")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$path" "$size" "$sessions" "$kind" "$messages" \
        "$(field rate "$figures")" "$(field p50_ms "$figures")" "$(field p99_ms "$figures")" "$cpu" >> "$T/cells.tsv"
    name="$path $(size_label "$size") $sessions $kind"
    result scale "$name" "$(field rate "$figures")" msgs/s
    result scale "$name p50" "$(field p50_ms "$figures")" ms
    result scale "$name p99" "$(field p99_ms "$figures")" ms
}

# peak_memory PATH: moatd's peak resident memory over the path's runs (VmHWM).
peak_memory() {
    local kb
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$MOATD_PID/status")
    echo "  moatd's peak resident memory: $kb kB"
    result scale "$1 moatd peak rss" "$kb" kB
}

# table PATH ANCHOR-NAME: the path's cells as one markdown table.
table() {
    python3 - "$T/cells.tsv" "$1" "$2" <<'PY'
import sys
rows, path, anchor = {}, sys.argv[2], sys.argv[3]
for line in open(sys.argv[1]):
    p, size, sessions, kind, messages, rate, p50, p99, cpu = line.rstrip("\n").split("\t")
    if p == path:
        rows.setdefault((int(size), int(sessions)), {})[kind] = (messages, float(rate), p50, p99, cpu)
def size(b):
    return f"{b // 1000000} MB" if b % 1000000 == 0 else f"{b // 1000} KB" if b % 1000 == 0 else f"{b} B"
print(f"| size | sessions | messages | {anchor} msgs/s | p50 ms | p99 ms | Moat msgs/s | p50 ms | p99 ms | Moat / anchor | Moat CPU ms/msg |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for (b, s), kinds in sorted(rows.items()):
    a, m = kinds.get("anchor"), kinds.get("moat")
    if not a or not m:
        continue
    ratio = f"{m[1] / a[1]:.2f}" if a[1] else "—"
    print(f"| {size(b)} | {s} | {m[0]} | {a[1]:,.1f} | {a[2]} | {a[3]} | {m[1]:,.1f} | {m[2]} | {m[3]} | {ratio} | {m[4]} |")
PY
}

echo "Scale: sizes $SIZES, sessions $SESSIONS, $PER_CONNECTION message(s) per connection, messages $MESSAGES;" \
    "moatd $MOATD, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------------- Milter
milter_bench() {
    # Two Postfix instances side by side, alike but for the milter: no reload between cells.
    # Room for 10 MB messages (Moat's MaxMessageSize is 64 MB: the same) and 200 sessions.
    local plain_port milter_port moat_port
    for PF in "$T/plain" "$T/milter"; do
        mkdir -p "$PF"
        postfix_start message_size_limit=67108864 mailbox_size_limit=0 default_process_limit=250
        POSTFIXES+=("$PF")
        [ "$PF" = "$T/plain" ] && plain_port=$SMTP_PORT || milter_port=$SMTP_PORT
    done
    moat_port=$(free_port)
    mkdir -p "$T/moat"
    cat > "$T/moat/moat.ini" <<CONF
$(moat_root_section Notice)

[MailD]
MilterSocket = 127.0.0.1:$moat_port

# No console: nothing on 4443 that another moatd on this machine may hold.
[HTTPD]
AdminListen =
CONF
    "$MOATD" --config "$T/moat/moat.ini" > "$T/moatd.log" 2>&1 &
    MOATD_PID=$!
    wait_port "$moat_port"
    PF=$T/milter set_milter "inet:127.0.0.1:$moat_port"
    echo
    echo "Milter: Postfix $(postconf -d -h mail_version) on 127.0.0.1:$plain_port without a milter," \
        "on 127.0.0.1:$milter_port with Moat's (inet:127.0.0.1:$moat_port)"
    local size sessions
    for size in $SIZES; do
        for sessions in $SESSIONS; do
            cell milter "$size" "$sessions" anchor - 127.0.0.1 "$plain_port"
            cell milter "$size" "$sessions" moat - 127.0.0.1 "$milter_port"
        done
    done
    peak_memory milter
    kill "$MOATD_PID"; wait "$MOATD_PID" 2>/dev/null || true; MOATD_PID=
    local rejected
    rejected=$(cat "$T"/*/postfix.log | grep -c 'reject:' || true)
    [ "$rejected" = 0 ] || { echo "  Postfix rejected $rejected messages:" >&2; grep -h 'reject:' "$T"/*/postfix.log | head -3 >&2; }
    echo
    table milter "Postfix alone"
}

# ---------------------------------------------------------------------------------- Gate
gate_bench() {
    if ip netns list | grep -q "^${P}[cgs]\b"; then
        echo "$0: namespaces ${P}c/${P}g/${P}s exist already (another run? else: Benchmarks/Gate/netns.sh down $P)" >&2
        return 1
    fi
    NETNS=1
    "$REPO/Benchmarks/Gate/netns.sh" up "$P"
    local n port
    for n in c g; do
        ip netns exec "${P}$n" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
    done
    # Two identical sinks: :25 is reached through the Gate, :2525 directly. Each serves every
    # session of the largest cell at once and queues as many (a longer queue than the kernel's
    # somaxconn is cut to it): with -m 1000 and a queue of 1024, 174 of 2,000 sessions sent
    # straight to the sink were lost waiting for a greeting, a handshake completed by SYN
    # cookie against a full queue (the anchor's own failure, not the path's).
    local most=1000 sessions
    for sessions in $SESSIONS; do [ "$sessions" -le "$most" ] || most=$sessions; done
    for port in 25 2525; do
        ip netns exec "${P}s" smtp-sink -u nobody -m "$((most + 100))" "$SERVER:$port" "$((most + 100))" > "$T/sink-$port.log" 2>&1 &
        PIDS+=($!)
    done
    mkdir -p "$T/gate"
    cat > "$T/gate/moat.ini" <<CONF
$(moat_root_section Notice "$T/gate")

[LinuxFirewall]
InputDivert = Auto(interface:veth-gw protected:25)
# 200 sessions of 10 MB hold 2 GB at once: past the default 1gb the rest would get 452.
MaxSpoolSize = 3gb

[HTTPD]
AdminListen =
CONF
    : > "$T/moatd.log"
    ip netns exec "${P}g" "$MOATD" --config "$T/gate/moat.ini" > "$T/moatd.log" 2>&1 &
    MOATD_PID=$!
    for _ in $(seq 1 600); do
        grep -q "divert installed" "$T/moatd.log" && ip netns exec "${P}g" ss -ltnH | grep -q ":20025 " && break
        kill -0 "$MOATD_PID" 2>/dev/null || break
        sleep 0.1
    done
    grep -q "divert installed" "$T/moatd.log" || { echo "moatd did not install its divert:" >&2; tail -20 "$T/moatd.log" >&2; return 1; }
    echo
    echo "Gate: client ${P}c → smtp-sink in ${P}s, directly ($SERVER:2525) and through moatd's Gate ($SERVER:25)"
    local size sessions
    for size in $SIZES; do
        for sessions in $SESSIONS; do
            cell gate "$size" "$sessions" anchor "${P}c" "$SERVER" 2525
            cell gate "$size" "$sessions" moat "${P}c" "$SERVER" 25
        done
    done
    peak_memory gate
    # Connections the gateway's kernel could not queue for the Gate: SYNs dropped (the client
    # retries) and handshakes completed by SYN cookies (a client left waiting for a greeting
    # if its ACK met a full queue). Both stay 0 when the listen queue holds the burst.
    local overflows cookies
    # -s: nstat's history file (shared with the host's nstat users) is left alone.
    overflows=$(ip netns exec "${P}g" nstat -asz TcpExtListenOverflows | awk '/ListenOverflows/ {print $2}')
    cookies=$(ip netns exec "${P}g" nstat -asz TcpExtTCPReqQFullDoCookies | awk '/DoCookies/ {print $2}')
    echo "  gateway kernel: listen queue overflows ${overflows:-?}, handshakes by SYN cookie ${cookies:-?}"
    result scale "gate listen overflows" "${overflows:-0}" count
    result scale "gate syn cookies" "${cookies:-0}" count
    local errors
    errors=$(grep -ciE "error|critical" "$T/moatd.log" || true)
    [ "$errors" = 0 ] || { echo "  moatd logged $errors errors:" >&2; grep -iE "error|critical" "$T/moatd.log" | sort | uniq -c | sort -rn | head -5 >&2; }
    echo
    table gate "direct"
}

case $WHAT in
milter) milter_bench ;;
gate) gate_bench ;;
all) milter_bench; gate_bench ;;
esac
