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
# At most 8 test cases at once. Unbounded, every test of the run starts together on two cores:
# each await then waits behind hundreds of others on Swift's cooperative pool, and the
# deadlines of tests that talk to real servers (PostgreSQL's 60 s migration) measured that
# queue, not the server. Same total time on this machine (205 s either way).
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${MOAT_TEST_PARALLELISM:-8}"
# A failure is printed where it happens, among thousands of log lines; CI keeps only the end of
# the output. So the failures are printed again last.
test_log=$(mktemp /tmp/moat-test-log.XXXXXX)
if ! swift test 2>&1 | tee "$test_log"; then
    echo "=== the failures of this run, again ==="
    grep -E -A6 '✘|: error: |Fatal error|Test crashed' "$test_log" | tail -n 120
    exit 1
fi
rm -f "$test_log"
# Every network-facing parser and state machine under libFuzzer + ASan for a few seconds each,
# after replaying the reproducers of fixed findings (Fuzz/README.md). MOAT_SKIP_FUZZ=1 skips it.
if [ "${MOAT_SKIP_FUZZ:-0}" != 1 ]; then
    bash Fuzz/run.sh smoke "${MOAT_FUZZ_SMOKE_SECONDS:-15}"
fi
# Every benchmark script end to end at smoke sizes with the debug binaries built above, so that
# they keep working (Benchmarks/run-all.sh --smoke: a few minutes; figures are printed, never
# judged). MOAT_SKIP_BENCH_SMOKE=1 skips it.
if [ "${MOAT_SKIP_BENCH_SMOKE:-0}" != 1 ]; then
    MOAT_BIN_DIR=.build/debug CORPUS=${MOAT_CORPUS:-} bash Benchmarks/run-all.sh --smoke
fi
