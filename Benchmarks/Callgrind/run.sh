#!/usr/bin/env bash
# Instructions per message (valgrind --tool=callgrind, event Ir): moatd on each of its mail
# interfaces beside the tool it replaces, on the same messages: instruction counts do not
# depend on how loaded the machine is (issue 19, "How"). Paths:
#   milter  Postfix (smtpd, private instance as Benchmarks/Milter) with moatd's Milter, then
#           with clamav-milter + clamd; one Python smtplib client sends the messages serially
#   clamd   zINSTREAM (moat-bench clamd-load, one client) to moatd's clamd interface, then clamd
#   spamd   spamc -c to moatd's spamd interface, then SpamAssassin's spamd
#   rspamd  rspamc to moatd's rspamd interface, then rspamd
# Counted: moatd's process and its scan worker (the sandboxed moat-scan child that runs
# libclamav); clamav-milter's and clamd's processes; spamd's child that served the requests;
# rspamd's worker processes (its normal worker serves rspamc).
# Not counted: Postfix, the clients, moat-scan's supervisor (it only forks workers).
#
# How, with valgrind 3.19 (Debian bookworm): it cannot read Swift's DWARF 5, so moatd, moat-scan
# and the Swift runtime libraries run from copies stripped of debug information (symbols stay:
# function names come from the symbol tables); sigsuspend-copy.c is preloaded (valgrind writes
# into libdispatch's read-only sigsuspend mask). valgrind lacks mount_setattr, so moatd cannot
# confine a moat-scan it spawns: moat-scan runs as a service (`--listen`, seccomp only) that
# moatd connects to ([Root] ScanService), with one worker. moatd runs as user moat from the
# start (valgrind makes its gdbserver pipes at start, as the user it starts as). The window:
# moatd zeroes its counters on entering Daemon.appInfo (`moat-ctl appinfo`) and dumps them on
# entering Daemon.quarantineList (`moat-ctl quarantine list`): callgrind_control cannot reach
# moatd (Benchmarks/Callgrind/RESULTS.md). The worker collects only inside ScanWorker.run and dumps
# after each reply: its dumps written during the window are its count (callgrind_control cannot
# reach a forked child either). The peers are zeroed and dumped with callgrind_control.
#
# Usage: Benchmarks/Callgrind/run.sh [messages (default 200)]   (as root; scripts/deps/bench.txt)
# Environment: MOAT_BIN_DIR (moatd, moat-scan, moat-ctl, moat-bench; default .build/release),
# CORPUS (default /work/shared/corpus), CALLGRIND_WARMUP (messages before the window, default 10),
# SPAM_MESSAGES (SpamAssassin's window, default 20: seconds per message under valgrind),
# RSPAMD_START (seconds rspamd may take to start under valgrind, default 1800),
# PATHS (default "milter clamd spamd rspamd"), KEEP=dir (keep the callgrind files there),
# SESSION_PER_MESSAGE=1 (milter: a new SMTP session, so a new Milter connection, per message).
# Prints "RESULT callgrind <label> <Ir per message> Ir/msg" lines (Benchmarks/lib.sh).
set -uo pipefail
N=${1:-200}
WARMUP=${CALLGRIND_WARMUP:-10}
SPAM_N=${SPAM_MESSAGES:-20}
PATHS=${PATHS:-milter clamd spamd rspamd}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/Benchmarks/lib.sh"
BIN=$(cd "${MOAT_BIN_DIR:-$REPO/.build/release}" && pwd)
CORPUS=${CORPUS:-/work/shared/corpus}
T=$(mktemp -d /tmp/moat-callgrind.XXXXXX)
SHM=$(mktemp -d /dev/shm/moat-callgrind.XXXXXX)
chmod 755 "$T"
chmod 1777 "$SHM"
PIDS=()
FAILED=0
cleanup() {
    [ -d "$T/etc" ] && postfix -c "$T/etc" stop >/dev/null 2>&1
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    # Under valgrind a process takes seconds to end; killed, it leaves its /tmp/vgdb-pipe-* files.
    local pid alive
    for _ in $(seq 30); do
        alive=""
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ -n "$alive" ] || break
        sleep 0.5
    done
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null && rm -f /tmp/vgdb-pipe-*-"$pid"-by-*; done
    [ -z "${KEEP:-}" ] || { mkdir -p "$KEEP" && cp "$T"/cg/* "$T"/*.log "$T"/moat/moat.ini "$KEEP"/ 2>/dev/null; }
    rm -rf "$T" "$SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# free_port, wait_port, write_signatures (Moat's two builtin test signatures), postfix_start, set_milter
. "$REPO/Benchmarks/Milter/postfix.sh"
for tool in valgrind callgrind_control cc strip; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is missing (scripts/deps/bench.txt)" >&2; exit 1; }
done
for product in moatd moat-scan moat-ctl moat-bench; do
    [ -x "$BIN/$product" ] || { echo "$0: $BIN/$product is missing (swift build)" >&2; exit 1; }
done

# --- the messages: a stride through the corpus (ham, spam and MIME oddities alike); the
# warm-up from other messages (clamd answers a file it has seen from its cache) ---
total=$(($(wc -l < "$CORPUS/INDEX.tsv") - 1))
stride=$((total / N)); [ "$stride" -ge 2 ] || stride=2
tail -n +2 "$CORPUS/INDEX.tsv" | cut -f1 | awk -v s="$stride" 'NR % s == 1' | head -n "$N" | sed "s|^|$CORPUS/|" > "$T/files"
tail -n +2 "$CORPUS/INDEX.tsv" | cut -f1 | awk -v s="$stride" '(NR - 1) % s == int(s / 2)' | sed "s|^|$CORPUS/|" > "$T/others"
head -n "$WARMUP" "$T/others" > "$T/warmup"
COUNT=$(wc -l < "$T/files")
[ "$COUNT" -gt 0 ] || { echo "$0: no messages in $CORPUS" >&2; exit 1; }
head -n "$SPAM_N" "$T/files" > "$T/spam-files"
SPAM_N=$(wc -l < "$T/spam-files")
head -n "$SPAM_N" "$T/others" > "$T/spam-warmup"   # as many: spamd's first child serves them, then exits
[ "$(wc -l < "$T/spam-warmup")" = "$SPAM_N" ] || { echo "$0: the corpus is too small for $SPAM_N warm-up messages" >&2; exit 1; }

# --- stripped copies: valgrind 3.19 stops at Swift's DWARF 5 ("unhandled dwarf2 abbrev form") ---
mkdir -p "$T/bin" "$T/lib" "$T/cg"
chmod 1777 "$T/cg"
for product in moatd moat-scan; do cp "$BIN/$product" "$T/bin/" && strip -g "$T/bin/$product"; done
swiftlib=$(dirname "$(ldd "$BIN/moatd" | awk '/libswiftCore.so/ {print $3}')")
for lib in "$swiftlib"/*.so; do cp "$lib" "$T/lib/" && strip -g "$T/lib/$(basename "$lib")"; done
cc -O2 -shared -fPIC -o "$T/lib/sigsuspend-copy.so" "$REPO/Benchmarks/Callgrind/sigsuspend-copy.c" || exit 1
chmod -R a+rX "$T/bin" "$T/lib"
MOATENV=(env LD_PRELOAD="$T/lib/sigsuspend-copy.so" LD_LIBRARY_PATH="$T/lib")
write_signatures   # $T/sigs
# Sender authentication's answers from a loopback NSD (example.com, example.org; lib.sh), as
# the Milter benchmark: the counts do not depend on the machine's resolver.
start_bench_dns || exit 1

# --- counters ---
# ir FILE: the Ir total of one callgrind dump.
ir() { awk '/^totals:/ {print $2; found = 1} END {if (!found) print ""}' "$1" 2>/dev/null; }
# wait_dump FILE: until the dump is complete (its totals line written), up to 5 min.
wait_dump() { for _ in $(seq 300); do [ -n "$(ir "$1")" ] && return 0; sleep 1; done; echo "no dump in $1" >&2; return 1; }
per_message() { python3 -c "print(round($1 / $2))"; }
report() {  # label Ir messages
    local value
    value=$(per_message "$2" "$3")
    printf '%-48s %14s Ir/msg  (%s Ir over %s messages)\n' "$1" "$value" "$2" "$3"
    result callgrind "$1" "$value" Ir/msg
}

# --- clients: each sends one list of files serially and fails when a request got no answer ---
cat > "$T/smtp-send.py" <<'PY'
import os, re, smtplib, sys
port, files = int(sys.argv[1]), open(sys.argv[2]).read().split()
# smtp-source (the Milter benchmark) sends one message per SMTP session, so Postfix opens one
# Milter connection per message: SESSION_PER_MESSAGE=1 counts that fixed cost too.
per_message = os.environ.get("SESSION_PER_MESSAGE") == "1"
answered = 0
def send(smtp, path):
    body = re.sub(rb"\r?\n", b"\r\n", open(path, "rb").read())
    try:
        smtp.sendmail("alice@example.com", ["bob@example.org"], body)
    except smtplib.SMTPResponseException as refused:  # a 4xx/5xx verdict is an answer too
        print(f"{path}: {refused.smtp_code} {refused.smtp_error[:80]!r}", file=sys.stderr)
        smtp.rset()
if per_message:
    for path in files:
        with smtplib.SMTP("127.0.0.1", port, timeout=600) as smtp:
            send(smtp, path)
        answered += 1
else:
    with smtplib.SMTP("127.0.0.1", port, timeout=600) as smtp:
        for path in files:
            send(smtp, path)
            answered += 1
print(f"{answered} messages answered")
PY
send_smtp() { python3 "$T/smtp-send.py" "$1" "$2" > "$T/client.out" 2>&1 || { cat "$T/client.out" >&2; return 1; }; }
smtp_via_postfix() { send_smtp "$SMTP_PORT" "$2"; }   # the port given is the milter's
send_clamd() { "$BIN/moat-bench" clamd-load --port "$1" --clients 1 --file-list "$2" > "$T/client.out" 2>&1 || { cat "$T/client.out" >&2; return 1; }; }
send_spamc() {
    local file out
    while read -r file; do
        out=$(spamc -d 127.0.0.1 -p "$1" -s 33554432 -c < "$file")
        [[ $out =~ ^-?[0-9.]+/[0-9.]+$ ]] && [ "$out" != 0/0 ] || { echo "spamc: no answer for $file ($out)" >&2; return 1; }
    done < "$2"
}
send_rspamc() {
    local file
    while read -r file; do
        rspamc -h "127.0.0.1:$1" "$file" | grep -q '^Action: ' || { echo "rspamc: no answer for $file" >&2; return 1; }
    done < "$2"
}

# --- moatd ---
# Swift symbols: ScanWorker.run(), Daemon.appInfo() and Daemon.quarantineList(_:). The async
# functions are entered through their partial functions (suffix TY0_...): hence the wildcard.
SCAN_RUN='$s11ScanSandbox0A6WorkerV3runs5NeverOyF'
REPLIED='$s11ScanSandbox0B7ChannelV4send5bytes9attachingySays5UInt8VG_s5Int32VtAC7FailureOYKF'   # SandboxChannel.send(bytes:attaching:)
ZERO_AT='$s11MoatService6DaemonC7appInfoAA03AppE0VyYaF'
DUMP_AT='$s11MoatService6DaemonC14quarantineListySay7Storage16QuarantineRecordVGAE0G5QueryVYaKF'
for symbol in "$ZERO_AT" "$DUMP_AT"; do
    nm "$T/bin/moatd" | grep -F " $symbol" >/dev/null || { echo "$0: moatd has no symbol $symbol (renamed?)" >&2; exit 1; }
done
ZERO_AT+='*' DUMP_AT+='*'

for symbol in "$SCAN_RUN" "$REPLIED"; do
    nm "$T/bin/moat-scan" | grep -F " $symbol" >/dev/null || { echo "$0: moat-scan has no symbol $symbol (renamed?)" >&2; exit 1; }
done
ctl() { "$BIN/moat-ctl" "$@" -c "$T/moat/moat.ini" >/dev/null; }

# worker_dumps PREFIX PARENT: the dumps the children of PARENT wrote to $T/cg/PREFIX.PID.K (one
# after each reply: moatd's reap kills a scan worker at once, so it writes nothing when it
# ends), once all are complete and no new one came for two seconds.
worker_dumps() {
    local file files last="" complete pid workers
    for _ in $(seq 600); do
        workers=" $(pgrep -P "$2" | tr '\n' ' ') " files="" complete=1
        for file in "$T/cg/$1".*.*; do
            [ -e "$file" ] || continue
            pid=${file#"$T/cg/$1."}; pid=${pid%%.*}
            [[ $workers == *" $pid "* ]] || continue
            files+="$file "
            [ -n "$(ir "$file")" ] || complete=""
        done
        [ -n "$complete" ] && [ "$files" = "$last" ] && { echo "$files"; return 0; }
        last=$files
        sleep 2
    done
    echo "$1: the scan worker's dumps are incomplete" >&2
    return 1
}

# moat_path NAME PORT CLIENT FILES WARMUP-FILES INI-LINES: one moatd and one scan service, both
# under callgrind; prints moatd's, the worker's and their sum per message.
moat_path() {
    local name=$1 port=$2 client=$3 files=$4 warmup=$5 ini=$6 n
    n=$(wc -l < "$files")
    rm -rf "$T/moat" "$T/scan" "$SHM/moat" "$SHM/scan"
    mkdir -p "$T/moat/run" "$T/moat/var" "$T/moat/tmp" "$T/scan"
    chown -R moat "$T/moat"
    chmod 755 "$T/scan"
    printf '[Root]\nControlSocket = %s\nSignatureDir = %s\nVarDir = %s\nTempDir = %s\nDatabase = Off\nScanService = %s\nScanWorkers = 1\nScanWorkerMemory = 64gb\nLogLevel = Notice\n%s\n[HTTPD]\nAdminListen =\n%b\n' \
        "$T/moat/run/ctl.sock" "$T/sigs" "$T/moat/var" "$T/moat/tmp" "$T/scan/scan.sock" "$(bench_dns_root_lines)" "$ini" > "$T/moat/moat.ini"
    "${MOATENV[@]}" valgrind --tool=callgrind --collect-atstart=no "--toggle-collect=$SCAN_RUN" "--dump-after=$REPLIED" \
        --callgrind-out-file="$T/cg/$name-scan.%p" "$T/bin/moat-scan" --listen "$T/scan/scan.sock" --scratch "$SHM/scan" \
        > "$T/$name-scan.log" 2>&1 &
    local scan=$!
    PIDS+=("$scan")
    for _ in $(seq 600); do [ -S "$T/scan/scan.sock" ] && break; sleep 0.5; done
    setpriv --reuid=moat --regid=moat --init-groups -- "${MOATENV[@]}" valgrind --tool=callgrind \
        "--zero-before=$ZERO_AT" "--dump-before=$DUMP_AT" --callgrind-out-file="$T/cg/$name-moatd.%p" \
        "$T/bin/moatd" --config "$T/moat/moat.ini" > "$T/$name-moatd.log" 2>&1 &
    local moatd=$!
    PIDS+=("$moatd")
    WAIT_TENTHS=3000 wait_port "$port" || { tail -5 "$T/$name-moatd.log" >&2; return 1; }
    "$client" "$port" "$warmup" || return 1
    local before after file worker=0
    before=$(worker_dumps "$name-scan" "$scan") || return 1
    ctl appinfo || return 1                        # zero
    "$client" "$port" "$files" || return 1
    ctl quarantine list 2>/dev/null                 # dump (the command itself fails: Database = Off)
    wait_dump "$T/cg/$name-moatd.$moatd.1" || return 1
    after=$(worker_dumps "$name-scan" "$scan") || return 1
    kill -TERM "$moatd" "$scan" 2>/dev/null
    for file in $after; do [[ " $before " == *" $file "* ]] || worker=$((worker + $(ir "$file"))); done
    local main
    main=$(ir "$T/cg/$name-moatd.$moatd.1")
    report "$name moatd" "$main" "$n"
    report "$name moat-scan worker" "$worker" "$n"
    report "$name Moat" "$((main + worker))" "$n"
    [ -z "${KEEP:-}" ] || cp "$T/cg/$name-moatd.$moatd.1" "$T/cg/$name-moatd.window"
}

# peer_window NAME CLIENT PORT FILES PID...: zero the peers' counters, send, dump; the sum.
peer_window() {
    local name=$1 client=$2 port=$3 files=$4 pid sum=0 dump
    shift 4
    for pid in "$@"; do timeout 120 callgrind_control -z "$pid" >/dev/null 2>&1 || { echo "$name: cannot zero $pid" >&2; return 1; }; done
    "$client" "$port" "$files" || return 1
    for pid in "$@"; do
        timeout 300 callgrind_control -d "$pid" >/dev/null 2>&1 || { echo "$name: cannot dump $pid" >&2; return 1; }
        dump=$(ls -t "$T/cg/"*".$pid".* 2>/dev/null | head -1)
        wait_dump "$dump" || return 1
        sum=$((sum + $(ir "$dump")))
    done
    report "$name" "$sum" "$(wc -l < "$files")"
}
# vg NAME [valgrind options] COMMAND...: a peer under callgrind, its dumps $T/cg/NAME.PID[.K].
vg() {
    local name=$1 options=()
    shift
    while [[ $1 == --* ]]; do options+=("$1"); shift; done
    valgrind --tool=callgrind "${options[@]}" --callgrind-out-file="$T/cg/$name.%p" "$@" > "$T/$name.log" 2>&1 &
    PIDS+=($!)
}

echo "valgrind $(valgrind --version | sed 's/valgrind-//'), $COUNT messages (every ${stride}th of the corpus), $WARMUP warm-up; binaries $BIN"
run() { "$@" || { FAILED=1; echo "FAILED: $*" | cut -c1-120 >&2; }; }

# clamd for the clamd path and behind clamav-milter: Moat's signatures, scratch on tmpfs.
CLAMD_PORT=$(free_port)
if [[ " $PATHS " == *" milter "* || " $PATHS " == *" clamd "* ]]; then
    printf 'LocalSocket %s\nTCPSocket %s\nTCPAddr 127.0.0.1\nDatabaseDirectory %s\nForeground yes\nUser root\nLogFile %s\nTemporaryDirectory %s\nMaxThreads 4\n' \
        "$T/clamd.sock" "$CLAMD_PORT" "$T/sigs" "$T/clamd.log" "$SHM" > "$T/clamd.conf"
    vg clamd clamd -c "$T/clamd.conf"
    CLAMD=${PIDS[-1]}
fi

if [[ " $PATHS " == *" milter "* ]]; then
    postfix_start
    MILTER_PORT=$(free_port)
    set_milter "inet:127.0.0.1:$MILTER_PORT"
    run moat_path milter "$MILTER_PORT" smtp_via_postfix "$T/files" "$T/warmup" "[MailD]\nMilterSocket = 127.0.0.1:$MILTER_PORT"
    CLAM_PORT=$(free_port)
    printf 'MilterSocket inet:%s@127.0.0.1\nClamdSocket unix:%s\nForeground yes\nUser root\nOnClean Accept\nOnInfected Reject\nOnFail Defer\nAddHeader No\nLogFile %s\nMaxThreads 4\n' \
        "$CLAM_PORT" "$T/clamd.sock" "$T/clamav-milter.log" > "$T/clamav-milter.conf"
    for _ in $(seq 600); do [ -S "$T/clamd.sock" ] && break; sleep 0.5; done
    vg clamav-milter clamav-milter -c "$T/clamav-milter.conf"
    MILTER=${PIDS[-1]}
    WAIT_TENTHS=3000 wait_port "$CLAM_PORT"
    set_milter "inet:127.0.0.1:$CLAM_PORT"
    smtp_via_postfix "$SMTP_PORT" "$T/warmup"
    run peer_window "milter clamav-milter + clamd" smtp_via_postfix "$SMTP_PORT" "$T/files" "$MILTER" "$CLAMD"
fi

if [[ " $PATHS " == *" clamd "* ]]; then
    port=$(free_port)
    run moat_path clamd "$port" send_clamd "$T/files" "$T/warmup" "[ClamD]\nClamdSocket = 127.0.0.1:$port"
    WAIT_TENTHS=3000 wait_port "$CLAMD_PORT"
    send_clamd "$CLAMD_PORT" "$T/warmup"
    run peer_window "clamd clamd" send_clamd "$CLAMD_PORT" "$T/files" "$CLAMD"
fi

if [[ " $PATHS " == *" spamd "* ]]; then
    port=$(free_port)
    run moat_path spamd "$port" send_spamc "$T/spam-files" "$T/spam-warmup" "[MailD]\nSpamdSocket = 127.0.0.1:$port"
    # SpamAssassin's spamd (no network tests, no Bayes learning) with one child that serves
    # SPAM_MESSAGES connections and exits, so its dump at exit is the count. A forked child
    # inherits its parent's counters: the parent's are zeroed once it has started, the first
    # child serves the warm-up (as many messages, other ones), and the second, forked then,
    # the window.
    if command -v /usr/sbin/spamd >/dev/null; then
        port=$(free_port)
        vg spamd /usr/sbin/spamd -L -i 127.0.0.1 -p "$port" -m 1 --min-children=1 --min-spare=1 --max-spare=1 \
            --max-conn-per-child="$SPAM_N" -u nobody -s stderr
        spamd=${PIDS[-1]}
        ok=""
        for _ in $(seq 900); do spamc -d 127.0.0.1 -p "$port" -K >/dev/null 2>&1 && ok=1 && break; sleep 1; done
        if [ -z "$ok" ]; then
            echo "spamd did not start: $(tail -3 "$T/spamd.log" | tr '\n' ' ')" >&2; FAILED=1
        elif timeout 300 callgrind_control -z "$spamd" >/dev/null 2>&1; then
            first=$(pgrep -P "$spamd" | head -1)
            send_spamc "$port" "$T/spam-warmup" || FAILED=1
            for _ in $(seq 600); do [ -n "$(ir "$T/cg/spamd.$first")" ] && break; sleep 1; done
            send_spamc "$port" "$T/spam-files" || FAILED=1
            second=""
            for _ in $(seq 600); do
                for file in "$T/cg/spamd".*; do
                    pid=${file##*.}
                    [ "$pid" != "$spamd" ] && [ "$pid" != "$first" ] && [ -n "$(ir "$file")" ] && second=$file
                done
                [ -n "$second" ] && break
                sleep 1
            done
            if [ -n "$second" ]; then report "spamd SpamAssassin spamd child" "$(ir "$second")" "$(wc -l < "$T/spam-files")"
            else echo "spamd: no dump of the child that served the window" >&2; FAILED=1; fi
        else
            echo "spamd: cannot zero its counters" >&2; FAILED=1
        fi
    else
        echo "SpamAssassin spamd is not installed (Debian package spamd): its run is skipped"
    fi
fi

if [[ " $PATHS " == *" rspamd "* ]]; then
    port=$(free_port)
    run moat_path rspamd "$port" send_rspamc "$T/files" "$T/warmup" "[MailD]\nRspamdSocket = 127.0.0.1:$port"
    # rspamd (LuaJIT: --smc-check=all, or RSPAMD_SMC_CHECK) on ports of its own, one normal
    # worker; its processes are forked, so, as for Moat's worker, each dumps after each task
    # (rspamd_task_free) and the dumps written during the window are the count.
    if command -v rspamd >/dev/null; then
        port=$(free_port)
        mkdir -p "$T/rspamd/override.d" "$T/rspamd/db"
        printf 'bind_socket = "127.0.0.1:%s";\ncount = 1;\n' "$port" > "$T/rspamd/override.d/worker-normal.inc"
        printf 'bind_socket = "127.0.0.1:%s";\n' "$(free_port)" > "$T/rspamd/override.d/worker-controller.inc"
        printf 'bind_socket = "127.0.0.1:%s";\n' "$(free_port)" > "$T/rspamd/override.d/worker-proxy.inc"
        vg rspamd "--smc-check=${RSPAMD_SMC_CHECK:-all}" --dump-after=rspamd_task_free rspamd -f -u root -g root -i -c /etc/rspamd/rspamd.conf \
            --var=LOCAL_CONFDIR="$T/rspamd" --var=DBDIR="$T/rspamd/db" --var=RUNDIR="$T/rspamd" --var=LOGDIR="$T/rspamd"
        rspamd=${PIDS[-1]}
        # Under valgrind its start (compiling the 9,628 TLD suffixes) takes ~11 minutes here:
        # RSPAMD_START bounds it (default 1800 s); rspamd not answering by then is reported.
        if ! WAIT_TENTHS=$((${RSPAMD_START:-1800} * 10)) wait_port "$port" 2>/dev/null; then
            echo "rspamd: not counted: no answer under valgrind after ${RSPAMD_START:-1800} s; its log ends: $(tail -2 "$T/rspamd/rspamd.log" | cut -c1-160 | tr '\n' ' ')"
        elif send_rspamc "$port" "$T/warmup" && before=$(worker_dumps rspamd "$rspamd"); then
            send_rspamc "$port" "$T/files" || FAILED=1
            sum=0
            after=$(worker_dumps rspamd "$rspamd") || FAILED=1
            for file in $after; do [[ " $before " == *" $file "* ]] || sum=$((sum + $(ir "$file"))); done
            report "rspamd rspamd" "$sum" "$COUNT"
        else
            echo "rspamd: no count (its log: $(tail -3 "$T/rspamd.log" | tr '\n' ' '))" >&2; FAILED=1
        fi
    fi
fi
exit $FAILED
