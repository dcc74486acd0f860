#!/usr/bin/env bash
# The connection rows of bench/web.sh alone (issue 9 item 5), runnable in its
# own scheduling group: /api/v1/alerts of the examples at 64, 1,000 and 3,000
# keep-alive connections, kpi serve --threads 2 and nginx serving the same
# bytes in turns, each asked by two clients in turns, then wrk at 8
# connections while 1,000 other connections are held open and idle. Medians
# over ROUNDS rounds.
#
#   bash bench/web-conns.sh [ROUNDS] [SECONDS] [GROUP_NICE] [LAYOUTS] [CLIENTS]
#
# Defaults: 3 rounds of 3 s per measure, nice 0, "shared pinned", "wrk
# http_load": 78 measures, about 4 minutes (6 with KPI_BASELINE).
#
# CLIENTS: one or more of
#   wrk        wrk -t2 (the issue's client); it copies and parses every answer
#              and its CPU per request grows with the connections;
#   http_load  bench/http_load.c, one thread: one epoll set, reads each head,
#              lets the kernel discard each body (counted, not copied),
#              checks every status (200) and body length (that of the
#              document, the same for every answer); its CPU per request
#              hardly grows with the connections.
#
# LAYOUTS: one or more of, measured in turns every round:
#   shared  servers and client on both vCPUs, as the kernel schedules them;
#   pinned  the servers on the last CPU, the client on the others (taskset,
#           set on the running servers before each measure): the client's
#           share of the machine no longer comes out of the server's.
# Each row gives the server's and the client's CPU per request, and the
# client's CPU as a share of its CPUs (pinned: one vCPU; shared: both): a
# client under 100 % of its CPUs is not what sets the rate.
#
# The script runs itself in a new session, hence a new autogroup of the
# kernel's scheduler (/proc/sys/kernel/sched_autogroup_enabled), and gives
# that group the nice value GROUP_NICE (default 0; a negative value needs
# root). Why: on a machine where other sessions keep every CPU busy, the
# scheduler shares the CPUs between sessions, and the benchmark's session
# (servers and clients together) gets a slice that depends on what else
# runs. A GROUP_NICE of -15 approximates a quiet machine; 0 measures what the
# other sessions leave. The servers' run-queue waits are printed for each
# measure (from /proc/PID/task/*/schedstat): time they were ready to run and
# waited.
#
# KPI_BASELINE=/path/to/an/older/kpi adds that binary's server (kpi-base,
# same data, same options) to every measure, in turns with the others: the
# effect of a change, measured in the same minutes.
#
# Prints a markdown table ready for docs/PERFORMANCE.md, headed with the
# command, the commit, the time and the load average, then the ratios the
# issue asks for. Exits 1 if an http_load answer was not a 200 carrying
# the document's bytes.
#
# Needs: wrk, nginx (Debian nginx-light), curl, python3, taskset.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-3}
group_nice=${3:-0}
layouts=${4:-shared pinned}
clients=${5:-wrk http_load}
if [ "${KPI_BENCH_SESSION:-}" != 1 ]; then
    KPI_BENCH_SESSION=1 exec setsid --wait bash "$0" "$rounds" "$secs" "$group_nice" "$layouts" \
        "$clients"
fi
# shellcheck source=bench/lib.sh
. bench/lib.sh
if [ -w /proc/self/autogroup ]; then
    echo "$group_nice" >/proc/self/autogroup
fi
echo "scheduling group: $(cat /proc/self/autogroup 2>/dev/null || echo none)" >&2
bench_need web-conns.sh wrk nginx curl python3 taskset
bench_files_limit web-conns.sh
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
http_load=$PWD/build/release/http_load
out=$PWD/bench/out/web-conns
mkdir -p "$out"
examples=$PWD/bench/out/web/examples-data
bench_examples_data "$kpi" "$examples"
kpi_port=18084
nginx_port=18085
base_port=18086
baseline=${KPI_BASELINE:-}
ncpu=$(nproc)
server_cpu=$((ncpu - 1))
client_cpus=0-$((ncpu > 1 ? ncpu - 2 : 0))
client_ncpu=$((ncpu > 1 ? ncpu - 1 : 1))
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M')

