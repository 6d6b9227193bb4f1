#!/usr/bin/env bash
# moat-bench (this directory's Swift target) with its figures also as RESULT lines
# (Benchmarks/lib.sh) for Benchmarks/run-all.sh: in one process, Moat's check over the corpus
# beside libclamav alone on the same bytes and clamscan on the same files (main.swift says more).
# Usage: Benchmarks/MoatBench/run.sh [corpus [DIR] | large [MB] | memory [MB]]   (default: corpus
# over $CORPUS, else the shared corpus). MOAT_BIN_DIR=dir: the moat-bench there (e.g. a debug
# build); by default a release build in .build, built when missing.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/Benchmarks/lib.sh"
mode=${1:-corpus}
arg=${2:-}
[ "$mode" != corpus ] || [ -n "$arg" ] || arg=${CORPUS:-}
BIN=${MOAT_BIN_DIR:-}
if [ -z "$BIN" ]; then
    [ -x "$REPO/.build/release/moat-bench" ] || (cd "$REPO" && swift build -c release --product moat-bench >/dev/null)
    BIN=$REPO/.build/release
fi
out=$(mktemp /tmp/moat-bench.XXXXXX)
trap 'rm -f "$out"' EXIT
"$BIN/moat-bench" "$mode" ${arg:+"$arg"} | tee "$out"
# Bench.line's "<label> <n> msg/s <m> MB/s (...)": both figures ("moat" twice in large mode:
# from memory, then from a spool file)
awk '$3 == "msg/s" && $5 == "MB/s" { print $1, $2, "msgs/s"; print $1 "-MB", $4, "MB/s" }' "$out" |
    while read -r label value unit; do result moat-bench "$label" "$value" "$unit"; done
