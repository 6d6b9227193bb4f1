#!/usr/bin/env bash
# Milter throughput: Postfix's smtp-source sends N small clean messages through a private
# Postfix (own config_directory and queue, loopback only, mail discarded after acceptance)
#   1. with no milter, then with a milter that does nothing (nullmilter.c: the ceiling),
#   2. with Moat's Milter interface (release moatd), over TCP (the default) with its storage off
#      (`Database = Off`), on SQLite (the default) and on PostgreSQL (a private server started
#      here, when Debian's postgresql is installed), then over a unix socket,
#   3. with clamav-milter + clamd,
# Moat and clamd load the same signature database (Moat's builtin test signatures), so both
# do the same scanning work per message. Prints messages/s for each, and the CPU per message of
# Postfix's processes and of the filter (moatd with its moat-scan workers; clamav-milter + clamd).
#
# Usage: Benchmarks/Milter/run.sh [messages] [sessions] [size]   (as root; packages from
# scripts/deps/milter.txt). Defaults: 5000 messages, 20 parallel sessions, 2000-byte messages.
# WARMUP messages (default 200) are sent before each timed run; each rate is also printed as a
# RESULT line (Benchmarks/lib.sh) for Benchmarks/run-all.sh.
set -euo pipefail
MESSAGES=${1:-5000}
SESSIONS=${2:-20}
SIZE=${3:-2000}
WARMUP=${WARMUP:-200}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/Benchmarks/lib.sh"
SCRATCH=${SCRATCH:-$REPO/.build-milter}
T=$(mktemp -d /tmp/moat-milter-bench.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
    postfix -c "$T/etc" stop >/dev/null 2>&1 || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    rm -rf "$T"
}
trap cleanup EXIT

# free_port, wait_port, write_signatures, postfix_start, set_milter
. "$REPO/Benchmarks/Milter/postfix.sh"
write_signatures
# moatd's sender authentication asks this loopback NSD, never the machine's resolver.
start_bench_dns
postfix_start

postfix_master() { tr -d ' ' < "$T/queue/pid/master.pid"; }

