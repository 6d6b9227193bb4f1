#!/bin/bash
# Three network namespaces for the Gate's real-peer tests and benchmark:
#   <p>c (client, 10.77.1.2) -- veth -- <p>g (gateway: veth-gw 10.77.1.1, veth-gs 10.77.2.1) -- veth -- <p>s (server, 10.77.2.2)
# with the TPROXY divert of port 25 arriving on veth-gw to the Gate port, as LinuxFirewall installs it.
#   netns.sh up PREFIX GATEPORT     netns.sh postfix PREFIX DIR     netns.sh down PREFIX
set -eu
cmd=$1; p=$2
case "$cmd" in
up)
    port=${3:-20025}
    for n in c g s; do ip netns add ${p}$n; ip -n ${p}$n link set lo up; done
    ip link add ${p}c0 type veth peer name ${p}g0
    ip link set ${p}c0 netns ${p}c; ip link set ${p}g0 netns ${p}g
    ip -n ${p}c link set ${p}c0 name veth-c; ip -n ${p}g link set ${p}g0 name veth-gw
    ip link add ${p}g1 type veth peer name ${p}s0
    ip link set ${p}g1 netns ${p}g; ip link set ${p}s0 netns ${p}s
    ip -n ${p}g link set ${p}g1 name veth-gs; ip -n ${p}s link set ${p}s0 name veth-s
    ip -n ${p}c addr add 10.77.1.2/24 dev veth-c; ip -n ${p}c link set veth-c up
    ip -n ${p}g addr add 10.77.1.1/24 dev veth-gw; ip -n ${p}g link set veth-gw up
    ip -n ${p}g addr add 10.77.2.1/24 dev veth-gs; ip -n ${p}g link set veth-gs up
    ip -n ${p}s addr add 10.77.2.2/24 dev veth-s; ip -n ${p}s link set veth-s up
    ip -n ${p}c route add default via 10.77.1.1
    ip -n ${p}s route add default via 10.77.2.1
    ip netns exec ${p}g sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.veth-gw.rp_filter=0
    ;;
divert)
    port=${3:-20025}
    ip netns exec ${p}g nft -f - <<NFT
table inet moat {
    chain prerouting {
        type filter hook prerouting priority mangle;
        meta l4proto tcp socket transparent 1 meta mark set 1 accept
        iifname "veth-gw" tcp dport 25 tproxy ip to :$port meta mark set 1 accept
    }
}
NFT
    ip -n ${p}g rule add fwmark 1 lookup 100
    ip -n ${p}g route add local 0.0.0.0/0 dev lo table 100
    ;;
undivert)
    ip netns exec ${p}g nft delete table inet moat 2>/dev/null || true
    ip -n ${p}g rule del fwmark 1 lookup 100 2>/dev/null || true
    ;;
postfix)
    # A private Postfix in the server namespace on 10.77.2.2:25, delivering bob@example.org
    # to the Maildir DIR/mail/bob/.
    dir=$3
    mkdir -p $dir/etc $dir/queue $dir/data $dir/mail
    cp /etc/postfix/master.cf $dir/etc/master.cf
    cat > $dir/etc/main.cf <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
myhostname = mx.example.org
mydestination =
inet_interfaces = 10.77.2.2
inet_protocols = ipv4
mynetworks = 10.77.0.0/16 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = example.org
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:bob/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
# No syslog in a test namespace: Postfix logs nowhere (maillog_file needs postlogd running).
smtputf8_enable = yes
message_size_limit = 104857600
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
disable_dns_lookups = yes
CF
    chown 65534:65534 $dir/mail; chown postfix $dir/data
    postconf -c $dir/etc -F '*/*/chroot = n'
    ip netns exec ${p}s postfix -c $dir/etc start
    ;;
postfix-stop)
    ip netns exec ${p}s postfix -c $3/etc stop || true
    ;;
down)
    for n in c g s; do ip netns del ${p}$n 2>/dev/null || true; done
    ;;
esac
