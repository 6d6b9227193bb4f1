#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for Moat's tests and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build
swift test
