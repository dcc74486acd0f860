#!/usr/bin/env bash
# Install, from Debian's packages, whatever kpi needs to build and test that
# is missing. Usage: scripts/deps.sh [build|test]. Idempotent: with
# everything present it installs nothing and does not touch apt.
set -euo pipefail

# check is a build dependency: tests/CMakeLists.txt asks pkg-config for it when
# CMake configures, so without it not even the release binary builds.
build_packages=(gcc libc6-dev make cmake pkg-config librrd-dev libcsv-dev libcjson-dev
                libmicrohttpd-dev libsqlite3-dev zlib1g-dev libgnutls28-dev rrdtool check)
# poppler-utils: pdfinfo counts the pages of the review printed by Chromium.
# dpkg-dev and file: `cpack -G DEB` computes the package's dependencies with
# dpkg-shlibdeps; systemd: `systemd-analyze verify` of dist/kpi.service;
# man-db and groff-base: `man --warnings` of docs/kpi.1. libc6-dbg: libc's
# symbols, without which LeakSanitizer cannot name the libc frame that
# tests/lsan.supp matches (__vasprintf_internal, under librrd). curl and
# openssl: the HTTPS test (a self-signed certificate made at test time).
test_packages=(clang-format sqlite3 prometheus chromium chromium-driver poppler-utils dpkg-dev file
               systemd man-db groff-base libc6-dbg curl openssl)

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
