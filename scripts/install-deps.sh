#!/usr/bin/env bash
# Installs the Debian packages Moat builds against and tests with.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    ca-certificates procps iproute2 pkg-config libclamav-dev clamav clamav-testfiles \
    python3 zip unzip p7zip-full >/dev/null
