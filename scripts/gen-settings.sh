#!/usr/bin/env bash
# Regenerates the typed settings (Sources/MoatConfig/Settings/Generated) from the schema.
# The old files are moved aside first: MoatConfig's own code never uses them, so the
# generator builds even when they no longer match the schema.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=Sources/MoatConfig/Settings/Generated
aside=$(mktemp -d)
trap 'rm -rf "$aside"' EXIT
mv "$dir"/*.swift "$aside"/ 2>/dev/null || true
if ! swift build --product gen-settings >/dev/null; then
    mv "$aside"/*.swift "$dir"/ 2>/dev/null || true
    echo "gen-settings did not build; the previous files are back" >&2
    exit 1
fi
.build/debug/gen-settings "$dir"
