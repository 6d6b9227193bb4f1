#!/usr/bin/env bash
# The transparent gateway (the Gate) measured in three network namespaces (netns.sh):
#   client 10.77.1.2 --veth-- gateway (veth-gw 10.77.1.1 | veth-gs 10.77.2.1) --veth-- server 10.77.2.2
# The gateway runs a release moatd with `InputDivert = Auto(interface:veth-gw protected:25,143)`:
# connections from the client to ports 25 and 143 land on the Gate, which relays them.
#
# smtp   Postfix's smtp-source in the client sends small clean messages to smtp-sink in the
#        server: through the Gate (10.77.2.2:25, diverted: DATA held, scanned with libclamav,
#        sent on) and directly (10.77.2.2:2525, a second smtp-sink, only forwarded by the
#        gateway's kernel). Throughput: MESSAGES messages of SIZE bytes, SESSIONS parallel
#        sessions, one message per session (smtp-source's default), RUNS times each, direct and
#        Gate alternating. Latency: LATENCY_MESSAGES messages over one session at a time
#        (smtp-source -s 1), again one message per connection and, with -d, all over one
#        connection, 3 runs each alternating, the median; the time per message, Gate minus
#        direct, is what the Gate adds.
#        Diagnosis: moatd's CPU time per message; the Gate again with moatd's TMPDIR on a tmpfs
#        (libclamav's per-scan temporary directory) and with InspectSmtp = Off (no longer diverted).
#        The anchor (relay.sh): the usual alternative, a Postfix relay with clamav-milter + clamd
#        in the gateway namespace forwarding to the direct sink, MESSAGES messages, moatd stopped.
# idle   Dovecot (imapd) in the server; a fresh moatd; imap_idle.py in the client opens
#        CONNECTIONS connections to 10.77.2.2:143 through the Gate, LOGIN, SELECT INBOX, IDLE,
#        and holds them. moatd's resident memory (VmRSS) before and with them open, divided by
#        CONNECTIONS, is the memory per idle connection. Then every IDLE is ended (DONE, OK) to
#        show the connections were alive.
#
# Usage: Benchmarks/Gate/run.sh [smtp|idle|all]   (root; postfix, clamav-milter, clamav-daemon, dovecot-imapd, nftables,
#        iproute2, python3). Settings from the environment, defaults:
#        MESSAGES=5000 SESSIONS=20 SIZE=2000 RUNS=2 LATENCY_MESSAGES=500 CONNECTIONS=5000
#        WARMUP=200 (messages sent before each series, and checked for one verdict each)
#        SCRATCH=<repo>/.build-gate (release moatd built there when missing), PREFIX=mgb
#        (namespaces mgbc, mgbg, mgbs).
set -euo pipefail
WHAT=${1:-all}
MESSAGES=${MESSAGES:-5000}
SESSIONS=${SESSIONS:-20}
SIZE=${SIZE:-2000}
RUNS=${RUNS:-2}
LATENCY_MESSAGES=${LATENCY_MESSAGES:-500}
WARMUP=${WARMUP:-200}
CONNECTIONS=${CONNECTIONS:-5000}
P=${PREFIX:-mgb}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# The figures are also printed as RESULT lines for Benchmarks/run-all.sh.
. "$REPO/Benchmarks/lib.sh"
SCRATCH=${SCRATCH:-$REPO/.build-gate}
MOATD=$SCRATCH/release/moatd
SERVER=10.77.2.2
case "$WHAT" in smtp|idle|all) ;; *) echo "usage: $0 [smtp|idle|all]" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces, nftables)" >&2; exit 1; }
for tool in ip nft smtp-source smtp-sink dovecot clamd clamav-milter postfix python3 timeout; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is missing" >&2; exit 1; }
done
if ip netns list | grep -q "^${P}[cgs]\b"; then
    echo "$0: namespaces ${P}c/${P}g/${P}s exist already (another run? else: $HERE/netns.sh down $P)" >&2
    exit 1
fi

# Every connection costs moatd two descriptors (client and upstream leg).
ulimit -n "$(ulimit -Hn)"
if [ "$WHAT" != smtp ] && [ "$(ulimit -n)" -lt $((2 * CONNECTIONS + 200)) ]; then
    echo "$0: ulimit -n is $(ulimit -n), too low for $CONNECTIONS relayed connections" >&2
    exit 1
fi

# moatd scans in sandboxed moat-scan workers, found beside it.
for product in moatd moat-scan; do
    [ -x "$(dirname "$MOATD")/$product" ] || (cd "$REPO" && swift build -c release --scratch-path "$SCRATCH" --product "$product" >/dev/null)
