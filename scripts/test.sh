#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for Moat's tests and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The shared mail corpus the parser and scanner tests read: beside the repository in the
# developers' layout (also when CI clones elsewhere), or wherever MOAT_CORPUS says.
if [ -z "${MOAT_CORPUS:-}" ]; then
    for candidate in "$PWD/../shared/corpus" /work/shared/corpus; do
        if [ -f "$candidate/INDEX.tsv" ]; then export MOAT_CORPUS="$candidate"; break; fi
    done
fi
swift build
swift test
