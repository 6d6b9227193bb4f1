#!/usr/bin/env bash
# Creates Moat's two system users (idempotent; needs root):
#   moat       runs moatd after it has opened what needs root (ports, netlink, the CA key)
#   moat-scan  runs the sandboxed scan workers that parse attachments with libclamav
# Neither has a login shell or a home directory.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
for user in moat moat-scan; do
    if ! getent group "$user" >/dev/null; then
        $SUDO groupadd --system "$user"
    fi
    if ! getent passwd "$user" >/dev/null; then
        $SUDO useradd --system --gid "$user" --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "Moat mail gateway ($user)" "$user"
    fi
done
