#!/usr/bin/env bash
# Files/s of `moat-ctl scan --local` over the shared corpus beside clamscan on the same files,
# with the same signatures (Moat's two built-in test signatures, as Benchmarks/Milter) and both
# temporary directories on a tmpfs (/dev/shm): libclamav makes and removes a directory per scan,
# which on a disk file system costs more than the scan (Benchmarks/Sandbox/RESULTS.md).
# clamscan is one process on one core; moat-ctl scans in its sandboxed moat-scan workers.
#
# Usage: Benchmarks/Scan/run.sh [files (default: all of the corpus)] [runs (default 3)]
#   CORPUS=dir     the corpus (INDEX.tsv and the files it lists; default /work/shared/corpus)
#   MOAT_BIN_DIR=dir  moat-ctl and moat-scan from there (e.g. a debug build); by default a
#                  release build in .build, built when missing.
# Prints each run and the median; the medians also as RESULT lines (Benchmarks/lib.sh). Exits 1
# when either scanner fails (moat-ctl: an exit status other than 0 clean, 1 threat found or 6
# something unchecked; clamscan: other than 0 or 1) or reports fewer files than it was given.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/Benchmarks/lib.sh"
N=${1:-}
RUNS=${2:-3}
CORPUS=${CORPUS:-/work/shared/corpus}
BIN=${MOAT_BIN_DIR:-}
if [ -z "$BIN" ]; then
    for product in moat-ctl moat-scan; do
        [ -x "$REPO/.build/release/$product" ] || (cd "$REPO" && swift build -c release --product "$product" >/dev/null)
    done
    BIN=$REPO/.build/release
fi
T=$(mktemp -d /tmp/moat-scan-bench.XXXXXX)
SHM=$(mktemp -d /dev/shm/moat-scan-bench.XXXXXX)
trap 'rm -rf "$T" "$SHM"' EXIT

mkdir -p "$T/sigs"
echo 'aa15bcf478d165efd2065190eb473bcb:544:Clamav.Test.File-6' > "$T/sigs/moat-builtin.hdb"
echo 'Moat.Test.EICAR:0:*:58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a' > "$T/sigs/moat-builtin.ndb"
cat > "$T/moat.ini" <<CONF
[Root]
SignatureDir = $T/sigs
VarDir = $T/var
ControlSocket = $T/ctl.sock
TempDir = $SHM
CONF
awk -F '\t' -v dir="$CORPUS" -v n="${N:-0}" 'NR > 1 && (n == 0 || NR <= n + 1) { print dir "/" $1 }' "$CORPUS/INDEX.tsv" > "$T/files"
mapfile -t files < "$T/files"
count=${#files[@]}
[ "$count" -gt 0 ] || { echo "no files in $CORPUS/INDEX.tsv" >&2; exit 1; }

# seconds COMMAND...: runs it with TMPDIR on the tmpfs, its output in $T/out; prints the seconds
seconds() {
    local start end status=0
    start=$(date +%s.%N)
    TMPDIR=$SHM "$@" > "$T/out" 2>&1 || status=$?
    end=$(date +%s.%N)
    echo "$status" > "$T/status"
    python3 -c "print($end - $start)"
}
# check NAME OK-STATUSES REPORTED: the last run's exit status and the number of files it reported
check() {
    local status
    status=$(cat "$T/status")
    [[ " $2 " == *" $status "* ]] || { echo "$1 exited with $status: $(head -3 "$T/out")" >&2; exit 1; }
    [ "$3" -ge "$count" ] || { echo "$1 reported $3 results for $count files: $(head -3 "$T/out")" >&2; exit 1; }
}

echo "$count files of $CORPUS, $RUNS runs alternating, $(nproc) CPUs; moat-ctl: $BIN/moat-ctl, $(clamscan --version)"
moat=() clam=()
for run in $(seq 1 "$RUNS"); do
    s=$(seconds "$BIN/moat-ctl" scan --local --config "$T/moat.ini" --file-list="$T/files")
    # one top-level line per message ("path: clean", "path#2: ..." for each message of an mbox)
    check "moat-ctl scan --local" "0 1 6" "$(grep -c '^/' "$T/out" || true)"
    moat+=("$(python3 -c "print(round($count / $s, 1))")")
    s=$(seconds clamscan --no-summary -d "$T/sigs" --file-list="$T/files")
    check clamscan "0 1" "$(grep -c '^/' "$T/out" || true)"
    clam+=("$(python3 -c "print(round($count / $s, 1))")")
    echo "run $run: moat-ctl scan --local ${moat[-1]} files/s, clamscan ${clam[-1]} files/s"
done
median() { python3 -c "import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
m=$(median "${moat[@]}"); c=$(median "${clam[@]}")
printf 'median: moat-ctl scan --local %s files/s, clamscan %s files/s: Moat = %.2f x clamscan (goal: 1.5)\n' "$m" "$c" \
    "$(python3 -c "print($m / $c)")"
result scan "moat-ctl scan --local" "$m" files/s
result scan "clamscan" "$c" files/s
