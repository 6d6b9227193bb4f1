#!/usr/bin/env bash
# Every benchmark path with its anchors, in one invocation, and one table of the figures.
#
# Runs the benchmark scripts one after the other (each starts its own peers: Postfix, clamd,
# clamav-milter, SpamAssassin, rspamd, PostgreSQL, Dovecot, on loopback or in the network
# namespaces of Benchmarks/Gate, and stops them by PID), collects the RESULT lines they print
# (Benchmarks/lib.sh) and writes one markdown table (Benchmarks/table.py): path, anchor, its
# figure, Moat's, Moat/anchor and the goal of issue 19, under the date, the machine and the
# versions of the peers. Timings are reported, never judged: a run fails (exit 1) only when a
# benchmark script fails or prints no RESULT line.
#
# Usage (as root; the packages of scripts/deps/*.txt):
#   Benchmarks/run-all.sh            full sizes, release binaries (built in .build when missing);
#                                    the table also in Benchmarks/results/<date>-<host>.md, the
#                                    scripts' own output in Benchmarks/results/<date>-<host>.log
#   Benchmarks/run-all.sh --smoke    (or SCALE=smoke) tens of messages, one run each, every
#                                    script end to end in a few minutes, with the binaries of
#                                    MOAT_BIN_DIR (default .build/debug: CI's `swift build`); the
#                                    table in Benchmarks/results/smoke-<date>-<host>.md (ignored by git)
# Environment:
#   MOAT_BIN_DIR=dir   moatd, moat-scan, moat-ctl and the moat-*-bench tools from there
#   CORPUS=dir         the mail corpus (default ../shared/corpus or /work/shared/corpus)
#   ONLY="scan milter" the benchmarks to run, of: scan engine (moat-bench) milter filters storage
#                      gate gate-tls gate-bypass antispam sandbox callgrind (default: all but
#                      antispam (slow: hours) and sandbox (compares two builds); --smoke runs all)
#   STEP_TIMEOUT=s     bound on each script (default 900 in smoke, 14400 at full size)
#   PREFIX=mra         the Gate benchmark's network namespace names (mrac, mrag, mras)
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SCALE=${SCALE:-full}
for arg in "$@"; do
    case $arg in
    --smoke) SCALE=smoke ;;
    -h|--help) sed -n '2,/^set /p' "$0" | sed '$d'; exit 0 ;;
    *) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
    esac
done
case $SCALE in full|smoke) ;; *) echo "$0: SCALE is full or smoke" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "$0: needs root (network namespaces, private Postfix, clamd)" >&2; exit 2; }

ONLY_GIVEN=${ONLY+given}
if [ "$SCALE" = smoke ]; then
    ONLY=${ONLY:-scan engine milter filters storage gate gate-tls gate-bypass antispam sandbox callgrind}
    STEP_TIMEOUT=${STEP_TIMEOUT:-900}
else
    ONLY=${ONLY:-scan engine milter filters storage gate gate-tls gate-bypass callgrind}
    STEP_TIMEOUT=${STEP_TIMEOUT:-14400}
fi
# scale (Benchmarks/Scale: sizes × sessions, with latency) and mixed (a small message's latency
# while large ones are checked) run by default in both sizes, and with ONLY="... scale mixed".
[ -n "$ONLY_GIVEN" ] || ONLY="$ONLY scale mixed"
if [ -z "${CORPUS:-}" ]; then
    for candidate in "$REPO/../shared/corpus" /work/shared/corpus; do
        [ -f "$candidate/INDEX.tsv" ] && CORPUS=$(cd "$candidate" && pwd) && break
    done
fi
if [ ! -f "${CORPUS:-}/INDEX.tsv" ]; then
    [ "$SCALE" = smoke ] || { echo "$0: no corpus (CORPUS=dir with INDEX.tsv)" >&2; exit 2; }
    CORPUS=""  # the smoke makes messages of its own
fi

