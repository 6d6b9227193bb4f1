#!/usr/bin/env bash
# Small mail behind large mail: the latency of a 150-byte message's check through moatd's
# spamd interface (spamc -c, one at a time) while CLIENTS clients each send 10 MB messages in a
# loop, beside the same small checks with moatd otherwise idle. What it watches: that large
# messages, which hold the scan workers and the admission's places for a second each, do not
# hold every small message behind them (Benchmarks/Scale/RESULTS.md, 2026-12-07 evening).
# Figures: the small message's wall-clock latency at the client (p50, p90, max, over the
# checks made while every large-message client was still sending), its check time in moatd (`ms=` of the verdict line), and the large messages' check
# time; RESULT lines (Benchmarks/lib.sh): mixed small-p50-<n>, small-p90-<n>, small-max-<n>,
# moatd-small-p90-<n>, big-p50-<n> (n = large-message clients; 0 = none).
#
# Usage: Benchmarks/Scale/mixed.sh [--smoke]   (root; spamc, python3)
#   MOATD=path   default .build/release/moatd (--smoke: .build/debug/moatd); moat-scan beside it
#   CLIENTS="4 8 12"  BIG_MB=10  SMALL=40  LOOPS=12 (large messages per client)
#   --smoke      CLIENTS=2 BIG_MB=1 SMALL=5 LOOPS=30
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/Benchmarks/lib.sh"
if [ "${1:-}" = --smoke ]; then
    CLIENTS=${CLIENTS:-2}; BIG_MB=${BIG_MB:-1}; SMALL=${SMALL:-5}; LOOPS=${LOOPS:-30}
    MOATD=${MOATD:-$ROOT/.build/debug/moatd}
else
    CLIENTS=${CLIENTS:-4 8 12}; BIG_MB=${BIG_MB:-10}; SMALL=${SMALL:-40}; LOOPS=${LOOPS:-12}
    MOATD=${MOATD:-$ROOT/.build/release/moatd}
fi
[ "$(id -u)" = 0 ] || { echo "$0: needs root (moatd drops to its user)" >&2; exit 2; }
command -v spamc >/dev/null || { echo "$0: spamc missing (apt-get install spamc)" >&2; exit 2; }
[ -x "$MOATD" ] || { echo "$0: no moatd at $MOATD" >&2; exit 2; }
PORT=${PORT:-17940}
WORK=$(mktemp -d /tmp/moat-bench-mixed.XXXXXX)
# moatd started as root runs as user moat ([Root] User): its directories must be its own.
chmod 755 "$WORK"
mkdir -p "$WORK/run" "$WORK/var" "$WORK/tmp"
chown moat "$WORK/run" "$WORK/var" "$WORK/tmp" 2>/dev/null || true
MOAT_PID=
# KEEP_LOG=file: moatd's log is copied there at the end.
trap 'kill $(jobs -p) 2>/dev/null; [ -n "$MOAT_PID" ] && kill "$MOAT_PID" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP_LOG:-}" ] && cp "$WORK/moatd.log" "$KEEP_LOG"; rm -rf "$WORK"' EXIT

python3 - "$WORK" "$BIG_MB" <<'PY'
import random, sys
work, megabytes = sys.argv[1], int(sys.argv[2])
random.seed(1)
words = "meeting report quarter hello invoice payment shipping offer project update schedule team review".split()
head = "From: a@example.com\r\nTo: b@example.org\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
lines, size = [], 0
while size < megabytes * 1_000_000:
    line = " ".join(random.choice(words) + str(random.randint(0, 999)) for _ in range(12)) + "\r\n"
    lines.append(line); size += len(line)
open(f"{work}/big.eml", "w").write(head + "Subject: big\r\nMessage-ID: <big@example.com>\r\n\r\n" + "".join(lines))
open(f"{work}/small.eml", "w").write(head + "Subject: small\r\nMessage-ID: <small@example.com>\r\n\r\nhello there\r\n")
PY

start_filters_moatd "$WORK" "$WORK/tmp" "$PORT" $((PORT + 1)) $((PORT + 2)) $((PORT + 3)) || exit 1
MOAT_PID=$FILTERS_MOATD_PID
echo "moatd: $MOATD, $(nproc) CPUs, load $(cut -d" " -f1-3 /proc/loadavg); large messages: $(($(stat -c %s "$WORK/big.eml") / 1000)) kB"

# p50 p90 max of the numbers on stdin
percentiles() { sort -n | awk '{a[NR]=$1} END{if (NR == 0) {print "- - -"; exit} i=int(NR*0.9); if (i < 1) i=1; print a[int((NR+1)/2)], a[i], a[NR]}'; }

# the `ms=` of moatd's verdict lines for a Message-ID, from line $2 of the log on
check_ms() { tail -n +"$2" "$WORK/moatd.log" | grep "message_id=<$1@example.com>" | grep -o ' ms=[0-9]*' | cut -d= -f2; }

for n in 0 $CLIENTS; do
    from=$(($(wc -l < "$WORK/moatd.log") + 1))
    senders=()
    for _ in $(seq "$n"); do
        ( for _ in $(seq "$LOOPS"); do spamc -d 127.0.0.1 -p "$PORT" -s 100000000 -c < "$WORK/big.eml" > /dev/null; done ) &
        senders+=($!)
    done
    [ "$n" = 0 ] || sleep 1
    # One small message at a time: SMALL of them with no large ones, else for as long as every
    # large-message client still sends (a figure taken after the load thinned would flatter).
    count=0
    while if [ "$n" = 0 ]; then [ "$count" -lt "$SMALL" ]; else kill -0 "${senders[@]}" 2>/dev/null; fi; do
        start=$(date +%s%N)
        spamc -d 127.0.0.1 -p "$PORT" -c < "$WORK/small.eml" > /dev/null
        echo $(( ($(date +%s%N) - start) / 1000000 ))
        count=$((count + 1))
        sleep 0.05
    done > "$WORK/small-$n.txt"
    [ ${#senders[@]} = 0 ] || wait "${senders[@]}"
    read -r p50 p90 max < <(percentiles < "$WORK/small-$n.txt")
    read -r _ mp90 _ < <(check_ms small "$from" | percentiles)
    read -r bp50 _ _ < <(check_ms big "$from" | percentiles)
    printf '  %2d large-message clients: small message p50 %s ms, p90 %s ms, max %s ms (its check in moatd p90 %s ms); large messages'"'"' checks p50 %s ms\n' \
        "$n" "$p50" "$p90" "$max" "$mp90" "$bp50"
    result mixed "small-p50-$n" "$p50" ms
    result mixed "small-p90-$n" "$p90" ms
    result mixed "small-max-$n" "$max" ms
    result mixed "moatd-small-p90-$n" "$mp90" ms
    [ "$n" = 0 ] || result mixed "big-p50-$n" "$bp50" ms
done
