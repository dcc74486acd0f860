#!/usr/bin/env bash
# Configure and build one build type into build/<type> (default release).
# Usage: scripts/build.sh [release|asan]
set -euo pipefail
cd "$(dirname "$0")/.."
type=${1:-release}
case "$type" in
    release) cmake_type=Release ;;
    asan) cmake_type=Asan ;;
    *) echo "build: unknown build type $type" >&2; exit 1 ;;
esac
cmake -S . -B "build/$type" -DCMAKE_BUILD_TYPE="$cmake_type" -DKPI_WERROR=ON >/dev/null
cmake --build "build/$type" -j "$(nproc)"
