# Sourced by Benchmarks/Milter/run.sh and Benchmarks/Scale/run.sh: a private Postfix on loopback
# (its own config_directory and queue under $T, mail discarded after acceptance) that Moat's
# Milter can be put in front of, and the signatures both Moat and clamd load (Moat's two builtin
# test signatures). Uses T (the run's temporary directory), PF (the Postfix instance's directory,
# default $T: several instances may run side by side); the caller stops Postfix
# (`postfix -c "$PF/etc" stop`) when it ends.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 ${WAIT_TENTHS:-300}); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }

# write_signatures: Benchmarks/lib.sh.

# postfix_start [NAME=VALUE...]: Postfix on 127.0.0.1:$SMTP_PORT (a free port, set here),
# relaying example.org to the discard transport; the main.cf settings given (postconf -e) last.
postfix_start() {
    local T=${PF:-$T}
    SMTP_PORT=$(free_port)
    mkdir -p "$T/etc" "$T/queue" "$T/data"
    chown postfix "$T/data"
    cp /etc/postfix/master.cf "$T/etc/"
    cat > "$T/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.moat.test
mydestination =
relay_domains = example.org
relay_transport = discard
default_transport = discard
alias_maps =
alias_database =
local_recipient_maps =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
maillog_file = $T/postfix.log
maillog_file_prefixes = $T
smtputf8_enable = no
milter_default_action = tempfail
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
CONF
    [ $# = 0 ] || postconf -c "$T/etc" -e "$@"
    postconf -c "$T/etc" -F '*/*/chroot = n'
    postconf -c "$T/etc" -M# smtp/inet
    postconf -c "$T/etc" -M "127.0.0.1:$SMTP_PORT/inet = 127.0.0.1:$SMTP_PORT inet n - n - - smtpd"
    postfix -c "$T/etc" start >/dev/null
    wait_port "$SMTP_PORT"
}

# set_milter ADDRESS: Postfix's smtpd_milters (empty: none), reloaded.
set_milter() {
    local T=${PF:-$T}
    postconf -c "$T/etc" -e "smtpd_milters = $1"
    postfix -c "$T/etc" reload >/dev/null
    sleep 1
}
