#!/usr/bin/env bash
# Benchmarks/Storage: the message log searched by recipient, on SQLite and on PostgreSQL.
#   bash Benchmarks/Storage/run.sh [ROWS] [SEARCHES]      (default 1000000 rows, 200 searches)
#   BACKENDS=postgresql bash Benchmarks/Storage/run.sh   (one backend only; default both)
# Target (issue 18): 1,000,000 rows searched by recipient in under 100 ms. Builds
# moat-storage-bench in release mode, fills a fresh SQLite file and a fresh database on a
# private PostgreSQL server (Debian's, run as nobody on a free loopback port, removed after),
# and prints insert throughput and search latencies. Results: RESULTS.md beside this script.
# MOAT_BIN_DIR=dir: the moat-storage-bench there instead (e.g. a debug build; nothing built).
# MOAT_BENCH_RANDOM_IDS=1: random log ids (UUID version 4, as before 1ea4301) instead of
# time-ordered ones, to compare the two on one build.
# The median search time and the insert rate are also printed as RESULT lines (Benchmarks/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. Benchmarks/lib.sh
rows=${1:-1000000}
searches=${2:-200}
if [ -n "${MOAT_BIN_DIR:-}" ]; then
    bench=$MOAT_BIN_DIR/moat-storage-bench
else
    swift build -c release --product moat-storage-bench >/dev/null
    bench=.build/release/moat-storage-bench
fi
# run_bench BACKEND ARGS...: the bench, its figures again as RESULT lines
run_bench() {
    local backend=$1; shift
    "$bench" "$@" | tee "$work/$backend.out"
    awk -v b="$backend" '/rows\/s\)/ { gsub(/\(/, "", $(NF-1)); print "rows", $(NF-1) }
        /searches by recipient/ { for (i = 1; i < NF; i++) if ($i == "median") print "median", $(i+1) }' "$work/$backend.out" |
    while read -r what value; do
        case $what in
        rows) result storage "$backend insert" "$value" rows/s ;;
        median) result storage "$backend search median" "$value" ms ;;
        esac
    done
    grep -q "median" "$work/$backend.out"
}
work=$(mktemp -d /tmp/moat-storage-bench.XXXXXX)
chmod 755 "$work"
pg_pid=""
cleanup() {
    [ -n "$pg_pid" ] && kill -TERM "$pg_pid" 2>/dev/null && while kill -0 "$pg_pid" 2>/dev/null; do sleep 0.2; done
    rm -rf "$work"
}
trap cleanup EXIT

backends=${BACKENDS:-sqlite postgresql}
if [[ " $backends " == *" sqlite "* ]]; then
    echo "== SQLite"
    run_bench sqlite "" "$work/moat.sqlite" "$rows" "$searches"
fi
[[ " $backends " == *" postgresql "* ]] || exit 0
echo "== PostgreSQL"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$work/pg" && chown nobody:nogroup "$work/pg" && chmod 700 "$work/pg"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
as_nobody "$bin/initdb" -D "$work/pg" -U moat --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
# setpriv execs postgres: $! is the server's own PID (a function here would give a subshell's).
setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$bin/postgres" -D "$work/pg" -p "$port" -k "$work/pg" \
    -c listen_addresses=127.0.0.1 -c shared_buffers=256MB >"$work/postgres.log" 2>&1 &
pg_pid=$!
for _ in $(seq 100); do "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.2; done
"$bin/createdb" -h 127.0.0.1 -p "$port" -U moat bench
run_bench postgresql "postgresql://moat@127.0.0.1:$port/bench" "" "$rows" "$searches"
