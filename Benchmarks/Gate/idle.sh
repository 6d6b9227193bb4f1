# Sourced by Benchmarks/Gate/run.sh (its `idle` part): Dovecot in the server namespace, then
# CONNECTIONS IMAP connections held in IDLE through the Gate, and moatd's memory per connection.
# Uses run.sh's variables and functions (T, P, SERVER, CONNECTIONS, in_ns, listening, start_moatd, ...).

dovecot_start() {
    local d=$T/dovecot
    mkdir -p "$d/run" "$d/home" "$d/mail/bob/new" "$d/mail/bob/cur" "$d/mail/bob/tmp"
    printf 'From: alice@example.com\r\nTo: bob@example.org\r\nSubject: hello\r\nMessage-ID: <1@example.com>\r\n\r\nhello\r\n' \
        > "$d/mail/bob/new/1.eml"
    # Many clients per imap process (service_count 0, client_limit): one process per connection
    # (the default) would be 5,000 processes. The static user's connections all come from the gateway's
    # address: mail_max_userip_connections is raised.
    cat > "$d/dovecot.conf" <<CONF
protocols = imap
listen = $SERVER
base_dir = $d/run
log_path = $d/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 0
default_client_limit = $((CONNECTIONS + 1000))
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=$d/home/%u
}
mail_location = maildir:$d/mail/%u
login_trusted_networks = 10.77.0.0/16
protocol imap {
  mail_max_userip_connections = $((CONNECTIONS + 1000))
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = 2
  client_limit = $((CONNECTIONS + 1000))
}
service imap {
  service_count = 0
  client_limit = 1000
  process_limit = $((CONNECTIONS / 1000 + 4))
  vsz_limit = 2G
}
CONF
    chown -R dovecot:dovecot "$d/mail" "$d/home"
    ip netns exec "${P}s" dovecot -c "$d/dovecot.conf" -F >"$d/stderr.log" 2>&1 &
    PIDS+=($!)
    listening s "$SERVER:143" || { cat "$d/stderr.log" "$d/dovecot.log" >&2; return 1; }
}

idle_clients() {  # name count: start imap_idle.py in the client; waits until its connections are idle
    rm -f "$T/$1.status" "$T/$1.release"
    timeout 1800 ip netns exec "${P}c" python3 "$HERE/imap_idle.py" "$SERVER" 143 "$2" "$T/$1.status" "$T/$1.release" \
        --parallel 50 --hold 1200 >"$T/$1.log" 2>&1 &
    PIDS+=($!)
    local pid=$!
    for _ in $(seq 1 6000); do
        grep -q '^ready' "$T/$1.status" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    grep -q '^ready' "$T/$1.status" 2>/dev/null || { echo "$1: the clients did not get idle" >&2; cat "$T/$1.log" >&2; return 1; }
}
release_clients() {  # name: end IDLE everywhere, wait for the client's result
    touch "$T/$1.release"
    for _ in $(seq 1 3000); do grep -q '^done' "$T/$1.status" 2>/dev/null && break; sleep 0.1; done
    cat "$T/$1.status"
}

idle_bench() {
    dovecot_start
    start_moatd "$T/moatd-idle.log"
    # Warm-up: 50 connections through the Gate, idle, ended, closed.
    idle_clients warm 50
    release_clients warm >/dev/null
    sleep 2
    local before after ready
    before=$(rss_kb)
    echo
    echo "Idle IMAP: $CONNECTIONS connections through the Gate to Dovecot $(dovecot --version | cut -d' ' -f1), LOGIN, SELECT INBOX, IDLE"
    idle_clients idle "$CONNECTIONS"
    ready=$(cat "$T/idle.status")
    set -- $ready
    local idle=$2 failed=$3 secs=$4
    [ "$idle" -gt 0 ] || { echo "no connection got idle" >&2; cat "$T/idle.log" >&2; return 1; }
    echo "  $idle connections idle ($failed failed) after $secs s; moatd's upstream legs established: $(in_ns g ss -tnH state established dst "$SERVER" | wc -l)"
    local samples=()
    for wait in 5 10 15; do   # past a few of the relay's 5 s timer ticks
        sleep 5
        samples+=("$(rss_kb)")
    done
    after=${samples[-1]}
    printf '  moatd VmRSS: %d kB before, %s kB with them open (at +5, +10, +15 s)\n' "$before" "${samples[*]}"
    printf '  per idle connection: %.1f kB = %.0f bytes (goal: under 64 kB)\n' \
        "$(calc "($after - $before) / $idle")" "$(calc "1024 * ($after - $before) / $idle")"
    result gate "idle connection rss" "$(calc "round(($after - $before) / $idle, 1)")" kB
    local done
    done=$(release_clients idle)
    set -- $done
    echo "  IDLE ended with OK and LOGOUT on $4 of $2 connections"
    sleep 2
    printf '  moatd VmRSS after they closed: %d kB\n' "$(rss_kb)"
    [ -s "$T/idle.log" ] && { echo "  client errors:"; cat "$T/idle.log"; }
    local errors
    errors=$(grep -ciE "error|warning|critical" "$T/moatd-idle.log" || true)
    [ "$errors" = 0 ] || { echo "  moatd logged $errors errors/warnings:" >&2; grep -iE "error|warning|critical" "$T/moatd-idle.log" | sort | uniq -c | sort -rn | head -5 >&2; }
    stop_moatd
}

