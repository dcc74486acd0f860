#!/usr/bin/env bash
# The connection rows of bench/web.sh alone (issue 9 item 5), runnable in its
# own scheduling group: /api/v1/alerts of the examples at 64, 1,000 and 3,000
# connections (wrk -t2), kpi serve --threads 2 and nginx serving the same
# bytes alternately, then a client at 8 connections while 1,000 other
# connections are held open and idle. Medians over ROUNDS rounds.
#
#   bash bench/web-conns.sh [ROUNDS] [SECONDS] [GROUP_NICE]
#
# The script runs itself in a new session, hence a new autogroup of the
# kernel's scheduler (/proc/sys/kernel/sched_autogroup_enabled), and gives
# that group the nice value GROUP_NICE (default 0; a negative value needs
# root). Why: on a machine where other sessions keep every CPU busy, the
# scheduler shares the CPUs between sessions, and the benchmark's session
# (server and wrk together) gets a slice that depends on what else runs. A
# GROUP_NICE of -15 approximates a quiet machine; 0 measures what the other
# sessions leave. The servers' run-queue waits are printed for each measure
# (from /proc/PID/task/*/schedstat): time they were ready to run and waited.
#
# Needs: wrk, nginx (Debian nginx-light), curl, python3; bench/web.sh's data
# (bench/out/web/examples-data, made by bench/web.sh or by this script).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-5}
group_nice=${3:-0}
if [ "${KPI_BENCH_SESSION:-}" != 1 ]; then
    KPI_BENCH_SESSION=1 exec setsid --wait bash "$0" "$rounds" "$secs" "$group_nice"
fi
if [ -w /proc/self/autogroup ]; then
    echo "$group_nice" >/proc/self/autogroup
fi
echo "scheduling group: $(cat /proc/self/autogroup 2>/dev/null || echo none)" >&2
for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
    command -v "$tool" >/dev/null || { echo "web-conns.sh: $tool is needed" >&2; exit 3; }
done
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 8192 ] || { echo "web-conns.sh: the open-files limit is below 8192" >&2; exit 3; }
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
out=$PWD/bench/out/web-conns
mkdir -p "$out"
examples=$PWD/bench/out/web/examples-data
if [ ! -f "$examples/kpi.db" ]; then
    KPI_DATA=$examples "$kpi" import --quiet examples/teams.csv --kind teams
    KPI_DATA=$examples "$kpi" import --quiet examples/indicators.csv --kind indicators
    KPI_DATA=$examples "$kpi" import --quiet examples/budget.csv --kind targets
    KPI_DATA=$examples "$kpi" import --quiet examples/finance.csv --encoding cp1252
    KPI_DATA=$examples "$kpi" import --quiet examples/rh_effectifs.csv \
        --column 'date=Fin de période' --date-format '%d.%m.%Y'
    KPI_DATA=$examples "$kpi" import --quiet examples/operations.csv
    KPI_DATA=$examples "$kpi" import --quiet examples/enquete_engagement.csv --kpi engagement \
        --column date=Trimestre --column value=Score
fi
kpi_port=18084
nginx_port=18085

"$kpi" --data "$examples" serve --listen "127.0.0.1:$kpi_port" --as-of 2026-10-31 \
    --threads 2 >"$out/kpi.log" &
kpi_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$kpi_port/healthz" >/dev/null && break; sleep 0.1; done
rm -rf "$out/root" && mkdir -p "$out/root/api/v1"
curl -sf "http://127.0.0.1:$kpi_port/api/v1/alerts" >"$out/root/api/v1/alerts"
cat >"$out/nginx.conf" <<CONF
worker_processes 2;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    open_file_cache max=100;
    default_type application/json;
    server { listen 127.0.0.1:$nginx_port; root $out/root; }
}
CONF
nginx -c "$out/nginx.conf" -p "$out"
sleep 0.5
nginx_pid=$(cat "$out/nginx.pid")

# runq PID...: the run-queue wait, in ms, summed over the tasks of PIDs
# (and of their children, for nginx's workers).
runq() {
    local total=0 p t
    for p in "$@" $(pgrep -P "$1" || true); do
        for t in /proc/"$p"/task/*/schedstat; do
            [ -r "$t" ] && total=$((total + $(awk '{print $2}' "$t")))
        done
    done
    echo $((total / 1000000))
}

pct() {
    awk -v p="$1" '$1 == p {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}'
}

results=$out/results.txt
: >"$results"
row() { # row NAME PORT SERVER_PID CONNS: "NAME req/s errors p99 runq_ms"
    local before report errors
    before=$(runq "$3")
    report=$(wrk -t2 -c"$4" -d"${secs}s" --latency --timeout 10s "http://127.0.0.1:$2/api/v1/alerts")
    errors=$(awk '/Socket errors/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' <<<"$report")
    echo "$1 $(awk '/Requests\/sec/ {print $2}' <<<"$report") ${errors:-0} $(pct 99% <<<"$report") $(($(runq "$3") - before))" >>"$results"
}

hold() { # hold PORT N: N keep-alive connections, one answer each, then idle
    exec python3 - "$@" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
for s in socks:
    data = b""
    while not data.endswith(b'{"status":"ok"}'):
        data += s.recv(4096)
print("ready", flush=True)
time.sleep(3600)
PY
}

for round in $(seq 1 "$rounds"); do
    echo "round $round" >&2
    for c in 64 1000 3000; do
        row "kpi|$c" "$kpi_port" "$kpi_pid" "$c"
        row "nginx|$c" "$nginx_port" "$nginx_pid" "$c"
    done
    hold "$kpi_port" 1000 >"$out/hold.out" &
    hold_pid=$!
    for _ in $(seq 1 200); do grep -q ready "$out/hold.out" 2>/dev/null && break; sleep 0.05; done
    row "kpi|8 + 1000 idle" "$kpi_port" "$kpi_pid" 8
    kill "$hold_pid"
    wait "$hold_pid" 2>/dev/null || true
done
kill "$kpi_pid" "$nginx_pid"
wait "$kpi_pid" || true

python3 - "$results" "$rounds" "$secs" "$(cat /proc/self/autogroup 2>/dev/null || echo none)" <<'PY'
import statistics, sys
path, rounds, secs, group = sys.argv[1:5]
rows = {}
for line in open(path):
    name, rate, errors, p99, runq = line.rsplit(None, 4)
    rows.setdefault(name, []).append((float(rate), int(errors), float(p99), int(runq)))
med = lambda xs: statistics.median(xs)
print(f"### wrk -t2 -d{secs}s, medians of {rounds} rounds, scheduling group {group}\n")
print("| server | connections | req/s | vs its 64 | socket errors (max) | p99 ms | server run-queue wait ms |")
print("|---|---|---|---|---|---|---|")
for name, ms in rows.items():
    server, conns = name.split("|")
    rate = med([m[0] for m in ms])
    base = rows.get(f"{server}|64")
    vs = f"{rate / med([m[0] for m in base]) * 100:.0f}%" if base and conns != "8 + 1000 idle" else ""
    print(f"| {server} | {conns} | {rate:,.0f} | {vs} | {max(m[1] for m in ms)} | "
          f"{med([m[2] for m in ms]):.2f} | {med([m[3] for m in ms]):,} |")
PY
