#!/usr/bin/env bash
# Prove that README.md's two commands work on a fresh Debian 12, and that the
# .deb installs and runs there. As root:
#
#   bash scripts/fresh-machine.sh [SCRATCH_DIR]
#
# 1. a minimal Debian 12 (debootstrap --variant=minbase) from this machine's
#    apt sources (its deb.debian.org entries), in a scratch folder;
# 2. this checkout (tracked and untracked files, no build or data dirs) in
#    /root/kpi inside it, and ../shared beside it in /root/shared;
# 3. inside, as a newcomer would: `bash scripts/demo.sh` in the background
#    until its server answers /healthz (polled from here: a chroot shares the
#    network), then stopped by its PID; then `bash scripts/test.sh`;
# 4. `cpack -G DEB`, `apt-get install ./kpi_*.deb`, and the installed
#    /usr/bin/kpi imports the example and serves it (/healthz).
#
# The last line of output is "N passed, M failed"; exit status 1 if M > 0.
# Logs are in SCRATCH_DIR/logs (kept when a check fails, with the tree).
#
# Cached between runs in $KPI_FRESH_CACHE (default /var/cache/kpi-fresh): the
# bare debootstrap as a tarball, and apt's downloaded packages and lists (bind
# mounted into the chroot). The script runs in a private mount namespace, so
# the chroot's mounts disappear with it even if it is killed; a trap unmounts
# and stops what it started anyway.
#
# Environment: KPI_FRESH_CACHE, KPI_FRESH_KEEP=1 keeps the scratch tree.
set -euo pipefail
{ # bash parses this block whole before running it: editing the file meanwhile cannot break a run

if [ "$(id -u)" -ne 0 ]; then
    echo "fresh-machine: run as root (debootstrap, chroot, mount)" >&2
    exit 3
fi
# Everything below in a private mount namespace: nothing mounted here is
# visible to the rest of the machine, and it all goes when this script ends.
if [ -z "${KPI_FRESH_NS:-}" ]; then
    exec env KPI_FRESH_NS=1 unshare --mount --propagation private -- bash "$0" "$@"
fi

src=$(cd "$(dirname "$0")/.." && pwd)
cache=${KPI_FRESH_CACHE:-/var/cache/kpi-fresh}
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
mkdir -p "$cache/apt-archives/partial" "$cache/apt-lists/partial" "$cache/debootstrap"
if [ -n "${1:-}" ]; then
    scratch=$1
    mkdir -p "$scratch"
else
    scratch=$(mktemp -d /var/tmp/kpi-fresh.XXXXXX)
fi
scratch=$(cd "$scratch" && pwd)
root=$scratch/root
logs=$scratch/logs
mkdir -p "$logs"

passed=0
failed=0
check() { # check NAME STATUS: count one check and say how it went
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok   - $1"
    else
        failed=$((failed + 1))
        echo "FAIL - $1 (status $2)"
    fi
}
show_log() { # the end of a failed step's log, on stderr
    echo "---- last lines of $1" >&2
    tail -n 40 "$1" >&2 || true
    echo "----" >&2
}
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

# ---- cleanup: stop what runs in the chroot, unmount, remove the tree
mounts=()
cleanup() {
    set +e
    if [ -d "$root" ]; then
        # Every process whose root is the chroot is one this script started.
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
        done
    fi
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -l "${mounts[i]}" 2>/dev/null
    done
    if [ "${KPI_FRESH_KEEP:-0}" != 1 ] && [ "$failed" -eq 0 ] && [ -d "$root" ]; then
        if ! grep -q " $root" /proc/self/mounts; then
            rm -rf --one-file-system "$scratch"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bind() { # bind SRC DEST
    mkdir -p "$2"
    mount --bind "$1" "$2"
    mounts+=("$2")
}

# ---- the apt sources of this machine: its deb.debian.org entries
sources=$scratch/debian.sources
: >"$sources"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822 stanzas are separated by blank lines; keep the Debian ones.
    awk -v RS= -v ORS='\n\n' '/URIs:[^\n]*deb\.debian\.org/' "$f" >>"$sources"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    grep -E '^deb [^#]*deb\.debian\.org' "$f" >>"$scratch/debian.list" || true
done
mirror=$(grep -ho 'https\?://deb\.debian\.org/debian\b' "$sources" "$scratch/debian.list" \
    2>/dev/null | grep -v security | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

# ---- the bare system, once: debootstrap, then a tarball of it
command -v debootstrap >/dev/null || {
    stamp "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}
base=$cache/$suite-minbase.tar.gz
if [ ! -f "$base" ]; then
    stamp "debootstrap $suite from $mirror (cached in $base)"
    rm -rf --one-file-system "$scratch/bootstrap"
    if ! debootstrap --variant=minbase --cache-dir="$cache/debootstrap" "$suite" \
        "$scratch/bootstrap" "$mirror" >"$logs/debootstrap.log" 2>&1; then
        show_log "$logs/debootstrap.log"
        check "debootstrap $suite" 1
        echo "$passed passed, $failed failed"
        exit 1
    fi
    tar -C "$scratch/bootstrap" -czf "$base.tmp" .
    mv "$base.tmp" "$base"
    rm -rf --one-file-system "$scratch/bootstrap"
fi
stamp "unpacking $base"
rm -rf --one-file-system "$root"
mkdir -p "$root"
tar -C "$root" -xzf "$base"

# Its apt: this machine's Debian sources, packages and lists kept in the cache.
rm -f "$root/etc/apt/sources.list"
if [ -s "$sources" ]; then
    cp "$sources" "$root/etc/apt/sources.list.d/debian.sources"
else
    cp "$scratch/debian.list" "$root/etc/apt/sources.list"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# What the Debian installer writes and debootstrap does not: without it
# "localhost" does not resolve, and chromedriver cannot reach Chromium.
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# A chroot runs no init: packages must not try to start services.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount -t sysfs sysfs "$root/sys" && mounts+=("$root/sys")
# /dev: debootstrap's static nodes, plus a private devpts and /dev/shm
# (Chromium needs shared memory).
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" && mounts+=("$root/dev/pts")
mkdir -p "$root/dev/shm"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm" && mounts+=("$root/dev/shm")
bind "$cache/apt-archives" "$root/var/cache/apt/archives"
bind "$cache/apt-lists" "$root/var/lib/apt/lists"

# ---- the checkout and ../shared
stamp "copying $src and its ../shared"
mkdir -p "$root/root/kpi"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # What a clone of this checkout would hold, local changes included.
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        grep -zv -e '^build/' -e '^kpi-data/' | xargs -0 tar -cf - --no-recursion --ignore-failed-read 2>/dev/null) |
        tar -C "$root/root/kpi" -xf -
else
    tar -C "$src" --exclude=./build --exclude=./kpi-data -cf - . | tar -C "$root/root/kpi" -xf -
fi
if [ -d "$src/../shared" ]; then
    cp -a "$src/../shared" "$root/root/shared"
fi

# in_root COMMAND: run a shell command in /root/kpi as root logged in afresh
# (chroot execs env, which execs bash: started with &, $! is that process).
in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        KPI_LISTEN="127.0.0.1:$port" /bin/bash -c "cd /root/kpi && $1"
}

# The servers listen on port 0: the kernel picks a free port, which kpi serve
# prints ("kpi: serving DIR on http://127.0.0.1:PORT/"); no port probed here
# can be taken meanwhile by someone else on this machine.
port=0

# wait_healthz PID LOG SECONDS: 0 once the server started by PID, which logs
# to LOG, answers 200 on /healthz; 1 if PID ended or SECONDS passed first.
# The chroot shares this machine's network: polled from here.
wait_healthz() {
    local deadline=$((SECONDS + $3)) url
    while [ $SECONDS -lt $deadline ]; do
        url=$(sed -n 's|^kpi: serving .* on \(http://[^ ]*\)$|\1|p' "$2" | tail -n 1)
        url=${url%/}
        if [ -n "$url" ] &&
            curl -fsS --max-time 2 -o /dev/null "$url/healthz" 2>/dev/null; then
            echo "   ($url/healthz answered)"
            return 0
        fi
        kill -0 "$1" 2>/dev/null || return 1
        sleep 1
    done
    return 1
}
# stop PID: SIGTERM, then the exit status (0 when the server stopped cleanly).
stop() {
    kill -TERM "$1" 2>/dev/null || return 1
    local status=0
    wait "$1" || status=$?
    return $status
}

# ---- README command 1: bash scripts/demo.sh
stamp "KPI_LISTEN=127.0.0.1:0 bash scripts/demo.sh"
# Not in_root ... &: that would background a subshell, and $! would be its PID.
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    KPI_LISTEN="127.0.0.1:$port" /bin/bash -c 'cd /root/kpi && exec bash scripts/demo.sh' \
    >"$logs/demo.log" 2>&1 &
demo=$!
status=0
wait_healthz "$demo" "$logs/demo.log" 2400 || status=$?
check "bash scripts/demo.sh serves /healthz" $status
if [ $status -eq 0 ]; then
    status=0
    stop "$demo" || status=$?
    check "the demo's server stops on SIGTERM to its PID ($demo)" $status
else
    show_log "$logs/demo.log"
    kill -KILL "$demo" 2>/dev/null || true
    wait "$demo" 2>/dev/null || true
fi

# ---- README command 2: bash scripts/test.sh
stamp "bash scripts/test.sh"
status=0
in_root 'timeout 45m bash scripts/test.sh' >"$logs/test.log" 2>&1 || status=$?
[ $status -eq 0 ] || show_log "$logs/test.log"
check "bash scripts/test.sh" $status

# ---- the package: build it, install it with apt, run what it installed
stamp "cpack -G DEB, apt-get install ./kpi_*.deb"
status=0
in_root 'bash scripts/deps.sh test && cd build/release && rm -f kpi_*.deb && cpack -G DEB &&
    ls kpi_*.deb' >"$logs/cpack.log" 2>&1 || status=$?
[ $status -eq 0 ] || show_log "$logs/cpack.log"
check "cpack -G DEB builds kpi_*.deb" $status

status=0
in_root 'cd build/release && DEBIAN_FRONTEND=noninteractive apt-get install -y ./kpi_*.deb &&
    dpkg -L kpi && dpkg-query -W -f="\${Depends}\n" kpi' >"$logs/install.log" 2>&1 || status=$?
[ $status -eq 0 ] || show_log "$logs/install.log"
check "apt-get install ./kpi_*.deb" $status

status=0
in_root 'test "$(command -v kpi)" = /usr/bin/kpi &&
    test "$(kpi --version)" = "kpi $(sed -n "s/^project(kpi VERSION \([0-9.]*\).*/\1/p" CMakeLists.txt)" &&
    test -f /usr/share/man/man1/kpi.1 &&
    test -f /usr/share/bash-completion/completions/kpi &&
    test -f /lib/systemd/system/kpi.service' >>"$logs/install.log" 2>&1 || status=$?
[ $status -eq 0 ] || show_log "$logs/install.log"
check "the package installs /usr/bin/kpi (kpi --version), kpi(1), its completion, kpi.service" \
    $status

# The same imports as the demo, by the installed binary, into a new directory.
status=0
in_root 'export KPI_DATA=/srv/kpi/acme && rm -rf /srv/kpi && cd examples &&
    kpi import teams.csv --kind teams && kpi import indicators.csv --kind indicators &&
    kpi import budget.csv --kind targets --strict &&
    kpi import finance.csv --encoding cp1252 --strict &&
    kpi import rh_effectifs.csv --column "date=Fin de période" --date-format "%d.%m.%Y" --strict &&
    kpi import operations.csv --strict &&
    kpi import enquete_engagement.csv --kpi engagement --column date=Trimestre \
        --column value=Score --strict &&
    kpi alerts --as-of 2026-10-31 --format csv' >"$logs/installed-import.log" 2>&1 || status=$?
[ $status -eq 0 ] || show_log "$logs/installed-import.log"
check "/usr/bin/kpi imports the example into /srv/kpi/acme" $status

stamp "/usr/bin/kpi serve"
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    /usr/bin/kpi --data /srv/kpi/acme serve --listen "127.0.0.1:$port" --as-of 2026-10-31 \
    >"$logs/installed-serve.log" 2>&1 &
server=$!
status=0
wait_healthz "$server" "$logs/installed-serve.log" 60 || status=$?
if [ $status -eq 0 ]; then
    stop "$server" || status=$?
else
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
fi
[ $status -eq 0 ] || show_log "$logs/installed-serve.log"
check "/usr/bin/kpi serves the example (/healthz), stops on SIGTERM" $status

stamp "done (logs in $logs)"
echo "$passed passed, $failed failed"
exit $((failed > 0 ? 1 : 0))
}
