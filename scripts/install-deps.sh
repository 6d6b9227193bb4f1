#!/usr/bin/env bash
# Installs the Debian packages Moat builds against and tests with: every package named in
# scripts/deps/*.txt (one per line, # comments), so each part of Moat lists its own.
#   install-deps.sh            everything, for the tests (MTAs and clients included)
#   install-deps.sh --runtime  only scripts/deps/runtime.txt: what building and running needs
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
files=(deps/*.txt)
[ "${1:-}" = "--runtime" ] && files=(deps/runtime.txt)
packages=$(cat "${files[@]}" | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
# Daemons installed for tests (postfix, exim, clamd, ...) must not start system-wide copies
# of themselves while installing; the block is lifted again afterwards.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $packages >/dev/null
# The users moatd and its scan workers run as.
bash create-users.sh