measure() {  # label [the filter's root pids]
    # warm-up, then the timed run
    smtp-source -c -l "$SIZE" -m "$WARMUP" -s "$SESSIONS" -f alice@example.com -t bob@example.org "127.0.0.1:$SMTP_PORT" >/dev/null
    local start end postfix0 postfix1 filter0=0 filter1=0
    postfix0=$(tree_cpu_ms "$(postfix_master)")
    [ $# -lt 2 ] || filter0=$(tree_cpu_ms "${@:2}")
    start=$(date +%s.%N)
    smtp-source -l "$SIZE" -m "$MESSAGES" -s "$SESSIONS" -f alice@example.com -t bob@example.org "127.0.0.1:$SMTP_PORT"
    end=$(date +%s.%N)
    postfix1=$(tree_cpu_ms "$(postfix_master)")
    [ $# -lt 2 ] || filter1=$(tree_cpu_ms "${@:2}")
    local rate
    rate=$(python3 -c "print(f'{$MESSAGES/($end-$start):.0f}')")
    printf '%-28s %8s msgs/s  (%d messages of %d bytes, %d sessions, %.2f s)\n' "$1" "$rate" "$MESSAGES" "$SIZE" "$SESSIONS" "$(python3 -c "print($end-$start)")"
    result milter "$1" "$rate" msgs/s
    # CPU per message over the timed run: Postfix's processes (what a milter makes smtpd and
    # cleanup do shows here), and the filter's (with its scanner). Unlike the rates these do not
    # depend on what else runs on the two cores.
    local postfix_cpu filter_cpu
    postfix_cpu=$(python3 -c "print(f'{($postfix1 - $postfix0) / $MESSAGES:.3f}')")
    printf '%-28s %8s ms of Postfix CPU per message (all its processes)\n' "" "$postfix_cpu"
    result milter "$1 postfix CPU" "$postfix_cpu" ms/msg
    if [ $# -ge 2 ]; then
        filter_cpu=$(python3 -c "print(f'{($filter1 - $filter0) / $MESSAGES:.3f}')")
        printf '%-28s %8s ms of the filter'"'"'s CPU per message (with its scanner)\n' "" "$filter_cpu"
        result milter "$1 filter CPU" "$filter_cpu" ms/msg
    fi
    local rejected
    rejected=$(grep -c 'milter-reject\|reject:' "$T/postfix.log" || true)
    [ "$rejected" = 0 ] || echo "  warning: $rejected rejections in the Postfix log" >&2
}

# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Of those, the ticks spent in the kernel (system time: syscalls, wake-ups).
system_ticks() { awk '{print $15}' "/proc/$1/stat"; }
# Context switches of all of a process's threads so far (voluntary and not), from /proc: each
# thread hand-off costs two, and they do not vary with the machine's load as CPU time does.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }

echo "Postfix $(postconf -d -h mail_version), $(nproc) CPUs"

# 1. no milter
set_milter ""
measure "Postfix, no milter"

# 1b. a milter that does nothing (Benchmarks/Milter/nullmilter.c, Sendmail's libmilter): the same
# milter steps as Moat's and an ACCEPT unread, so the ceiling any milter reaches here: Postfix's
# own milter work (smtpd and cleanup) is what it costs. Needs a C compiler and libmilter-dev.
if [ -n "${MOAT_ONLY:-}" ]; then
    :
elif cc -O2 -o "$T/nullmilter" "$REPO/Benchmarks/Milter/nullmilter.c" -lmilter -lpthread 2>"$T/nullmilter.err"; then
    NULL_PORT=$(free_port)
    "$T/nullmilter" "$NULL_PORT" >"$T/nullmilter.log" 2>&1 &
    PIDS+=($!)
    wait_port "$NULL_PORT"
    set_milter "inet:127.0.0.1:$NULL_PORT"
    measure "Postfix + null milter" "${PIDS[-1]}"
    kill "${PIDS[-1]}"
    wait "${PIDS[-1]}" 2>/dev/null || true
else
    echo "the null milter did not build (libmilter-dev, scripts/deps/milter.txt): its run is skipped" >&2
    head -3 "$T/nullmilter.err" >&2
fi

# 2. Moat
MOAT_PORT=$(free_port)
# moatd scans in sandboxed moat-scan workers, found beside it (older trees have none).
for product in moatd moat-scan; do
    [ -x "$SCRATCH/release/$product" ] || [ ! -d "$REPO/Sources/$product" ] \
        || (cd "$REPO" && swift build -c release --scratch-path "$SCRATCH" --product "$product" >/dev/null)
done
mkdir -p "$T/moat/run" "$T/moat/var"
moat_run() {  # label, MilterSocket value, Postfix's milter address[, Database value]
    rm -rf "$T/moat/var"
    mkdir -p "$T/moat/var"
    cat > "$T/moat/moat.ini" <<CONF
$(moat_root_section "${MOAT_LOG_LEVEL:-Notice}")
Database = ${4:-}
${MOAT_ROOT_EXTRA:-}

[MailD]
MilterSocket = $2
CONF
    # MOATD_PREFIX: a wrapper such as `valgrind --tool=callgrind` (profiles, not figures).
    ${MOATD_PREFIX:-} "$SCRATCH/release/moatd" --config "$T/moat/moat.ini" > "$T/moat/moatd.log" 2>&1 &
    PIDS+=($!)
    case "$2" in
        /*) for _ in $(seq 1 300); do [ -S "$2" ] && break; sleep 0.1; done ;;
        *) wait_port "$MOAT_PORT" ;;
    esac
    set_milter "$3"
    # moatd's own CPU over the warm-up and the timed run (the scan workers are apart): steadier
    # than messages/s on a shared machine, and what the storage writer adds shows in it.
    local ticks0 ticks1 system0 system1
    ticks0=$(cpu_ticks "${PIDS[-1]}")
    system0=$(system_ticks "${PIDS[-1]}")
    local switches0 switches1
    switches0=$(switches "${PIDS[-1]}")
    measure "$1" "${PIDS[-1]}"
    ticks1=$(cpu_ticks "${PIDS[-1]}")
    system1=$(system_ticks "${PIDS[-1]}")
    switches1=$(switches "${PIDS[-1]}")
    local switches_per
    switches_per=$(python3 -c "print(f'{($switches1 - $switches0) / ($MESSAGES + $WARMUP):.1f}')")
    printf '%-28s %8s context switches of moatd (all threads) per message\n' "" "$switches_per"
    result milter "$1 moatd switches" "$switches_per" switches/msg
    local per_message
    per_message=$(python3 -c "print(f'{($ticks1 - $ticks0) * 1000 / $(getconf CLK_TCK) / ($MESSAGES + $WARMUP):.3f}')")
    printf '%-28s %8s ms of moatd CPU per message\n' "" "$per_message"
    result milter "$1 moatd CPU" "$per_message" ms/msg
    local system_per_message
    system_per_message=$(python3 -c "print(f'{($system1 - $system0) * 1000 / $(getconf CLK_TCK) / ($MESSAGES + $WARMUP):.3f}')")
    printf '%-28s %8s ms of it in the kernel (system time)\n' "" "$system_per_message"
    result milter "$1 moatd system CPU" "$system_per_message" ms/msg
    kill "${PIDS[-1]}"
    wait "${PIDS[-1]}" 2>/dev/null || true
    # MOAT_LOG_COPY=path: keep moatd's log of the last run (with LogLevel = Info in
    # MOAT_ROOT_EXTRA, every verdict with its check time).
    [ -z "${MOAT_LOG_COPY:-}" ] || cp "$T/moat/moatd.log" "$MOAT_LOG_COPY"
}
# A PostgreSQL server of the run's own (Debian's binaries, as `nobody`, loopback, default
# durability settings), for the storage comparison.
start_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$bin" ] && [ -x "$bin/postgres" ] || return 1
    PG_PORT=$(free_port)
    mkdir -p "$T/pg"
    chown nobody "$T/pg"
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$bin/initdb" -D "$T/pg/data" -U moat --auth=trust \
        -E UTF8 --locale=C >/dev/null
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$bin/postgres" -D "$T/pg/data" -p "$PG_PORT" -k "$T/pg" \
        -c listen_addresses=127.0.0.1 > "$T/pg/postgres.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 300); do "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.1; done
    "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U moat moat
}

# TCP is the default MilterSocket. Storage: off, SQLite (the default), PostgreSQL: every
# message writes a message log row and counts in the hourly statistics.
# MOAT_RUNS: which of them (default all: off sqlite postgresql unix).
wanted() { [[ " ${MOAT_RUNS:-off sqlite postgresql unix} " == *" $1 "* ]]; }
wanted off && moat_run "Postfix + Moat, storage off" "127.0.0.1:$MOAT_PORT" "inet:127.0.0.1:$MOAT_PORT" Off
wanted sqlite && moat_run "Postfix + Moat, SQLite" "127.0.0.1:$MOAT_PORT" "inet:127.0.0.1:$MOAT_PORT"
if ! wanted postgresql; then
    :
elif start_postgres; then
    moat_run "Postfix + Moat, PostgreSQL" "127.0.0.1:$MOAT_PORT" "inet:127.0.0.1:$MOAT_PORT" "postgresql://moat@127.0.0.1:$PG_PORT/moat"
    rows=$("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" -h 127.0.0.1 -p "$PG_PORT" -U moat -d moat -At \
        -c "SELECT count(*) FROM message_log")
    echo "  message log rows in PostgreSQL: $rows"
else
    echo "PostgreSQL is not installed (scripts/deps/storage.txt): its run is skipped" >&2
fi
# The unix socket shows whether TCP adds a wait of its own.
wanted unix && moat_run "Postfix + Moat, unix socket" "$T/moat/run/milter.sock" "unix:$T/moat/run/milter.sock"
# MOAT_ONLY=1: stop here (Benchmarks/Sandbox compares two Moat builds).
[ -z "${MOAT_ONLY:-}" ] || exit 0

# 3. clamav-milter + clamd
CLAMD_SOCK="$T/clamd.sock"
CLAM_PORT=$(free_port)
cat > "$T/clamd.conf" <<CONF
LocalSocket $CLAMD_SOCK
DatabaseDirectory $T/sigs
Foreground yes
User root
LogFile $T/clamd.log
MaxThreads 20
CONF
cat > "$T/clamav-milter.conf" <<CONF
MilterSocket inet:$CLAM_PORT@127.0.0.1
ClamdSocket unix:$CLAMD_SOCK
Foreground yes
User root
OnClean Accept
OnInfected Reject
OnFail Defer
AddHeader No
LogFile $T/clamav-milter.log
MaxThreads 20
CONF
clamd -c "$T/clamd.conf" >"$T/clamd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do [ -S "$CLAMD_SOCK" ] && break; sleep 0.1; done
clamav-milter -c "$T/clamav-milter.conf" >"$T/clamav-milter.out" 2>&1 &
PIDS+=($!)
wait_port "$CLAM_PORT"
set_milter "inet:127.0.0.1:$CLAM_PORT"
measure "Postfix + clamav-milter" "${PIDS[-2]}" "${PIDS[-1]}"
