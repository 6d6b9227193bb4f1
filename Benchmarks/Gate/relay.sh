# Sourced by Benchmarks/Gate/run.sh (the end of its `smtp` part, moatd stopped): the usual
# alternative to the Gate, on the same namespaces, as issue 19's anchor. A Postfix relay in the
# gateway namespace, on 10.77.1.1:25 (where the client's MX would point), with clamav-milter +
# clamd scanning with the same signatures as moatd, forwarding every message to the server's
# second smtp-sink (10.77.2.2:2525, the direct path's). smtp-source sends MESSAGES messages of
# SIZE bytes over SESSIONS sessions, one per connection, as to the Gate; the time runs until the
# relay's queue is empty, when every message has reached the sink (as with the Gate, which
# passes each message on before it answers the DATA). Uses run.sh's variables and functions.
RELAY=10.77.1.1
relay_bench() {
    local r=$T/relay
    mkdir -p "$r/etc" "$r/queue" "$r/data"
    chown postfix "$r/data"
    cp /etc/postfix/master.cf "$r/etc/"
    cat > "$r/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $r/queue
data_directory = $r/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = $RELAY
inet_protocols = ipv4
myhostname = relay.moat.test
mydestination =
relay_domains = example.org
relay_transport = smtp:[$SERVER]:2525
alias_maps =
alias_database =
local_recipient_maps =
mynetworks = 10.77.0.0/16
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
maillog_file = $r/postfix.log
maillog_file_prefixes = $r
smtputf8_enable = no
smtpd_milters = inet:127.0.0.1:17357
milter_default_action = tempfail
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
CONF
    postconf -c "$r/etc" -F '*/*/chroot = n'
    cat > "$r/clamd.conf" <<CONF
LocalSocket $r/clamd.sock
DatabaseDirectory $T/sigs
Foreground yes
User root
LogFile $r/clamd.log
MaxThreads 20
CONF
    cat > "$r/clamav-milter.conf" <<CONF
MilterSocket inet:17357@127.0.0.1
ClamdSocket unix:$r/clamd.sock
Foreground yes
User root
OnClean Accept
OnInfected Reject
OnFail Defer
AddHeader No
LogFile $r/clamav-milter.log
MaxThreads 20
CONF
    in_ns g clamd -c "$r/clamd.conf" > "$r/clamd.out" 2>&1 &
    PIDS+=($!)
    local scanners=($!)
    for _ in $(seq 1 300); do [ -S "$r/clamd.sock" ] && break; sleep 0.1; done
    in_ns g clamav-milter -c "$r/clamav-milter.conf" > "$r/clamav-milter.out" 2>&1 &
    PIDS+=($!)
    scanners+=($!)
    listening g "127.0.0.1:17357"
    in_ns g postfix -c "$r/etc" start > /dev/null
    listening g "$RELAY:25"

    # relay_run MESSAGES: seconds until the relay has passed every message on
    relay_run() {
        local start end queued
        start=$(now)
        if ! timeout 900 ip netns exec "${P}c" smtp-source -l "$SIZE" -m "$1" -s "$SESSIONS" \
                -f alice@example.com -t bob@example.org "$RELAY:25" > "$r/source.log" 2>&1; then
            echo "smtp-source to the Postfix relay failed:" >&2; tail -n 5 "$r/source.log" "$r/postfix.log" >&2
            return 1
        fi
        for _ in $(seq 1 6000); do
            queued=$(find "$r/queue/incoming" "$r/queue/active" "$r/queue/deferred" -type f 2>/dev/null | wc -l)
            [ "$queued" = 0 ] && break
            if [ -n "$(find "$r/queue/deferred" -type f 2>/dev/null | head -1)" ]; then
                echo "the Postfix relay deferred messages:" >&2; grep -E "status=deferred" "$r/postfix.log" | tail -3 >&2
                return 1
            fi
            sleep 0.1
        done
        [ "$queued" = 0 ] || { echo "the Postfix relay still holds $queued messages after 600 s" >&2; return 1; }
        end=$(now)
        calc "$end - $start"
    }
    echo
    echo "The alternative: a Postfix relay with clamav-milter + clamd in the gateway namespace, $MESSAGES messages"
    relay_run "$WARMUP" > /dev/null
    local secs rate master cpu0 cpu1 filter0 filter1
    # CPU per message, as for the Gate's moatd: every Postfix process of the relay (the master's
    # tree, reaped ones included) and clamav-milter + clamd, until the last message has left.
    master=$(tr -d ' ' < "$r/queue/pid/master.pid")
    cpu0=$(tree_cpu_ms "$master"); filter0=$(tree_cpu_ms "${scanners[@]}")
    secs=$(relay_run "$MESSAGES")
    cpu1=$(tree_cpu_ms "$master"); filter1=$(tree_cpu_ms "${scanners[@]}")
    rate=$(calc "round($MESSAGES / $secs)")
    local sent
    sent=$(grep -c "status=sent" "$r/postfix.log" || true)
    [ "$sent" = $((WARMUP + MESSAGES)) ] || { echo "the relay's log shows $sent messages sent, not $((WARMUP + MESSAGES))" >&2; return 1; }
    printf '  Postfix relay + clamav-milter: %s msgs/s (%.2f s, every message at the sink)\n' "$rate" "$secs"
    result gate "postfix relay clamav-milter" "$rate" msgs/s
    local postfix_cpu filter_cpu
    postfix_cpu=$(calc "($cpu1 - $cpu0) / $MESSAGES")
    filter_cpu=$(calc "($filter1 - $filter0) / $MESSAGES")
    printf '  CPU per message: %.2f ms = Postfix %.2f + clamav-milter and clamd %.2f\n' \
        "$(calc "$postfix_cpu + $filter_cpu")" "$postfix_cpu" "$filter_cpu"
    result gate "relay cpu" "$(calc "round($postfix_cpu + $filter_cpu, 3)")" ms/msg
    in_ns g postfix -c "$r/etc" stop > /dev/null 2>&1 || true
}
