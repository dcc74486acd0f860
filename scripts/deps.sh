#!/usr/bin/env bash
# Install, from Debian's packages, whatever kpi needs to build and test that
# is missing. Usage: scripts/deps.sh [build|test]. Idempotent: with
# everything present it installs nothing and does not touch apt.
set -euo pipefail

build_packages=(gcc libc6-dev make cmake pkg-config librrd-dev libcsv-dev libcjson-dev
                libmicrohttpd-dev rrdtool)
test_packages=(check clang-format prometheus chromium chromium-driver)

wanted=("${build_packages[@]}")
if [ "${1:-build}" = test ]; then
    wanted+=("${test_packages[@]}")
fi

missing=()
for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 3; }
    sudo=(sudo)
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
