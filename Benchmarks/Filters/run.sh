#!/usr/bin/env bash
# Requests/s of Moat's spamd, rspamd and clamd interfaces on the shared corpus, beside
# SpamAssassin's spamd, rspamd and clamd on the same messages, with the same clients.
# Usage: Benchmarks/Filters/run.sh [messages (default 1000)] [parallel clients (default 8)]
# MOATD=path/to/moatd (default: a release build, built if missing).
set -uo pipefail
N=${1:-1000}; P=${2:-8}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${CORPUS:-/work/shared/corpus}
WORK=$(mktemp -d /tmp/moat-bench-filters.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${PIDS:-}" ] && kill $PIDS 2>/dev/null; rm -rf "$WORK"' EXIT
MOATD=${MOATD:-}
if [ -z "$MOATD" ]; then
  (cd "$ROOT" && swift build -c release --scratch-path .build-filters-release --product moatd >/dev/null) || exit 1
  MOATD=$ROOT/.build-filters-release/release/moatd
fi
tail -n +2 "$CORPUS/INDEX.tsv" | cut -f1 | head -n "$N" | sed "s|^|$CORPUS/|" > "$WORK/files"
COUNT=$(wc -l < "$WORK/files")

cat > "$WORK/moat.ini" <<INI
[Root]
ControlSocket = $WORK/ctl.sock
PidFile = $WORK/moatd.pid
VarDir = $WORK/var
[MailD]
SpamdSocket = 127.0.0.1:17830
RspamdSocket = 127.0.0.1:17833
[ClamD]
ClamdSocket = 127.0.0.1:17831
INI
"$MOATD" -c "$WORK/moat.ini" >"$WORK/moatd.log" 2>&1 & PIDS="$!"
sleep 3

rate() { # name command-template (FILE replaced)
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  xargs -a "$WORK/files" -P "$P" -I FILE sh -c "$* >/dev/null 2>&1 || true"
  end=$(date +%s.%N)
  printf '%-34s %6d msgs  %8.1f req/s\n' "$name" "$COUNT" "$(echo "$COUNT / ($end - $start)" | bc -l)"
}

echo "corpus: $COUNT messages, $P parallel clients, moatd: $MOATD"
rate "spamc -c -> Moat"        "spamc -d 127.0.0.1 -p 17830 -c < FILE"
rate "rspamc -> Moat"          "rspamc -h 127.0.0.1:17833 FILE"
printf 'TCPSocket 17831\nTCPAddr 127.0.0.1\n' > "$WORK/clamd-moat.conf"
rate "clamdscan --stream -> Moat" "clamdscan --config-file=$WORK/clamd-moat.conf --stream --no-summary FILE"

# SpamAssassin spamd (no network tests, no Bayes learning).
if command -v /usr/sbin/spamd >/dev/null; then
  /usr/sbin/spamd -L -i 127.0.0.1 -p 17840 -m "$P" --max-spare "$P" -u nobody -s stderr >"$WORK/spamd.log" 2>&1 & PIDS="$PIDS $!"
  for _ in $(seq 60); do spamc -d 127.0.0.1 -p 17840 -K >/dev/null 2>&1 && break; sleep 1; done
  rate "spamc -c -> SpamAssassin spamd" "spamc -d 127.0.0.1 -p 17840 -c < FILE"
else echo "SpamAssassin spamd: not installed (Debian package spamd)"; fi

# rspamd: its default configuration wants its own user, Redis and network maps.
if command -v rspamd >/dev/null; then
  mkdir -p "$WORK/rspamd"
  rspamd -f -u root -g root -i -c /etc/rspamd/rspamd.conf --var=DBDIR="$WORK/rspamd" --var=RUNDIR="$WORK/rspamd" \
         --var=LOGDIR="$WORK/rspamd" >"$WORK/rspamd.log" 2>&1 & PIDS="$PIDS $!"
  ok=""; for _ in $(seq 30); do curl -s http://127.0.0.1:11333/ping 2>/dev/null | grep -q pong && ok=1 && break; sleep 1; done
  if [ -n "$ok" ]; then rate "rspamc -> rspamd" "rspamc -h 127.0.0.1:11333 FILE"
  else echo "rspamd did not start (log: $(tail -3 "$WORK/rspamd.log" | tr '\n' ' '))"; fi
fi

# clamd with the same test-only signatures Moat uses when no database is installed.
if command -v clamd >/dev/null; then
  mkdir -p "$WORK/clamdb"
  sigtool --md5 /usr/share/clamav-testfiles/clam.exe > "$WORK/clamdb/test.hdb" 2>/dev/null
  printf 'TCPSocket 17851\nTCPAddr 127.0.0.1\nDatabaseDirectory %s\nForeground yes\nLogFile %s\nUser root\n' "$WORK/clamdb" "$WORK/clamd.log" > "$WORK/clamd.conf"
  clamd -c "$WORK/clamd.conf" >/dev/null 2>&1 & PIDS="$PIDS $!"
  for _ in $(seq 60); do clamdscan --config-file="$WORK/clamd.conf" --ping 1 >/dev/null 2>&1 && break; sleep 1; done
  rate "clamdscan --stream -> clamd" "clamdscan --config-file=$WORK/clamd.conf --stream --no-summary FILE"
fi
