#!/usr/bin/env bash
# Accuracy and speed of Moat's anti-spam engine beside SpamAssassin 4 and rspamd 3.4, on the
# same k folds of the shared corpus's labelled messages (INDEX.tsv label = ham/spam).
#
# Usage: Benchmarks/AntiSpam/run.sh [K (default 5)]
#   FOLDS=0,1   run the peers on these folds only (sa-learn is slow); Moat always runs all
#   SKIP_MOAT=1 with OUT=<earlier results>: run only the peers again
#   PEERS="sa rspamd moatd"  which peers to run (default all); OUT=dir keeps the results
#   MOATD=path  the moatd whose spamd interface is timed (default: release build if there, else debug)
#   MOAT_BIN_DIR=dir  moat-spam-bench and moatd from there (e.g. a debug build; nothing built)
# Needs: spamassassin spamd (SpamAssassin), rspamd, redis-server, python3 (scripts/deps).
# Speeds and F1 are also printed as RESULT lines (Benchmarks/lib.sh) for Benchmarks/run-all.sh;
# the exit status is 1 when a peer's run failed.
set -uo pipefail
K=${1:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FAILED=0
HERE=$ROOT/Benchmarks/AntiSpam
CORPUS=${CORPUS:-/work/shared/corpus}
WORK=$(mktemp -d /tmp/moat-bench-antispam.XXXXXX)
chmod 755 "$WORK"  # moatd runs as user moat ([Root] User): its files must be reachable
OUT=${OUT:-$WORK/results}
PEERS=${PEERS:-sa rspamd moatd}
mkdir -p "$OUT"
PIDS=""
trap '[ -n "$PIDS" ] && kill $PIDS 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

if [ -n "${MOAT_BIN_DIR:-}" ]; then
  BENCH=$MOAT_BIN_DIR/moat-spam-bench
  MOATD=${MOATD:-$MOAT_BIN_DIR/moatd}
else
  (cd "$ROOT" && swift build -c release --product moat-spam-bench >/dev/null) || exit 1
  BENCH=$ROOT/.build/release/moat-spam-bench
fi
if [ -z "${SKIP_MOAT:-}" ]; then  # SKIP_MOAT=1 OUT=<earlier results>: only the peers again
  echo "== Moat: $K-fold, rules only, speed, model size"
  "$BENCH" run "$CORPUS" "$K" "$OUT" || exit 1
fi

for peer in $PEERS; do
  case $peer in
  sa)
    # SpamAssassin's own configuration plus a Bayes database of our own, no auto-learning,
    # no network tests (-L), the default required_score 5.0.
    mkdir -p "$WORK/sa/bayes" && cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf "$WORK/sa/"
    printf 'use_bayes 1\nbayes_auto_learn 0\nbayes_path %s/sa/bayes/bayes\nbayes_file_mode 0777\n' "$WORK" >> "$WORK/sa/local.cf"
    chmod -R a+rwX "$WORK/sa"; chmod a+x "$WORK"
    /usr/sbin/spamd -L -x -i 127.0.0.1 -p 17840 -m 2 --min-spare 2 --max-spare 2 -u nobody \
      --siteconfigpath "$WORK/sa" -s stderr >"$WORK/spamd.log" 2>&1 & SPAMD_PID=$!; PIDS="$PIDS $SPAMD_PID"
    for _ in $(seq 60); do spamc -d 127.0.0.1 -p 17840 -K >/dev/null 2>&1 && break; sleep 1; done
    echo "== SpamAssassin $(spamassassin --version | head -1 | awk '{print $3}')"
    SPAMD_PID=$SPAMD_PID python3 "$HERE/peers.py" sa "$CORPUS" "$OUT" "$WORK/sa" || { echo "SpamAssassin run failed"; FAILED=1; }
    chmod -R a+rwX "$WORK/sa"
    ;;
  rspamd)
    redis-server --port 16379 --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 & PIDS="$PIDS $!"
    mkdir -p "$WORK/rspamd/local.d" "$WORK/rspamd/override.d" "$WORK/rspamd/db"
    echo 'servers = "127.0.0.1:16379";' > "$WORK/rspamd/local.d/redis.conf"
    # Bayes in Redis, learnt only by rspamc (no auto-learning from the scored test folds).
    printf 'backend = "redis";\nservers = "127.0.0.1:16379";\nautolearn = false;\n' > "$WORK/rspamd/local.d/classifier-bayes.conf"
    rspamd -f -u root -g root -i -c /etc/rspamd/rspamd.conf --var=LOCAL_CONFDIR="$WORK/rspamd" \
      --var=DBDIR="$WORK/rspamd/db" --var=RUNDIR="$WORK/rspamd" --var=LOGDIR="$WORK/rspamd" >"$WORK/rspamd.log" 2>&1 &
    RSPAMD_PID=$!; PIDS="$PIDS $RSPAMD_PID"
    # rspamd compiles its TLD list at start: minutes on a loaded machine.
    ok=""; for _ in $(seq 600); do curl -s http://127.0.0.1:11333/ping 2>/dev/null | grep -q pong && ok=1 && break; sleep 1; done
    if [ -z "$ok" ]; then echo "rspamd did not start: $(tail -3 "$WORK/rspamd.log")"; FAILED=1; continue; fi
    echo "== rspamd $(rspamd --version 2>/dev/null | head -1)"
    python3 "$HERE/peers.py" rspamd "$CORPUS" "$OUT" "$RSPAMD_PID" || { echo "rspamd run failed"; FAILED=1; }
    ;;
  moatd)
    # Moat through its spamd interface with the same client: the speed an MTA sees (MIME
    # parsing, the ClamAV scan and the rules included; the model is not trained here).
    MOATD=${MOATD:-}
    [ -n "$MOATD" ] || { [ -x "$ROOT/.build/release/moatd" ] && MOATD=$ROOT/.build/release/moatd || MOATD=$ROOT/.build/debug/moatd; }
    printf '[Root]\nControlSocket = %s/run/ctl.sock\nPidFile = %s/run/moatd.pid\nVarDir = %s/var\n[MailD]\nSpamdSocket = 127.0.0.1:17850\n[HTTPD]\nAdminListen =\n' \
      "$WORK" "$WORK" "$WORK" > "$WORK/moat.ini"
    "$MOATD" -c "$WORK/moat.ini" >"$WORK/moatd.log" 2>&1 & MOATD_PID=$!; PIDS="$PIDS $MOATD_PID"
    for _ in $(seq 120); do
      spamc -d 127.0.0.1 -p 17850 -K >/dev/null 2>&1 && break
      kill -0 "$MOATD_PID" 2>/dev/null || { echo "moatd exited: $(tail -3 "$WORK/moatd.log")"; FAILED=1; break; }
      sleep 1
    done
    echo "== Moat's spamd interface ($MOATD)"
    python3 "$HERE/peers.py" moatd "$CORPUS" "$OUT" "$MOATD_PID" || { echo "moatd run failed"; FAILED=1; }
    ;;
  esac
done
echo
python3 "$HERE/metrics.py" "$OUT" || FAILED=1
echo "(results in $OUT)"
[ "$OUT" != "$WORK/results" ] || cp -r "$OUT" "/tmp/moat-antispam-results-$(date +%s)"
exit $FAILED
