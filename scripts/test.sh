#!/usr/bin/env bash
# The whole test suite: install what is missing, check formatting, build with
# -Werror, run every test, then build and run the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
bash scripts/format.sh --check
bash scripts/build.sh release
# deps.sh installed chromium and chromium-driver: the browser tests must run
export KPI_TEST_NEEDS_BROWSER=1
ctest --test-dir build/release --output-on-failure -j 2
bash scripts/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure -j 2 -E '^test_cli_crash'
