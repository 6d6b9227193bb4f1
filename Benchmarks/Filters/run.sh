#!/usr/bin/env bash
# Requests/s of Moat's spamd, rspamd and clamd interfaces on the shared corpus, beside
# SpamAssassin's spamd, rspamd and clamd on the same messages, with the same clients.
# Usage: Benchmarks/Filters/run.sh [messages (default 1000)] [parallel clients (default 8)]
# MOATD=path/to/moatd (default: a release build, built if missing). zINSTREAM (moat-bench
# clamd-load): INSTREAM_FILES corpus files (default all), INSTREAM_ROUNDS rounds (default 3).
# Each rate is also printed as a RESULT line (Benchmarks/lib.sh) for Benchmarks/run-all.sh, and
# only when every request got a valid answer; the exit status is 1 when one did not, or a peer
# that is installed did not start.
set -uo pipefail
N=${1:-1000}; P=${2:-8}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Benchmarks/lib.sh"
FAILED=0
CORPUS=${CORPUS:-/work/shared/corpus}
WORK=$(mktemp -d /tmp/moat-bench-filters.XXXXXX)
# moatd started as root runs as user moat ([Root] User): its files must be reachable.
chmod 755 "$WORK"
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${PIDS:-}" ] && kill $PIDS 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK" "${SHM:-}"' EXIT
MOATD=${MOATD:-}
if [ -z "$MOATD" ]; then
  SCRATCH=${SCRATCH:-.build-filters-release}
  for product in moatd moat-scan; do
    (cd "$ROOT" && swift build -c release --scratch-path "$SCRATCH" --product $product >/dev/null) || exit 1
  done
  MOATD=$ROOT/$SCRATCH/release/moatd
fi
tail -n +2 "$CORPUS/INDEX.tsv" | cut -f1 | head -n "$N" | sed "s|^|$CORPUS/|" > "$WORK/files"
COUNT=$(wc -l < "$WORK/files")
# clamd-load's list: the whole corpus (INSTREAM_FILES files, default all), each file sent once
# (the first N alone are mostly one source's many-part messages).
tail -n +2 "$CORPUS/INDEX.tsv" | cut -f1 | head -n "${INSTREAM_FILES:-1000000}" | sed "s|^|$CORPUS/|" > "$WORK/instream-files"
# "<number> <path>" per message: each reply is kept in $WORK/out/<number> and checked after
# the timed run (outside the timing), so a refused or failed request cannot count as a scan.
nl -ba -w1 -s' ' "$WORK/files" > "$WORK/jobs"

# libclamav's scratch space on a tmpfs for Moat and clamd alike (a directory per scan, files
# per part: on a disk file system that costs more than the scan, Benchmarks/Sandbox/RESULTS.md).
SHM=$(mktemp -d /dev/shm/moat-filters-bench.XXXXXX)
chmod 1777 "$SHM"
start_filters_moatd "$WORK" "$SHM/moat" 17830 17833 17831 || exit 1
PIDS=$FILTERS_MOATD_PID

