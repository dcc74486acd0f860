#!/usr/bin/env bash
# Apply .clang-format to every C file, or with --check fail when one differs.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if [ "${1:-}" = --check ]; then
    bad=0
    for f in "${files[@]}"; do
        if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
            echo "format: $f is not clang-formatted (run scripts/format.sh)" >&2
            bad=1
        fi
    done
    exit $bad
fi
clang-format -i "${files[@]}"
