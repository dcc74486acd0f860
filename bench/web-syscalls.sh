#!/usr/bin/env bash
# System calls per request of kpi serve (issue 9): `strace -c -f` attached to
# the server over a fixed number of cached answers (/api/v1/alerts of the
# examples, 200, keep-alive, 8 connections of a Python client), after the
# server has been quiet for 3 s (the watch's settling time is 2 s, web/watch.c).
#
#   bash bench/web-syscalls.sh [REQUESTS] [KPI_BINARY...]
#
# Default: 20,000 requests, build/release/kpi. Give several binaries (an older
# build first) to compare them in one run. Prints one markdown table: the
# calls per request of each binary, by system call.
#
# Needs: strace, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
requests=${1:-20000}
shift || true
bench_need web-syscalls.sh strace curl python3
if [ $# -eq 0 ]; then
    bash scripts/build.sh release >/dev/null
    set -- "$PWD/build/release/kpi"
fi
out=$PWD/bench/out/web-syscalls
mkdir -p "$out"
examples=$PWD/bench/out/web/examples-data
bench_examples_data "$1" "$examples"
port=18087

# client N CONNS: N GET /api/v1/alerts on CONNS keep-alive connections.
client() {
    python3 - "$port" "$1" "$2" <<'PY'
import socket, sys, threading
port, n, conns = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
req = b"GET /api/v1/alerts HTTP/1.1\r\nHost: x\r\n\r\n"
def run(count):
    s = socket.create_connection(("127.0.0.1", port))
    buf = b""
    for _ in range(count):
        s.sendall(req)
        while True:
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                length = 0
                for line in buf[:i].decode("latin1").lower().split("\r\n"):
                    if line.startswith("content-length:"):
                        length = int(line.split(":")[1])
                if len(buf) >= i + 4 + length:
                    buf = buf[i + 4 + length:]
                    break
            buf += s.recv(65536)
    s.close()
threads = [threading.Thread(target=run, args=(n // conns,)) for _ in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
PY
}

trap '[ -n "${kpi_pid:-}" ] && kill "$kpi_pid" 2>/dev/null || true' EXIT
for bin in "$@"; do
    kpi_start "$bin" "$examples" "$port" "$out/kpi.log" --threads 2
    client 400 4 # warm: the answer cached, the connections' first requests made
    sleep 3      # quiet: past the watch's settling time
    strace -c -f -p "$kpi_pid" -o "$out/strace.txt" 2>/dev/null &
    strace_pid=$!
    sleep 1 # attached to every thread
    client "$requests" 8
    kill -INT "$strace_pid"
    wait "$strace_pid" || true
    kpi_stop
    kpi_pid=
    awk -v bin="$bin" -v n="$requests" \
        '$NF != "total" && $4 ~ /^[0-9]+$/ {print bin, $NF, $4 / n}' "$out/strace.txt"
done >"$out/per-request.txt"

python3 - "$out/per-request.txt" "$requests" "$@" <<'PY'
import sys
path, requests, bins = sys.argv[1], sys.argv[2], sys.argv[3:]
calls = {}
for line in open(path):
    b, name, per = line.split()
    calls.setdefault(name, {})[b] = float(per)
print(f"`bash bench/web-syscalls.sh {requests} ...`: system calls per request of kpi serve "
      f"(strace -c -f), {int(requests):,} cached answers of /api/v1/alerts on 8 keep-alive connections\n")
print("| system call | " + " | ".join(bins) + " |")
print("|---|" + "---|" * len(bins))
names = sorted(calls, key=lambda n: -max(calls[n].values()))
for n in names:
    if max(calls[n].values()) >= 0.01:
        print(f"| {n} | " + " | ".join(f"{calls[n].get(b, 0):.2f}" for b in bins) + " |")
print("| **total** | " + " | ".join(
    f"**{sum(calls[n].get(b, 0) for n in names if max(calls[n].values()) >= 0.01):.2f}**"
    for b in bins) + " |")
PY
