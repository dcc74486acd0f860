#!/usr/bin/env bash
# The server's CPU per request at 64 and at 1,000 connections, for one or
# more kpi binaries (and nginx) in turns (issue 9 item 5: "server µs/request
# at 1,000 ≤ 1.1× its value at 64"). Each server serves /api/v1/alerts of
# the examples (kpi with --threads 2, nginx with 2 workers and the same
# bytes); bench/http_load (one thread) asks it at 64 then 1,000 keep-alive
# connections; every round measures every server at both sizes, interleaved,
# so that the machine's load falls alike on all. CPU: the server's threads'
# run time (/proc/PID/task/*/schedstat, nginx's workers included) over the
# answers counted.
#
#   bash bench/web-conns-cpu.sh [ROUNDS] [SECONDS] NAME=KPI_BINARY|nginx...
#
# e.g. three builds differing only in `connection_memory` (web/server.c):
#   bash bench/web-conns-cpu.sh 7 3 16k=/tmp/kpi-16k 8k=/tmp/kpi-8k 4k=/tmp/kpi-4k
# or this build against nginx:
#   bash bench/web-conns-cpu.sh 7 3 kpi=build/release/kpi nginx=nginx
#
# Environment:
#   KPI_LAYOUT=pinned (default) the servers on the last CPU, http_load on the
#              others; =shared: all on every CPU, as the kernel schedules them.
#   KPI_PERF=DIR  also profile each server in the last round (`perf record -g`
#              of the server's threads alone, 999 Hz, during the measure) into
#              DIR/NAME-CONNS.data, and print where its samples went (kernel,
#              libc, libmicrohttpd, kpi, nginx) at 64 and 1,000 connections and
#              the symbols whose share grew most. Needs perf (linux-perf).
#
# Runs in a session of its own at nice -15 when allowed (see web-conns.sh).
# Prints a markdown table: medians of req/s and of CPU µs per request, the
# ratio 1,000 / 64, and each round's CPU µs per request.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
secs=${2:-3}
shift 2 || true
[ $# -ge 1 ] || { echo "usage: bench/web-conns-cpu.sh ROUNDS SECONDS NAME=KPI|nginx..." >&2; exit 2; }
if [ "${KPI_BENCH_SESSION:-}" != 1 ]; then
    KPI_BENCH_SESSION=1 exec setsid --wait bash "$0" "$rounds" "$secs" "$@"
fi
# shellcheck source=bench/lib.sh
. bench/lib.sh
[ -w /proc/self/autogroup ] && echo -15 >/proc/self/autogroup
layout=${KPI_LAYOUT:-pinned}
perf_dir=${KPI_PERF:-}
bench_need web-conns-cpu.sh curl taskset
[ -z "$perf_dir" ] || bench_need web-conns-cpu.sh perf
case $layout in pinned | shared) ;; *) echo "KPI_LAYOUT: pinned or shared" >&2; exit 2 ;; esac
bench_files_limit web-conns-cpu.sh
bash scripts/build.sh release >/dev/null
http_load=$PWD/build/release/http_load
examples=$PWD/bench/out/web/examples-data
bench_examples_data "$PWD/build/release/kpi" "$examples"
out=$PWD/bench/out/web-conns-cpu
mkdir -p "$out"
[ -z "$perf_dir" ] || mkdir -p "$perf_dir"
ncpu=$(nproc)
server_cpu=$((ncpu - 1))
client=()
if [ "$layout" = pinned ]; then
    bench_cpus=$server_cpu
    client=(taskset -c "0-$((ncpu > 1 ? ncpu - 2 : 0))")
