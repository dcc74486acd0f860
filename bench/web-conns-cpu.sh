#!/usr/bin/env bash
# The server's CPU per request at 64 and at 1,000 connections, for one or
# more kpi binaries in turns (issue 9 item 5: "server µs/request at 1,000 ≤
# 1.1× its value at 64"). Each binary serves /api/v1/alerts of the examples
# with --threads 2, pinned to the last CPU; bench/http_load (one thread, on
# the other CPUs) asks it at 64 then 1,000 keep-alive connections; every
# round measures every binary at both sizes, interleaved, so that the
# machine's load falls alike on all. CPU: the server's threads' run time
# (/proc/PID/task/*/schedstat) over the answers counted.
#
#   bash bench/web-conns-cpu.sh [ROUNDS] [SECONDS] NAME=KPI_BINARY...
#
# e.g. three builds differing only in `connection_memory` (web/server.c):
#   bash bench/web-conns-cpu.sh 7 3 16k=/tmp/kpi-16k 8k=/tmp/kpi-8k 4k=/tmp/kpi-4k
# Runs in a session of its own at nice -15 when allowed (see web-conns.sh).
# Prints a markdown table: medians of req/s and of CPU µs per request, the
# ratio 1,000 / 64, and each round's CPU µs per request.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
secs=${2:-3}
shift 2 || true
[ $# -ge 1 ] || { echo "usage: bench/web-conns-cpu.sh ROUNDS SECONDS NAME=KPI..." >&2; exit 2; }
if [ "${KPI_BENCH_SESSION:-}" != 1 ]; then
    KPI_BENCH_SESSION=1 exec setsid --wait bash "$0" "$rounds" "$secs" "$@"
fi
# shellcheck source=bench/lib.sh
. bench/lib.sh
[ -w /proc/self/autogroup ] && echo -15 >/proc/self/autogroup
bench_need web-conns-cpu.sh curl taskset
bench_files_limit web-conns-cpu.sh
bash scripts/build.sh release >/dev/null
http_load=$PWD/build/release/http_load
examples=$PWD/bench/out/web/examples-data
bench_examples_data "$PWD/build/release/kpi" "$examples"
out=$PWD/bench/out/web-conns-cpu
mkdir -p "$out"
ncpu=$(nproc)
server_cpu=$((ncpu - 1))
client_cpus=0-$((ncpu > 1 ? ncpu - 2 : 0))
started=$(date -u '+%Y-%m-%d %H:%M')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

names=() ports=() pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
port=18140
for spec in "$@"; do
    port=$((port + 1))
    bench_cpus=$server_cpu kpi_start "${spec#*=}" "$examples" "$port" "$out/${spec%%=*}.log" \
        --threads 2
    names+=("${spec%%=*}") ports+=("$port") pids+=("$kpi_pid")
done

# run_ns PID: the run time of PID's threads, in ns.
run_ns() {
    local run=0 t a
    for t in /proc/"$1"/task/*/schedstat; do
        read -r a _ <"$t" || continue
        run=$((run + a))
    done
    echo "$run"
}

results=$out/results.txt
: >"$results"
for round in $(seq 1 "$rounds"); do
    echo "round $round" >&2
    for c in 64 1000; do
        for i in "${!names[@]}"; do
            before=$(run_ns "${pids[$i]}")
            report=$(taskset -c "$client_cpus" "$http_load" "${ports[$i]}" /api/v1/alerts "$c" \
                "$secs" 1) || { echo "http_load failed: $report" >&2; exit 1; }
            after=$(run_ns "${pids[$i]}")
            echo "${names[$i]} $c $(awk '{print $4, $2, $12}' <<<"$report") $((after - before))" \
                >>"$results"
        done
    done
done
cleanup
trap - EXIT

python3 - "$results" "$rounds" "$secs" "$started" "$load_before" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(git rev-parse --short HEAD)" "$*" <<'PY'
import statistics, sys
path, rounds, secs, started, load0, load1, commit, specs = sys.argv[1:9]
rows = {}
for line in open(path):
    name, conns, rate, reqs, errors, ns = line.split()
    rows.setdefault((name, conns), []).append((float(rate), int(errors), int(ns) / 1000 / int(reqs)))
med = statistics.median
print(f"`bash bench/web-conns-cpu.sh {rounds} {secs} {specs}` — {started} UTC, commit {commit},")
print(f"load average {load0} before, {load1} after; servers on the last CPU, http_load (one thread)")
print(f"on the others; {rounds} interleaved rounds of {secs} s; medians.\n")
print("| server | connections | req/s | socket errors (max) | server CPU µs/req | vs its 64 | each round µs/req |")
print("|---|---|---|---|---|---|---|")
for (name, conns), ms in rows.items():
    cpu = med(m[2] for m in ms)
    cpu64 = med(m[2] for m in rows[(name, "64")])
    print(f"| {name} | {conns} | {med(m[0] for m in ms):,.0f} | {max(m[1] for m in ms)} | {cpu:.2f} | "
          f"{cpu / cpu64:.2f}× | {', '.join(f'{m[2]:.1f}' for m in ms)} |")
PY
