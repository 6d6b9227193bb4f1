#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of Moat's parsers, each module compiled with its entry
# point and libFuzzer + AddressSanitizer:
#   Fuzz/run.sh [mime|config|rules] [seconds]      (default: all, 60 s each)
# Seeds: the shared corpus for MIME, etc/ and the test fixtures for the configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out"
seconds=${2:-60}
flags=(-parse-as-library -sanitize=fuzzer,address -O -g -module-name Fuzzed)

build() {
    local name=$1; shift
    swiftc "${flags[@]}" "$@" -o "$out/fuzz-$name"
}

# Lazily initialised Swift globals (the schema) look like leaks to LeakSanitizer: leaks are
# not checked; memory growth is bounded by -rss_limit_mb instead.
run() {
    local name=$1 seeds=$2
    mkdir -p "$out/corpus-$name" "$out/artifacts-$name"
    ASAN_OPTIONS=detect_leaks=0 "$out/fuzz-$name" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -detect_leaks=0 \
        -artifact_prefix="$out/artifacts-$name/" "$out/corpus-$name" $seeds
}

want=${1:-all}
if [ "$want" = all ] || [ "$want" = mime ]; then
    build mime Sources/MIME/*.swift Fuzz/MIMEFuzz.swift
    run mime ../shared/corpus/mikel-mail
fi
if [ "$want" = all ] || [ "$want" = config ]; then
    build config Sources/MoatConfig/*.swift Sources/MoatConfig/*/*.swift Fuzz/ConfigFuzz.swift
    mkdir -p "$out/seed-config" && cp etc/moat.ini Tests/MoatConfigTests/Fixtures/*.ini "$out/seed-config/"
    run config "$out/seed-config"
fi
if [ "$want" = all ] || [ "$want" = rules ]; then
    # Policy imports MoatConfig: build that as a module first.
    swiftc -parse-as-library -sanitize=fuzzer,address -O -g -module-name MoatConfig -emit-module \
        -emit-module-path "$out/MoatConfig.swiftmodule" -emit-library -static -o "$out/libMoatConfig.a" \
        Sources/MoatConfig/*.swift Sources/MoatConfig/*/*.swift
    swiftc "${flags[@]}" -I "$out" -L "$out" -lMoatConfig Sources/Policy/*.swift Fuzz/RuleFuzz.swift -o "$out/fuzz-rules"
    run rules ""
fi
