#!/usr/bin/env bash
# Requests/s of Moat's spamd, rspamd and clamd interfaces on the shared corpus, beside
# SpamAssassin's spamd, rspamd and clamd on the same messages, with the same clients.
# Usage: Benchmarks/Filters/run.sh [messages (default 1000)] [parallel clients (default 8)]
# MOATD=path/to/moatd (default: a release build, built if missing).
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
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${PIDS:-}" ] && kill $PIDS 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
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
# "<number> <path>" per message: each reply is kept in $WORK/out/<number> and checked after
# the timed run (outside the timing), so a refused or failed request cannot count as a scan.
nl -ba -w1 -s' ' "$WORK/files" > "$WORK/jobs"

cat > "$WORK/moat.ini" <<INI
[Root]
ControlSocket = $WORK/run/ctl.sock
PidFile = $WORK/run/moatd.pid
VarDir = $WORK/var
[MailD]
SpamdSocket = 127.0.0.1:17830
RspamdSocket = 127.0.0.1:17833
[ClamD]
ClamdSocket = 127.0.0.1:17831
INI
"$MOATD" -c "$WORK/moat.ini" >"$WORK/moatd.log" 2>&1 & PIDS="$!"
for _ in $(seq 60); do
  spamc -d 127.0.0.1 -p 17830 -K >/dev/null 2>&1 && break
  kill -0 "$PIDS" 2>/dev/null || { echo "moatd exited: $(tail -3 "$WORK/moatd.log")" >&2; exit 1; }
  sleep 1
done

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

# clamd with the same test-only signatures Moat uses when no database is installed.
if command -v clamd >/dev/null; then
  mkdir -p "$WORK/clamdb"
  sigtool --md5 /usr/share/clamav-testfiles/clam.exe > "$WORK/clamdb/test.hdb" 2>/dev/null
  printf 'TCPSocket 17851\nTCPAddr 127.0.0.1\nDatabaseDirectory %s\nForeground yes\nLogFile %s\nUser root\n' "$WORK/clamdb" "$WORK/clamd.log" > "$WORK/clamd.conf"
  clamd -c "$WORK/clamd.conf" >/dev/null 2>&1 & PIDS="$PIDS $!"
  for _ in $(seq 60); do clamdscan --config-file="$WORK/clamd.conf" --ping 1 >/dev/null 2>&1 && break; sleep 1; done
  rate "clamdscan --stream -> clamd" "$CLAMDSCAN_OK" "clamdscan --config-file=$WORK/clamd.conf --stream --no-summary FILE"
fi
exit $FAILED