# whatever happens, nothing of ours stays running
base_pid= kpi_pid= nginx_pid=
cleanup() {
    local p
    for p in $base_pid $kpi_pid $nginx_pid; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
if [ -n "$baseline" ]; then
    kpi_start "$baseline" "$examples" "$base_port" "$out/kpi-base.log" --threads 2
    base_pid=$kpi_pid
fi
kpi_start "$kpi" "$examples" "$kpi_port" "$out/kpi.log" --threads 2
rm -rf "$out/root" && mkdir -p "$out/root/api/v1"
curl -sf "http://127.0.0.1:$kpi_port/api/v1/alerts" >"$out/root/api/v1/alerts"
doc_bytes=$(stat -c %s "$out/root/api/v1/alerts")
# nginx closes a keep-alive connection after 1,000 answers by default (the
# clients then open another); kpi never does: the same keep-alive for both.
nginx_conf "$out/nginx.conf" "$out" "$nginx_port" "$out/root" "keepalive_requests 1000000"
nginx_start "$out/nginx.conf" "$out"

# sched PID: "CPU_US RUNQ_US", the time run and the time waited in the run
# queue, summed over the tasks of PID and of its children (nginx's workers),
# from /proc/*/task/*/schedstat (ns).
sched() {
    local run=0 wait=0 p t a b
    for p in "$1" $(pgrep -P "$1" || true); do
        for t in /proc/"$p"/task/*/schedstat; do
            [ -r "$t" ] || continue
            read -r a b _ <"$t" || continue
            run=$((run + a)) wait=$((wait + b))
        done
    done
    echo "$((run / 1000)) $((wait / 1000))"
}

# place LAYOUT: the servers' CPUs for LAYOUT (every thread, nginx's workers
# too); sets client, the command prefix of wrk.
place() {
    local cpus=0-$((ncpu - 1)) p
    client=()
    client_set=$ncpu
    if [ "$1" = pinned ]; then
        cpus=$server_cpu
        client=(taskset -c "$client_cpus")
        client_set=$client_ncpu
    fi
    for p in "$kpi_pid" $base_pid "$nginx_pid" $(pgrep -P "$nginx_pid" || true); do
        taskset -a -p -c "$cpus" "$p" >/dev/null
    done
}

results=$out/results.txt
: >"$results"
# measure CLIENT PORT CONNS: "req/s errors p99_ms requests client_cpu_s
# body_ok" of one measure by CLIENT (body_ok: 1 when every answer was a 200
# carrying the document's bytes, "-" for wrk, which does not check).
measure() {
    local report
    case $1 in
    wrk)
        report=$(/usr/bin/time -f "client_cpu %U %S" "${client[@]}" wrk -t2 -c"$3" \
            -d"${secs}s" --latency --timeout 10s "http://127.0.0.1:$2/api/v1/alerts" 2>&1)
        echo "$(bench_rate <<<"$report") $(bench_errors <<<"$report") \
$(bench_pct 99% <<<"$report") $(awk '/requests in/ {print $1}' <<<"$report") \
$(awk '/^client_cpu/ {print $2 + $3}' <<<"$report") -"
        ;;
    http_load)
        report=$("${client[@]}" "$http_load" "$2" /api/v1/alerts "$3" "$secs" 1) || true
        awk -v doc="$doc_bytes" '{ok = $8 == doc && $10 == 0 && $6 == $2 * doc;
            print $4, $12 + $10, $16, $2, $18, ok ? 1 : 0}' <<<"$report"
        ;;
    esac
}

# row LAYOUT CLIENT NAME PORT SERVER_PID CONNS [LABEL]: appends
# "LAYOUT|CLIENT|NAME|LABEL req/s errors p99_ms requests server_cpu_us
# server_runq_us client_cpu_s client_cpus body_ok" (LABEL: CONNS by default).
row() {
    local before after m
    before=$(sched "$5")
    m=$(measure "$2" "$4" "$6")
    after=$(sched "$5")
    read -r rate errors p99 requests ccpu ok <<<"$m"
    echo "$1|$2|$3|${7:-$6} $rate $errors $p99 $requests $(awk -v a="$after" -v b="$before" \
        'BEGIN {split(a, x, " "); split(b, y, " "); print x[1] - y[1], x[2] - y[2]}') $ccpu \
$client_set $ok" >>"$results"
}

for round in $(seq 1 "$rounds"); do
    for layout in $layouts; do
        echo "round $round, $layout" >&2
        place "$layout"
        for c in 64 1000 3000; do
            for cl in $clients; do
                row "$layout" "$cl" kpi "$kpi_port" "$kpi_pid" "$c"
                [ -n "$base_pid" ] && row "$layout" "$cl" kpi-base "$base_port" "$base_pid" "$c"
                row "$layout" "$cl" nginx "$nginx_port" "$nginx_pid" "$c"
            done
        done
        bench_with_held "$kpi_port" 1000 idle "$out/hold.out" \
            row "$layout" wrk kpi "$kpi_port" "$kpi_pid" 8 "8 + 1000 idle"
        if [ -n "$base_pid" ]; then
            bench_with_held "$base_port" 1000 idle "$out/hold.out" \
                row "$layout" wrk kpi-base "$base_port" "$base_pid" 8 "8 + 1000 idle"
        fi
    done
done
cleanup
trap - EXIT
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$results" "$rounds" "$secs" "$(cat /proc/self/autogroup 2>/dev/null || echo none)" \
    "${baseline:+KPI_BASELINE=$baseline }bash bench/web-conns.sh $rounds $secs $group_nice '$layouts' '$clients'" \
    "$started" "$(git rev-parse --short HEAD)" "$load_before" "$load_after" "$server_cpu" \
    "$client_cpus" "$doc_bytes" <<'PY'
import statistics, sys
(path, rounds, secs, group, command, started, commit, load0, load1, scpu, ccpus,
 doc) = sys.argv[1:13]
rows = {}
for line in open(path):
    name, rest = line.rsplit("|", 1)
    conns, rate, errors, p99, reqs, cpu, runq, ccpu, cset, ok = rest.rsplit(None, 9)
    rows.setdefault(f"{name}|{conns}", []).append(
        (float(rate), int(errors), float(p99), int(reqs), int(cpu), int(runq), float(ccpu),
         int(cset), ok))
def med(values):
    values = list(values)
    return statistics.median(values) if values else float("nan")
print(f"`{command}` — {started} UTC, commit {commit}, load average {load0} before, {load1} after;")
print(f"medians of {rounds} rounds of {secs} s per measure, scheduling group {group}; `wrk -t2 --latency")
print(f"--timeout 10s`; `http_load` (bench/http_load.c, one thread) checked every answer: status 200 and")
print(f"a body of {int(doc):,} bytes, the document's. `pinned`: servers on CPU {scpu}, the client on CPU {ccpus};")
print("`shared`: all on every CPU. CPU µs per request: the server's (all its threads) and the client's,")
print("each measure's CPU time over its answers; client CPU %: of the CPUs it may use; run-queue wait:")
print("the server's time ready to run but waiting for a CPU, per second measured.\n")
print("| layout | client | server | connections | req/s | vs its 64 | socket errors (max) | p99 ms "
      "| server CPU µs/req | client CPU µs/req | client CPU % | server run-queue wait ms/s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
bad = 0
summary = {}
for name, ms in rows.items():
    layout, client, server, conns = name.split("|")
    rate = med([m[0] for m in ms])
    base = rows.get(f"{layout}|{client}|{server}|64")
    ratio = rate / med([m[0] for m in base]) if base and "idle" not in conns and rate else None
    scpu_req = med([m[4] / m[3] for m in ms if m[3]])
    ccpu_req = med([m[6] * 1e6 / m[3] for m in ms if m[3]])
    cshare = med([m[6] / (float(secs) * m[7]) * 100 for m in ms])
    runq = med([m[5] / 1000 / float(secs) for m in ms])
    bad += sum(1 for m in ms if m[8] == "0")
    summary[(layout, client, server, conns)] = (ratio, scpu_req, ccpu_req, cshare)
    vs = f"{ratio * 100:.0f}%" if ratio is not None else ""
    print(f"| {layout} | {client} | {server} | {conns} | {rate:,.0f} | {vs} | {max(m[1] for m in ms)} | "
          f"{med([m[2] for m in ms]):.2f} | {scpu_req:.1f} | {ccpu_req:.1f} | {cshare:.0f}% | {runq:,.0f} |")
print()
for (layout, client, server, conns), (ratio, s, c, share) in summary.items():
    if conns != "1000" or ratio is None:
        continue
    s64, c64 = summary[(layout, client, server, "64")][1:3]
    print(f"- {layout}, {client}, {server}: 1,000 connections at {ratio * 100:.0f}% of the 64-connection "
          f"rate; server CPU per request {s / s64:.2f}× its 64-connection value, client's {c / c64:.2f}×, "
          f"client at {share:.0f}% of its CPUs")
if bad:
    print(f"\n**{bad} http_load measures got an answer that was not a 200 of {doc} bytes.**")
sys.exit(1 if bad else 0)
PY