done

T=$(mktemp -d /tmp/moat-gate-bench.XXXXXX)
chmod 755 "$T"
PIDS=()
MOATD_PID=
SCAN_TMP=
cleanup() {
    set +e
    [ -n "$SCAN_TMP" ] && rm -rf "$SCAN_TMP"
    [ -f "$T/idle.release" ] || touch "$T/idle.release" 2>/dev/null
    for pid in $MOATD_PID "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for _ in $(seq 1 50); do
        alive=0
        for pid in $MOATD_PID "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    # Whatever is still running in the benchmark's own namespaces (Dovecot's children).
    for n in c g s; do
        for pid in $(ip netns pids "${P}$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
    "$HERE/netns.sh" down "$P"
    if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local n=$1; shift; ip netns exec "${P}$n" "$@"; }
# listening NS ADDRESS:PORT: bounded wait until something listens there.
listening() {
    for _ in $(seq 1 300); do
        in_ns "$1" ss -ltnH | grep -q " $2 " && return 0
        sleep 0.1
    done
    echo "nothing listens on $2 in ${P}$1" >&2
    return 1
}
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$MOATD_PID/status"; }
# A process's CPU time (user + system) so far, in ms; moatd's by default.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/${1:-$MOATD_PID}/stat"; }

"$HERE/netns.sh" up "$P"
# One connection per message: many short-lived connections and TIME_WAIT sockets.
for n in c g; do
    in_ns $n sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
done

# The release moatd, its signatures Moat's two builtin test signatures (as the Milter benchmark).
write_signatures
# Sender authentication asks an NSD on the gateway namespace's loopback (example.com and
# example.org: SPF and DMARC), as a gateway would ask its resolver; without it every lookup
# fails at once (no route) and is asked again for every message.
BENCH_DNS_NETNS="${P}g" start_bench_dns
mkdir -p "$T/moat/run" "$T/moat/var"
moat_config() {  # extra [LinuxFirewall] lines
    cat > "$T/moat/moat.ini" <<CONF
$(moat_root_section Notice)

[LinuxFirewall]
InputDivert = Auto(interface:veth-gw protected:25,143)
# The idle measure holds CONNECTIONS at once (the default cap, 4096, would refuse the rest).
MaxConnections = $((CONNECTIONS + 1000))
$1
CONF
}
moat_config ""

start_moatd() {  # log file
    # ip execs moatd: $! is moatd's pid (its /proc/PID/status is read).
    TMPDIR=${MOATD_TMPDIR:-${TMPDIR:-/tmp}} ip netns exec "${P}g" "$MOATD" --config "$T/moat/moat.ini" > "$1" 2>&1 &
    MOATD_PID=$!
    for _ in $(seq 1 600); do
        kill -0 "$MOATD_PID" 2>/dev/null || break
        if grep -q "divert installed" "$1" && in_ns g ss -ltnH | grep -q ":20025 "; then return 0; fi
        sleep 0.1
    done
    echo "moatd did not start its divert and Gate; log:" >&2
    cat "$1" >&2
    return 1
}
stop_moatd() {
    [ -n "$MOATD_PID" ] || return 0
    kill "$MOATD_PID" 2>/dev/null || true
    for _ in $(seq 1 400); do kill -0 "$MOATD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$MOATD_PID" 2>/dev/null || true
    MOATD_PID=
}

echo "moatd $(git -C "$REPO" rev-parse --short HEAD), Postfix $(postconf -d -h mail_version), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------------- SMTP
smtp_bench() {
    # Two identical sinks: :25 is reached through the Gate, :2525 directly.
    declare -A SINK
    for port in 25 2525; do
        ip netns exec "${P}s" smtp-sink -u nobody -m 1000 "$SERVER:$port" 1024 >"$T/sink-$port.log" 2>&1 &
        PIDS+=($!)
        SINK[$port]=$!
        listening s "$SERVER:$port"
    done
    start_moatd "$T/moatd-smtp.log"

    source_run() {  # port sessions messages [extra smtp-source options]: seconds taken
        local port=$1 sessions=$2 messages=$3; shift 3
        local start end
        start=$(now)
        if ! /usr/bin/time -f '%U %S' -o "$T/source.time" timeout 900 ip netns exec "${P}c" smtp-source "$@" -l "$SIZE" -m "$messages" -s "$sessions" \
                -f alice@example.com -t bob@example.org "$SERVER:$port" >"$T/source.log" 2>&1; then
            echo "smtp-source to $port failed:" >&2; tail -5 "$T/source.log" >&2
            tail -20 "$T/moatd-smtp.log" >&2
            return 1
        fi
        end=$(now)
        calc "$end - $start"
    }
    verdicts() { grep -c "verdict action=" "$T/moatd-smtp.log" || true; }

    # Warm-up: both paths, and a check that the Gate does scan (one verdict per message).
    source_run 2525 "$SESSIONS" "$WARMUP" >/dev/null
    local before after
    before=$(verdicts)
    source_run 25 "$SESSIONS" "$WARMUP" >/dev/null
    after=$(verdicts)
    if [ $((after - before)) -ne "$WARMUP" ]; then
        echo "the Gate logged $((after - before)) verdicts for $WARMUP messages; log:" >&2
        tail -20 "$T/moatd-smtp.log" >&2
        return 1
    fi
    grep "verdict action=" "$T/moatd-smtp.log" | tail -1 | cut -c1-300

    echo
    echo "Throughput: $MESSAGES messages of $SIZE bytes, $SESSIONS parallel sessions, one message per session"
    # path run [smtp-source options]: one timed run, its rate appended to the path's list
    local direct=() gate=() direct_cpu=() gate_cpu=() tree_cpu=()
    # CPU time per message of each process on the path (smtp-source, moatd, smtp-sink): the
    # machine is CPU-bound, and unlike the rates these do not depend on what else runs.
    timed() {
        local path=$1 run=$2; shift 2
        local port=2525; [ "$path" = direct ] || port=25
        local v0 c0 s0 t0 secs rate src sink moat=0 tree cpu
        v0=$(verdicts); c0=$(cpu_ms); s0=$(cpu_ms "${SINK[$port]}"); t0=$(tree_cpu_ms "$MOATD_PID")
        secs=$(source_run $port "$SESSIONS" "$MESSAGES" "$@")
        rate=$(calc "round($MESSAGES / $secs)")
        src=$(calc "1000 * ($(sed 's/ /+/' "$T/source.time")) / $MESSAGES")
        sink=$(calc "($(cpu_ms "${SINK[$port]}") - $s0) / $MESSAGES")
        if [ "$path" = direct ]; then
            direct+=("$rate")
            direct_cpu+=("$(calc "$src + $sink")")
            cpu=$(printf 'source %.2f + sink %.2f' "$src" "$sink")
        else
            gate+=("$rate")
            moat=$(calc "($(cpu_ms) - $c0) / $MESSAGES")
            gate_cpu+=("$moat")
            # moatd with its moat-scan processes (libclamav): what compares with the relay's.
            tree=$(calc "($(tree_cpu_ms "$MOATD_PID") - $t0) / $MESSAGES")
            tree_cpu+=("$tree")
            cpu=$(printf 'source %.2f + moatd %.2f + sink %.2f; moatd with its scan workers %.2f' "$src" "$moat" "$sink" "$tree")
        fi
        printf '  %-6s %-7s %6s msgs/s  %.2f s  CPU ms/msg: %.2f = %s  (load %s)\n' "$run" "$path" "$rate" "$secs" \
            "$(calc "$src + $sink + $moat")" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
        [ "$path" = direct ] || [ $(( $(verdicts) - v0 )) = "$MESSAGES" ] || [ "$run" = blind ] ||
            echo "  warning: $(( $(verdicts) - v0 )) verdicts for $MESSAGES messages" >&2
    }
    for run in $(seq 1 "$RUNS"); do
        timed direct "run $run"
        timed Gate "run $run"
    done
    local d g
    d=$(IFS=+; calc "(${direct[*]}) / ${#direct[@]}")
    g=$(IFS=+; calc "(${gate[*]}) / ${#gate[@]}")
    printf '  mean: direct %.0f msgs/s, Gate %.0f msgs/s: Gate = %.0f%% of direct (goal: at least 80%%)\n' "$d" "$g" "$(calc "100 * $g / $d")"
    result gate "direct" "$(calc "round($d)")" msgs/s
    result gate "Gate" "$(calc "round($g)")" msgs/s
    # CPU per message: the whole direct path (smtp-source + smtp-sink), and moatd's alone.
    result gate "direct cpu" "$(IFS=+; calc "round((${direct_cpu[*]}) / ${#direct_cpu[@]}, 3)")" ms/msg
    result gate "moatd cpu" "$(IFS=+; calc "round((${gate_cpu[*]}) / ${#gate_cpu[@]}, 3)")" ms/msg
    result gate "Moat cpu" "$(IFS=+; calc "round((${tree_cpu[*]}) / ${#tree_cpu[@]}, 3)")" ms/msg
    echo "  all messages of a session over one connection (smtp-source -d):"
    direct=(); gate=()
    timed direct "-d" -d
    timed Gate "-d" -d
    printf '  Gate = %.0f%% of direct\n' "$(calc "100 * ${gate[0]} / ${direct[0]}")"

    echo
    echo "Latency: $LATENCY_MESSAGES messages of $SIZE bytes, one session at a time (smtp-source -s 1), median of 3 alternating runs"
    local mode opt
    for mode in connection session; do
        opt=(); [ $mode = session ] && opt=(-d)
        local dl=() gl=() dsecs gsecs
        for _ in 1 2 3; do
            dl+=("$(source_run 2525 1 "$LATENCY_MESSAGES" "${opt[@]}")")
            gl+=("$(source_run 25 1 "$LATENCY_MESSAGES" "${opt[@]}")")
        done
        dsecs=$(calc "sorted([${dl[*]/%/,}])[1]")
        gsecs=$(calc "sorted([${gl[*]/%/,}])[1]")
        local label="one connection per message"; [ $mode = session ] && label="all over one connection (-d)"
        printf '  %-30s direct %.2f ms/msg, Gate %.2f ms/msg: the Gate adds %.2f ms per message\n' "$label" \
            "$(calc "1000 * $dsecs / $LATENCY_MESSAGES")" "$(calc "1000 * $gsecs / $LATENCY_MESSAGES")" \
            "$(calc "1000 * ($gsecs - $dsecs) / $LATENCY_MESSAGES")"
        result gate "latency direct $mode" "$(calc "round(1000 * $dsecs / $LATENCY_MESSAGES, 3)")" ms/msg
        result gate "latency Gate $mode" "$(calc "round(1000 * $gsecs / $LATENCY_MESSAGES, 3)")" ms/msg
    done
    local errors
    errors=$(grep -ciE "error|warning|critical" "$T/moatd-smtp.log" || true)
    [ "$errors" = 0 ] || { echo "  moatd logged $errors errors/warnings:" >&2; grep -iE "error|warning|critical" "$T/moatd-smtp.log" | sort | uniq -c | sort -rn | head -5 >&2; }
    stop_moatd

    # Diagnosis. 1: libclamav makes and removes a temporary directory for every scan
    # ("scantemp", under $TMPDIR or /tmp): on a disk file system (ext4) that is two metadata
    # operations per message. The same Gate with TMPDIR on a tmpfs.
    echo
    echo "Diagnosis, one message per session:"
    if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
        SCAN_TMP=$(mktemp -d /dev/shm/moat-gate-bench.XXXXXX)
        MOATD_TMPDIR=$SCAN_TMP start_moatd "$T/moatd-smtp.log"
        source_run 25 "$SESSIONS" "$WARMUP" >/dev/null
        direct=(); gate=()
        timed direct tmpfs
        timed Gate tmpfs
        printf '  with moatd'"'"'s TMPDIR on a tmpfs: Gate = %.0f%% of direct (/tmp here: %s)\n' \
            "$(calc "100 * ${gate[0]} / ${direct[0]}")" "$(findmnt -n -o FSTYPE -T /tmp)"
        stop_moatd
    fi
    # 2: InspectSmtp = Off. Before the kernel bypass the Gate relayed port 25 blindly (what the
    # TCP relaying alone cost); now moatd leaves the port out of the divert and the kernel
    # forwards it: this measures that (the Gate's blind relay in userspace: bypass.sh).
    moat_config "InspectSmtp = Off"
    start_moatd "$T/moatd-blind.log"
    source_run 25 "$SESSIONS" "$WARMUP" >/dev/null
    direct=(); gate=()
    timed direct blind
    timed "Gate" blind
    printf '  InspectSmtp = Off (25 not diverted, kernel-forwarded): %.0f%% of direct\n' "$(calc "100 * ${gate[0]} / ${direct[0]}")"
    stop_moatd
    moat_config ""
}

# ---------------------------------------------------------------------------------- IMAP IDLE
. "$HERE/idle.sh"  # dovecot_start, idle_clients, release_clients, idle_bench
. "$HERE/relay.sh"  # relay_bench

case "$WHAT" in
smtp) smtp_bench; relay_bench ;;
idle) idle_bench ;;
all) smtp_bench; relay_bench; idle_bench ;;
esac