rate() { # name reply-regex command-template (FILE: the message)
  local name=$1 check=$2; shift 2
  local cmd=${*//FILE/\"\$2\"}
  local start end ok bad
  rm -rf "$WORK/out"; mkdir -p "$WORK/out"
  start=$(date +%s.%N)
  xargs -a "$WORK/jobs" -P "$P" -L 1 sh -c "$cmd >\"$WORK/out/\$1\" 2>&1; true" _
  end=$(date +%s.%N)
  ok=$(grep -lE "$check" "$WORK/out"/* | wc -l)
  local rate
  rate=$(echo "$COUNT / ($end - $start)" | bc -l)
  printf '%-34s %6d msgs  %8.1f req/s  %6d successful scans\n' "$name" "$COUNT" "$rate" "$ok"
  if [ "$ok" -eq "$COUNT" ]; then
    result filters "$name" "$(printf '%.1f' "$rate")" req/s
  else
    FAILED=1
    bad=$(grep -LE "$check" "$WORK/out"/* | head -1)
    echo "  first failure ($(sed -n "$(basename "$bad")p" "$WORK/files")): $(head -c 300 "$bad" | tr '\n' ' ')"
  fi
}

# spamc sends nothing over its own 500 KB default and prints 0/0: `-s 32 MB` makes it send
# every corpus message, to Moat and to SpamAssassin alike.
# What a successful scan answers: spamc -c "<score>/<threshold>" (it prints 0/0 when it
# failed), rspamc an "Action:" line, clamdscan "<file>: OK" or "<file>: <name> FOUND".
SPAMC_OK='^-?[0-9.]+/5\.0$'
RSPAMC_OK='^Action: '
CLAMDSCAN_OK=': (OK|.+ FOUND)$'

# The server alone: moat-bench clamd-load sends zINSTREAM from P threads, one connection per
# request as clamdscan --stream does, without a process per request (clamdscan's start-up is
# most of what the rate above measures). Each corpus file once: clamd keeps a cache of the
# files it found clean (Moat turns libclamav's off, its limits differing per interface), so a
# file sent again would measure clamd's cache, not its scan. Hence INSTREAM_ROUNDS rounds
# (default 3), Moat then a freshly started clamd in each, and the medians: one round on this
# two-core machine varies by ±10 %. Each round also reads the servers' CPU from /proc (user +
# system of every process named moatd or moat-scan; of clamd: run nothing else so named),
# which the client's share of the cores does not blur: "cpu" figures, ms per request.
BENCH=${MOAT_BENCH:-$(dirname "$MOATD")/moat-bench}
TICK=$(getconf CLK_TCK)
cpu_ticks() { # comm names: the summed user + system ticks of every process so named
  awk -v names=" $* " '{ comm = $2; gsub(/[()]/, "", comm); if (index(names, " " comm " ")) t += $14 + $15 } END { print t + 0 }' \
    /proc/[0-9]*/stat 2>/dev/null
}
instream_once() { # port process-names...: prints "<req/s> <ms of CPU per request>", or fails
  local port=$1 line before after rate requests; shift
  before=$(cpu_ticks "$@")
  line=$("$BENCH" clamd-load --port "$port" --clients "$P" --file-list "$WORK/instream-files" 2>&1) || { echo "$line" >&2; return 1; }
  after=$(cpu_ticks "$@")
  rate=$(echo "$line" | sed -n 's/.*: \([0-9.]*\) req\/s.*/\1/p')
  requests=$(echo "$line" | sed -n 's/^\([0-9]*\) requests.*/\1/p')
  [ -n "$rate" ] && [ -n "$requests" ] && [ "$requests" -gt 0 ] || { echo "$line" >&2; return 1; }
  echo "$rate $(echo "($after - $before) * 1000 / $TICK / $requests" | bc -l)"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
start_clamd() { # a clamd with an empty clean-file cache; its pid in CLAMD_PID
  clamd -c "$WORK/clamd.conf" >/dev/null 2>&1 & CLAMD_PID=$!
  PIDS="$PIDS $CLAMD_PID"
  for _ in $(seq 60); do clamdscan --config-file="$WORK/clamd.conf" --ping 1 >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}
fresh_clamd() { # the running clamd replaced by one whose cache is empty
  kill "$CLAMD_PID" 2>/dev/null; wait "$CLAMD_PID" 2>/dev/null
  start_clamd
}
instream_rounds() { # with_clamd (1 or empty)
  local rounds=${INSTREAM_ROUNDS:-3} round out moat="" clamd="" moat_round clamd_round
  if [ ! -x "$BENCH" ]; then echo "zINSTREAM: no moat-bench at $BENCH (MOAT_BENCH=...)"; return; fi
  for round in $(seq "$rounds"); do
    moat_round="failed" clamd_round="not run"
    if out=$(instream_once 17831 moatd moat-scan); then
      moat="$moat$out"$'\n'; moat_round=$(printf '%s req/s, %.3f ms CPU/request' ${out})
    else FAILED=1; fi
    if [ -n "$1" ]; then
      # A fresh clamd for every round after the first: the last one's cache knows every file.
      if [ "$round" -gt 1 ] && ! fresh_clamd; then FAILED=1; echo "clamd did not start again"; break; fi
      if out=$(instream_once 17851 clamd); then
        clamd="$clamd$out"$'\n'; clamd_round=$(printf '%s req/s, %.3f ms CPU/request' ${out})
      else FAILED=1; clamd_round="failed"; fi
    fi
    echo "zINSTREAM round $round: Moat $moat_round; clamd $clamd_round"
  done
  local name lines rate cpu
  for name in Moat clamd; do
    if [ $name = Moat ]; then lines=$moat; else lines=$clamd; fi
    [ -n "$lines" ] || continue
    rate=$(printf '%s' "$lines" | cut -d' ' -f1 | median); cpu=$(printf '%s' "$lines" | cut -d' ' -f2 | median)
    printf '%-34s %8.1f req/s, %.3f ms CPU/request (medians of %d rounds, %s files each)\n' "zINSTREAM -> $name" \
      "$rate" "$cpu" "$(printf '%s' "$lines" | wc -l)" "$(wc -l < "$WORK/instream-files")"
    result filters "zINSTREAM -> $name" "$(printf '%.1f' "$rate")" req/s
    result filters "zINSTREAM -> $name cpu" "$(printf '%.4f' "$cpu")" ms
  done
}

echo "corpus: $COUNT messages, $P parallel clients, moatd: $MOATD"
rate "spamc -c -> Moat"        "$SPAMC_OK" "spamc -d 127.0.0.1 -p 17830 -s 33554432 -c < FILE"
rate "rspamc -> Moat"          "$RSPAMC_OK" "rspamc -h 127.0.0.1:17833 FILE"
printf 'TCPSocket 17831\nTCPAddr 127.0.0.1\n' > "$WORK/clamd-moat.conf"
rate "clamdscan --stream -> Moat" "$CLAMDSCAN_OK" "clamdscan --config-file=$WORK/clamd-moat.conf --stream --no-summary FILE"

# SpamAssassin spamd (no network tests, no Bayes learning).
if command -v /usr/sbin/spamd >/dev/null; then
  /usr/sbin/spamd -L -i 127.0.0.1 -p 17840 -m "$P" --max-spare "$P" -u nobody -s stderr >"$WORK/spamd.log" 2>&1 & PIDS="$PIDS $!"
  for _ in $(seq 60); do spamc -d 127.0.0.1 -p 17840 -K >/dev/null 2>&1 && break; sleep 1; done
  rate "spamc -c -> SpamAssassin spamd" "$SPAMC_OK" "spamc -d 127.0.0.1 -p 17840 -s 33554432 -c < FILE"
else echo "SpamAssassin spamd: not installed (Debian package spamd)"; fi

# rspamd: its default configuration wants its own user, Redis and network maps.
if command -v rspamd >/dev/null; then
  mkdir -p "$WORK/rspamd"
  rspamd -f -u root -g root -i -c /etc/rspamd/rspamd.conf --var=DBDIR="$WORK/rspamd" --var=RUNDIR="$WORK/rspamd" \
         --var=LOGDIR="$WORK/rspamd" >"$WORK/rspamd.log" 2>&1 & PIDS="$PIDS $!"
  ok=""; for _ in $(seq 120); do curl -s http://127.0.0.1:11333/ping 2>/dev/null | grep -q pong && ok=1 && break; sleep 1; done
  if [ -n "$ok" ]; then rate "rspamc -> rspamd" "$RSPAMC_OK" "rspamc -h 127.0.0.1:11333 FILE"
  else echo "rspamd did not start (log: $(tail -3 "$WORK/rspamd.log" | tr '\n' ' '))"; FAILED=1; fi
fi

# clamd with the test-only signatures Moat uses when no database is installed.
if command -v clamd >/dev/null; then
  # Moat's two built-in test signatures, as Benchmarks/Scan gives clamscan: the same pattern
  # matching on both sides (a hash alone would let clamd skip the content scan Moat does).
  write_signatures "$WORK/clamdb"
  printf 'TCPSocket 17851\nTCPAddr 127.0.0.1\nDatabaseDirectory %s\nForeground yes\nLogFile %s\nUser root\nTemporaryDirectory %s\n' "$WORK/clamdb" "$WORK/clamd.log" "$SHM" > "$WORK/clamd.conf"
  start_clamd || { FAILED=1; echo "clamd did not start"; }
  rate "clamdscan --stream -> clamd" "$CLAMDSCAN_OK" "clamdscan --config-file=$WORK/clamd.conf --stream --no-summary FILE"
  # clamdscan's files are in its cache now: the rounds start on a fresh one.
  fresh_clamd || { FAILED=1; echo "clamd did not start again"; }
  instream_rounds 1
else
  instream_rounds ""
fi
exit $FAILED
