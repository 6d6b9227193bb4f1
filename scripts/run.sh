#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs Moat with the default configuration:
# filters on loopback, the firewall off until configured.
#   scripts/run.sh               build, install, start moatd in the background, show appinfo
#   scripts/run.sh --foreground  the same, but moatd stays in the foreground (Ctrl-C stops it)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --runtime
# moatd runs as moat once it has opened what needs root; its scan workers as moat-scan.
bash scripts/create-users.sh
swift build -c release --product moatd
swift build -c release --product moat-ctl
swift build -c release --product moat-scan
install -d -m 0755 /usr/local/bin /usr/local/lib/moat /etc/moat
install -m 0755 .build/release/moatd .build/release/moat-ctl /usr/local/bin/
# The sandboxed scan workers moatd starts or moat-scan.service runs (not a command of its own).
install -m 0755 .build/release/moat-scan /usr/local/lib/moat/
# An administrator's existing file is never overwritten; moatd (as moat) must be able to read
# it (it rereads it on reload), and only root writes it: root:moat 0640.
[ -e /etc/moat/moat.ini ] || install -m 0640 -o root -g moat etc/moat.ini /etc/moat/moat.ini
if ! setpriv --reuid=moat --regid=moat --init-groups test -r /etc/moat/moat.ini; then
    echo "run.sh: /etc/moat/moat.ini made readable by moat (root:moat 0640)"
    chgrp moat /etc/moat/moat.ini
    chmod 0640 /etc/moat/moat.ini
fi
install -d -m 0700 -o moat -g moat /var/lib/moat /run/moat
install -d -m 0750 -o moat -g adm /var/log/moat
[ -d /etc/logrotate.d ] && install -m 0644 scripts/package/moat.logrotate /etc/logrotate.d/moat
if [ -d /run/systemd/system ]; then
    # The scan workers as a service of their own (its user, no network); moatd connects to it.
    sed 's|/usr/lib/moat/moat-scan|/usr/local/lib/moat/moat-scan|' etc/systemd/moat-scan.service \
        > /etc/systemd/system/moat-scan.service
    systemctl daemon-reload
    systemctl enable --now moat-scan
    install -m 0644 etc/systemd/moatd.service /etc/systemd/system/moatd.service
    systemctl daemon-reload
    systemctl enable --now moatd
elif [ "${1:-}" = "--foreground" ]; then
    # Started as root: moatd switches to moat itself ([Root] User).
    exec /usr/local/bin/moatd --config /etc/moat/moat.ini
else
    if ! /usr/local/bin/moat-ctl appinfo >/dev/null 2>&1; then
        nohup /usr/local/bin/moatd --config /etc/moat/moat.ini >>/var/log/moat/moatd.log 2>&1 &
    fi
fi
# Where the web console is and how to log in the first time.
console_hint() {
    local listen vardir
    listen=$(/usr/local/bin/moat-ctl cfshow HTTPD.AdminListen --value | cut -d, -f1)
    vardir=$(/usr/local/bin/moat-ctl cfshow Root.VarDir --value)
    [ -n "$listen" ] || return 0
    echo
    echo "Web console: https://$listen/ (user admin; trust the CA from: moat-ctl certificate > moat-ca.pem)"
    if [ -e "$vardir/console/initial-password" ]; then
        echo "First login: the password is in $vardir/console/initial-password (root and moatd only);"
        echo "then set your own with: moat-ctl console-password"
    fi
}
for _ in $(seq 1 50); do
    # The console binds just after the control socket answers.
    if info=$(/usr/local/bin/moat-ctl appinfo 2>/dev/null) && ! grep -q '^HTTPD: starting' <<<"$info"; then
        echo "$info"
        console_hint
        exit 0
    fi
    sleep 0.2
done
echo "moatd did not answer; see /var/log/moat/moatd.log or journalctl -u moatd" >&2
exit 1