fi
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
    name=${spec%%=*} bin=${spec#*=}
    if [ "$bin" = nginx ]; then
        bench_need web-conns-cpu.sh nginx
        if [ ! -s "$out/root/api/v1/alerts" ]; then
            kpi_start "$PWD/build/release/kpi" "$examples" "$port" "$out/doc.log"
            mkdir -p "$out/root/api/v1"
            curl -sf "http://127.0.0.1:$port/api/v1/alerts" >"$out/root/api/v1/alerts"
            kpi_stop
            port=$((port + 1))
        fi
        nginx_conf "$out/$name.conf" "$out" "$port" "$out/root" "keepalive_requests 1000000"
        nginx_start "$out/$name.conf" "$out"
        pid=$nginx_pid
    else
        kpi_start "$bin" "$examples" "$port" "$out/$name.log" --threads 2
        pid=$kpi_pid
    fi
    names+=("$name") ports+=("$port") pids+=("$pid")
done

# tasks PID: PID and its children (nginx's workers).
tasks() {
    local children
    children=$(pgrep -P "$1" | tr '\n' ' ' || true)
    echo "$1 $children"
}

# run_ns PID: the run time of the threads of PID and of its children, in ns.
run_ns() {
    local run=0 p t a
    for p in $(tasks "$1"); do
        for t in /proc/"$p"/task/*/schedstat; do
            read -r a _ <"$t" 2>/dev/null || continue
            run=$((run + a))
        done
    done
    echo "$run"
}

results=$out/results.txt
: >"$results"
for round in $(seq 1 "$rounds"); do
    echo "round $round" >&2
    for c in 64 1000; do
        for i in "${!names[@]}"; do
            recording=
            if [ -n "$perf_dir" ] && [ "$round" = "$rounds" ]; then
                perf record -q -F 999 -g -p "$(tasks "${pids[$i]}" | tr ' ' ,)" \
                    -o "$perf_dir/${names[$i]}-$c.data" -- sleep "$secs" 2>/dev/null &
                recording=$!
            fi
            before=$(run_ns "${pids[$i]}")
            report=$("${client[@]}" "$http_load" "${ports[$i]}" /api/v1/alerts "$c" "$secs" 1) ||
                { echo "http_load failed: $report" >&2; exit 1; }
            after=$(run_ns "${pids[$i]}")
            [ -z "$recording" ] || wait "$recording" || true
            echo "${names[$i]} $c $(awk '{print $4, $2, $12}' <<<"$report") $((after - before))" \
                >>"$results"
        done
    done
done
cleanup
trap - EXIT

python3 - "$results" "$rounds" "$secs" "$started" "$load_before" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(git rev-parse --short HEAD)" "$*" "$layout" <<'PY'
import statistics, sys
path, rounds, secs, started, load0, load1, commit, specs, layout = sys.argv[1:10]
rows = {}
for line in open(path):
    name, conns, rate, reqs, errors, ns = line.split()
    rows.setdefault((name, conns), []).append((float(rate), int(errors), int(ns) / 1000 / int(reqs)))
med = statistics.median
where = ("servers on the last CPU, http_load (one thread) on the others" if layout == "pinned"
         else "servers and http_load (one thread) on every CPU")
print(f"`KPI_LAYOUT={layout} bash bench/web-conns-cpu.sh {rounds} {secs} {specs}` — {started} UTC, commit {commit},")
print(f"load average {load0} before, {load1} after; {where};")
print(f"{rounds} interleaved rounds of {secs} s; medians.\n")
print("| server | connections | req/s | socket errors (max) | server CPU µs/req | vs its 64 | each round µs/req |")
print("|---|---|---|---|---|---|---|")
for (name, conns), ms in rows.items():
    cpu = med(m[2] for m in ms)
    cpu64 = med(m[2] for m in rows[(name, "64")])
    print(f"| {name} | {conns} | {med(m[0] for m in ms):,.0f} | {max(m[1] for m in ms)} | {cpu:.2f} | "
          f"{cpu / cpu64:.2f}× | {', '.join(f'{m[2]:.1f}' for m in ms)} |")
PY

[ -n "$perf_dir" ] || exit 0
# Where the samples went: by object, then the symbols that grew most, as a
# share of each profile's samples (a share times the measure's µs/request
# gives µs).
echo
echo "Profiles (\`perf record -g\`, 999 Hz, last round), share of the server's samples:"
echo
for name in "${names[@]}"; do
    for c in 64 1000; do
        echo "$name $c: $(perf report -i "$perf_dir/$name-$c.data" --no-children --sort dso -g none \
            -q 2>/dev/null | awk 'NF >= 2 && $1 ~ /%$/ {printf "%s %s, ", $2, $1}' | head -c 300)"
    done
    echo
    echo "$name, symbols whose share grew most from 64 to 1,000 connections:"
    perf diff -c delta --sort dso,sym "$perf_dir/$name-64.data" "$perf_dir/$name-1000.data" \
        2>/dev/null | awk '!/^#/ && NF >= 4 && $2 ~ /^[+]/' | sort -t+ -k2 -g -r | head -12
    echo
done