WORK=$(mktemp -d /tmp/moat-run-all.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# --- the binaries: one set for every script ---
products="moatd moat-scan moat-ctl moat-bench moat-storage-bench moat-spam-bench"
if [ -z "${MOAT_BIN_DIR:-}" ]; then
    if [ "$SCALE" = smoke ]; then
        MOAT_BIN_DIR=$REPO/.build/debug
    else
        for product in $products; do
            echo "building $product (release, in .build)"
            (cd "$REPO" && swift build -c release --product "$product") > "$WORK/build.log" 2>&1 ||
                { grep -E "error" "$WORK/build.log" | head -20 >&2; echo "$0: release build of $product failed" >&2; exit 1; }
        done
        MOAT_BIN_DIR=$REPO/.build/release
    fi
fi
MOAT_BIN_DIR=$(cd "$MOAT_BIN_DIR" && pwd)
for product in $products; do
    [ -x "$MOAT_BIN_DIR/$product" ] || { echo "$0: $MOAT_BIN_DIR/$product is missing (swift build)" >&2; exit 1; }
done
export MOAT_BIN_DIR
# The Milter, Gate and Sandbox scripts take a SwiftPM scratch path and use its release/ directory:
# one whose release/ is MOAT_BIN_DIR, so none of them builds anything.
mkdir -p "$WORK/scratch"
ln -s "$MOAT_BIN_DIR" "$WORK/scratch/release"

# --- sizes ---
if [ "$SCALE" = smoke ]; then
    # A corpus of 60 messages (20 ham, 20 spam, 20 unlabelled): INDEX.tsv of those, the files
    # through links to the corpus's directories; without a corpus, 60 plain messages made here.
    mkdir -p "$WORK/corpus"
    if [ -n "$CORPUS" ]; then
        for entry in "$CORPUS"/*; do [ "$(basename "$entry")" = INDEX.tsv ] || ln -s "$entry" "$WORK/corpus/"; done
        awk -F '\t' 'NR == 1 { print; next } { l = ($4 == "ham" || $4 == "spam") ? $4 : "-" } n[l]++ < 20' \
            "$CORPUS/INDEX.tsv" > "$WORK/corpus/INDEX.tsv"
    else
        python3 - "$WORK/corpus" <<'PY'
import os, sys
out = sys.argv[1]
os.makedirs(f"{out}/made", exist_ok=True)
index = ["path\tbytes\tsha256\tlabel\tfeatures"]
texts = {"ham": "Minutes of Tuesday's meeting attached below; the next one is on the 14th.",
         "spam": "CHEAP MEDS!!! Buy now, 90% off, click http://pills.example.net/buy?id=7 WIN $$$",
         "-": "A plain message."}
for label, text in texts.items():
    for i in range(20):
        name = f"made/{'none' if label == '-' else label}-{i:02d}.eml"
        body = (f"From: sender{i}@example.com\r\nTo: bob@example.org\r\nSubject: message {i}\r\n"
                f"Message-ID: <{label}{i}@example.com>\r\nDate: Sun, 6 Dec 2026 12:00:00 +0000\r\n\r\n"
                + (text + "\r\n") * (1 + i % 5))
        open(f"{out}/{name}", "w").write(body)
        index.append(f"{name}\t{len(body)}\t-\t{label}\t-")
open(f"{out}/INDEX.tsv", "w").write("\n".join(index) + "\n")
PY
    fi
    BENCH_CORPUS=$WORK/corpus
    MILTER_ARGS=(50 5 2000) FILTERS_ARGS=(60 4) STORAGE_ARGS=(1000 20) SCAN_ARGS=("" 1) TLS_ARGS=(20 4 20)
    GATE_ENV=(MESSAGES=50 SESSIONS=5 RUNS=1 LATENCY_MESSAGES=10 CONNECTIONS=50)
    ANTISPAM_ARGS=(2) SANDBOX_ARGS=(1 50) BYPASS_ARGS=(--smoke)
    # Under valgrind with debug binaries: a few messages on the Milter and clamd paths.
    CALLGRIND_ENV=(PATHS="milter clamd" CALLGRIND_WARMUP=2) CALLGRIND_ARGS=(3)
    export WARMUP=${WARMUP:-20}
else
    BENCH_CORPUS=$CORPUS
    MILTER_ARGS=() FILTERS_ARGS=() STORAGE_ARGS=() SCAN_ARGS=() TLS_ARGS=() GATE_ENV=() ANTISPAM_ARGS=()
    SANDBOX_ARGS=() BYPASS_ARGS=() CALLGRIND_ENV=() CALLGRIND_ARGS=()
fi

# --- the machine ---
version() { "$@" 2>/dev/null | head -1 | tr -s ' \t' ' ' | sed 's/ *$//'; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
HOST=$(hostname -s)
{
    echo "# Benchmarks/run-all.sh ($SCALE), $STARTED on $HOST"
    echo
    echo "- Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
        "$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM, Linux $(uname -r);" \
        "load average at the start $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Moat: $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown), binaries $MOAT_BIN_DIR"
    echo "- Peers: Postfix $(postconf -d -h mail_version 2>/dev/null), $(version clamd --version)," \
        "$(version spamassassin --version), $(version rspamd --version), PostgreSQL $(version "$pg_bin/postgres" --version | awk '{print $3}')," \
        "SQLite $(version sqlite3 --version | cut -d' ' -f1), Dovecot $(version dovecot --version | cut -d' ' -f1)," \
        "$(version openssl version | cut -d' ' -f1-2), $(version python3 --version)"
    echo "- Corpus: $BENCH_CORPUS ($(($(wc -l < "$BENCH_CORPUS/INDEX.tsv") - 1)) messages)"
} > "$WORK/header.md"
cat "$WORK/header.md"
echo

# --- the runs ---
LOGS=$WORK/logs
mkdir -p "$LOGS"
FAILED=()
# step NAME COMMAND...: one benchmark script, bounded; its output in $LOGS/NAME.log
step() {
    local name=$1 start status=0 results
    shift
    [[ " $ONLY " == *" $name "* ]] || return 0
    printf '%-9s ' "$name"
    start=$(date +%s)
    (cd "$REPO" && CORPUS=$BENCH_CORPUS timeout --kill-after=30 "$STEP_TIMEOUT" "$@") > "$LOGS/$name.log" 2>&1 || status=$?
    results=$(grep -c '^RESULT ' "$LOGS/$name.log")
    if [ "$status" = 0 ] && [ "$results" -gt 0 ]; then
        echo "ok, $results figures, $(($(date +%s) - start)) s"
    else
        [ "$status" = 124 ] && status="timed out after $STEP_TIMEOUT s"
        echo "FAILED (exit status $status, $results figures, $(($(date +%s) - start)) s); the end of its output:"
        tail -n 25 "$LOGS/$name.log" | sed 's/^/    /'
        FAILED+=("$name")
    fi
}
B=$REPO/Benchmarks
step scan     bash "$B/Scan/run.sh" "${SCAN_ARGS[@]}"
step engine   bash "$B/MoatBench/run.sh" corpus "$BENCH_CORPUS"
step milter   env SCRATCH="$WORK/scratch" bash "$B/Milter/run.sh" "${MILTER_ARGS[@]}"
step filters  env MOATD="$MOAT_BIN_DIR/moatd" bash "$B/Filters/run.sh" "${FILTERS_ARGS[@]}"
step storage  bash "$B/Storage/run.sh" "${STORAGE_ARGS[@]}"
step gate     env SCRATCH="$WORK/scratch" PREFIX="${PREFIX:-mra}" "${GATE_ENV[@]}" bash "$B/Gate/run.sh" all
step gate-tls env MOATD="$MOAT_BIN_DIR/moatd" MOAT_CTL="$MOAT_BIN_DIR/moat-ctl" bash "$B/Gate/tls.sh" "${TLS_ARGS[@]}"
step gate-bypass env MOATD="$MOAT_BIN_DIR/moatd" PREFIX="${PREFIX:-mra}" bash "$B/Gate/bypass.sh" "${BYPASS_ARGS[@]}"
step antispam env MOATD="$MOAT_BIN_DIR/moatd" bash "$B/AntiSpam/run.sh" "${ANTISPAM_ARGS[@]}"
step sandbox  env BEFORE="$WORK/scratch" AFTER="$WORK/scratch" bash "$B/Sandbox/run.sh" "${SANDBOX_ARGS[@]}"
step callgrind env "${CALLGRIND_ENV[@]}" bash "$B/Callgrind/run.sh" "${CALLGRIND_ARGS[@]}"
step scale    env SCRATCH="$WORK/scratch" bash "$B/Scale/run.sh" $([ "$SCALE" = full ] || echo --smoke)
step mixed    env MOATD="$MOAT_BIN_DIR/moatd" bash "$B/Scale/mixed.sh" $([ "$SCALE" = full ] || echo --smoke)

# --- the table ---
cat "$LOGS"/*.log 2>/dev/null | grep '^RESULT ' > "$WORK/results.txt"
mkdir -p "$B/results"
name=$(date -u +%Y-%m-%d)-$HOST
[ "$SCALE" = smoke ] && name=smoke-$name
{
    cat "$WORK/header.md"
    echo
    python3 "$B/table.py" "$WORK/results.txt"
    [ ${#FAILED[@]} = 0 ] || printf '\nFailed: %s\n' "${FAILED[*]}"
} > "$B/results/$name.md"
for log in "$LOGS"/*.log; do printf '\n===== %s\n' "$(basename "$log" .log)"; cat "$log"; done > "$B/results/$name.log"
echo
cat "$B/results/$name.md"
echo
echo "(written to Benchmarks/results/$name.md, the scripts' output to Benchmarks/results/$name.log)"
[ ${#FAILED[@]} = 0 ] || { echo "$0: failed: ${FAILED[*]}" >&2; exit 1; }
