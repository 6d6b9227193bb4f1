#!/usr/bin/env bash
# What the process boundary costs: the same work with libclamav inside moatd/moat-ctl (BEFORE:
# release binaries of a tree from before the scan sandbox) and in sandboxed moat-scan workers
# (AFTER), measured alternately in one run on this machine.
#   1. moat-ctl scan --local over the shared corpus (files/s; built-in test signatures)
#   2. Benchmarks/Milter/run.sh: Postfix + Moat's milter (msgs/s at smtp-sink)
# Usage (as root): BEFORE=dir AFTER=dir Benchmarks/Sandbox/run.sh [runs (3)] [milter messages (3000)]
# where each dir holds release/moatd and release/moat-ctl (AFTER also release/moat-scan).
# Each figure is also printed as a RESULT line (Benchmarks/lib.sh); Benchmarks/run-all.sh --smoke
# runs this script with one build as both BEFORE and AFTER so that it keeps working.
set -euo pipefail
RUNS=${1:-3}
MESSAGES=${2:-3000}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/Benchmarks/lib.sh"
CORPUS=${CORPUS:-$REPO/../shared/corpus}
: "${BEFORE:?release directory of the build before the sandbox}" "${AFTER:?release directory of the sandboxed build}"
T=$(mktemp -d /tmp/moat-sandbox-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/signatures"
printf '[Root]\nSignatureDir = %s/signatures\nVarDir = %s/var\nControlSocket = %s/ctl.sock\n' "$T" "$T" "$T" > "$T/moat.ini"
files=$(tail -n +2 "$CORPUS/INDEX.tsv" | cut -f1 | sed "s|^|$CORPUS/|")
count=$(wc -l <<<"$files")

# libclamav makes and removes a directory per scan in $TMPDIR: on this machine's ext4 that was
# 44% of the workers' CPU (perf: ext4 inode allocation), the same for both builds. Both get a
# tmpfs, as TempDir gives moatd (/run/moat/tmp), so what is compared is the process boundary.
mkdir -p /dev/shm/moat-sandbox-bench
scan_rate() { # $1: release dir
    local start end
    start=$(date +%s.%N)
    TMPDIR=/dev/shm/moat-sandbox-bench xargs -a <(echo "$files") "$1/release/moat-ctl" scan --local --config "$T/moat.ini" > "$T/out" 2>&1 || true
    end=$(date +%s.%N)
    grep -c ': ' "$T/out" >/dev/null || { echo "moat-ctl printed nothing: $(head -5 "$T/out")" >&2; exit 1; }
    python3 -c "print(f'{$count/($end-$start):.0f}')"
}

milter_rate() { # $1: release dir
    MOAT_ONLY=1 SCRATCH=$1 bash "$REPO/Benchmarks/Milter/run.sh" "$MESSAGES" 2>/dev/null | awk '/Moat/ && /msgs\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="msgs/s") print $i}' | head -1
}

echo "corpus: $count files; milter: $MESSAGES messages; $RUNS runs, alternating"
printf '%-26s %s\n' "measure" "before | after (each run)"
for run in $(seq 1 "$RUNS"); do
    before=$(scan_rate "$BEFORE"); after=$(scan_rate "$AFTER")
    echo "scan run $run: before $before files/s | after $after files/s"
    result sandbox "scan before run $run" "$before" files/s
    result sandbox "scan after run $run" "$after" files/s
done
for run in $(seq 1 "$RUNS"); do
    before=$(milter_rate "$BEFORE"); after=$(milter_rate "$AFTER")
    echo "milter run $run: before $before msgs/s | after $after msgs/s"
    [ -n "$before" ] && [ -n "$after" ] || { echo "Benchmarks/Milter/run.sh gave no Moat rate" >&2; exit 1; }
    result sandbox "milter before run $run" "$before" msgs/s
    result sandbox "milter after run $run" "$after" msgs/s
done
