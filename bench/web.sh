#!/usr/bin/env bash
# Server benchmark (issues 4 and 9): kpi serve against nginx serving the very
# same bytes as static files, with wrk on 127.0.0.1, alternating the two
# servers over ROUNDS rounds; medians of requests/s and p99 latency. Then, on
# kpi alone: many connections, and cheap requests beside expensive ones.
#
#   bash bench/web.sh [ROUNDS] [SECONDS]     (default 3 rounds of 5 s per measure)
#
# Data sets: the bundled examples (as of 2026-10-31), the 1,000-team set of
# bench/analysis.sh (bench/out/analysis-1000, made by that script) and a
# company of 100 teams x 8 indicators whose budget most teams miss, made here
# from bench/gen.py (its alerts document is the big one).
#   1. 200 and 304 of /api/v1/alerts and of one team's drift, kpi vs nginx;
#      for the company's alerts also gzip (Accept-Encoding: gzip) against
#      nginx gzip_static serving kpi's own gzip bytes as alerts.gz (the
#      script checks that both send the same bytes);
#   2. /api/v1/alerts of the examples at 64, 1,000 and 3,000 connections
#      (wrk -t2), with its socket errors; then a client at 8 connections
#      while 1,000 other connections are held open and idle (bench/web-conns.sh
#      measures these with a second client, pinned and shared, and each
#      side's CPU: its figures are those of docs/PERFORMANCE.md);
#   3. /healthz latency (wrk -c1) alone, while 4 clients ask PNGs of sizes
#      never asked before (every render misses the cache), and while 520
#      connections hold unfinished request heads; the time of
#      /api/v1/alerts at as_of values never asked before.
# Needs: wrk, nginx (Debian nginx-light), curl, python3. The server raises its
# own open-files limit; wrk needs one too: `ulimit -n` of at least 8192 here.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
rounds=${1:-3}
secs=${2:-5}
bash scripts/deps.sh build
bench_need web.sh wrk nginx curl python3
bench_files_limit web.sh
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
out=$PWD/bench/out/web
mkdir -p "$out"
kpi_port=18080
nginx_port=18081

examples=$out/examples-data
bench_examples_data "$kpi" "$examples"
big=$PWD/bench/out/analysis-1000
[ -f "$big/kpi.db" ] || [ -f "$big/ledger" ] || bash bench/analysis.sh 1 >/dev/null

# The company: gen.py's 100 teams, its first 8 indicators, and a budget 25 %
# above the actuals for k01 and k02 (off track, most also projected to miss).
company=$out/company-data
if [ ! -f "$company/kpi.db" ]; then
    gen=$out/company-gen
    python3 bench/gen.py "$gen" 100 >/dev/null
    python3 - "$gen" <<'PY'
import csv, os, sys
gen = sys.argv[1]
keep = lambda k: int(k[1:]) <= 8
def filtered(name, col):
    rows = list(csv.reader(open(os.path.join(gen, name))))
    return [rows[0]] + [r for r in rows[1:] if keep(r[col])]
def write(name, rows):
    csv.writer(open(os.path.join(gen, name), "w"), lineterminator="\n").writerows(rows)
write("k8-indicators.csv", filtered("indicators.csv", 0))
write("k8-long.csv", filtered("long.csv", 2))
budget, last = [], {}
for d, t, k, v in filtered("budget.csv", 2)[1:]:
    f = 1.25 if int(k[1:]) <= 2 else 1.0
    y, m = map(int, d.split("-"))
    budget.append([d, t, k, "%.2f" % (float(v) * f * (1 + ((y - 2022) * 12 + m - 9) * 0.004))])
    last[(t, k)] = (float(v), f)
budget += [["2026-12", t, k, "%.2f" % (v * f * 1.1 if f > 1 else v)] for (t, k), (v, f) in last.items()]
write("k8-budget.csv", [["date", "team", "kpi", "target"]] + budget)
PY
    "$kpi" --data "$company" import --quiet "$gen/teams.csv" "$gen/k8-indicators.csv" \
        "$gen/k8-long.csv" "$gen/k8-budget.csv"
fi

nginx_conf "$out/nginx.conf" "$out" "$nginx_port" "$out/root" "gzip_static on"

results=$out/results.txt
: >"$results"

# wrk_run CONNS URL [HEADER...]: the wrk report.
wrk_run() {
    local conns=$1 url=$2
    shift 2
    local args=(-t2 -c"$conns" -d"${secs}s" --latency --timeout 10s)
    for h in "$@"; do args+=(-H "$h"); done
    wrk "${args[@]}" "$url"
}

# bench NAME URL [HEADER...]: wrk at 64 connections; appends "NAME req/s p99_ms".
bench() {
    local name=$1 url=$2
    shift 2
    local report
    report=$(wrk_run 64 "$url" "$@")
    echo "$name $(awk '/Requests\/sec/ {print $2}' <<<"$report") $(bench_pct 99% <<<"$report")" >>"$results"
}

etag_of() { curl -sI "${@:2}" "$1" | awk -F': ' 'tolower($1) == "etag" {gsub(/\r/, "", $2); print $2}'; }

start_kpi() { kpi_start "$kpi" "$1" "$kpi_port" "$out/kpi.log" "${@:2}"; }
stop_kpi() { kpi_stop; }

# ------------------------------------------------------- 1. kpi vs nginx

gz="Accept-Encoding: gzip"
peak_rss=""
for set in examples big company; do
    data=$examples team=ventes-ara
    [ "$set" = big ] && data=$big team=t0042
    [ "$set" = company ] && data=$company team=t0042
    start_kpi "$data"
    rm -rf "$out/root" && mkdir -p "$out/root/api/v1/teams/$team"
    paths=(/api/v1/alerts "/api/v1/teams/$team/drift")
    [ "$set" = company ] && paths=(/api/v1/alerts)
    for path in "${paths[@]}"; do
        curl -sf "http://127.0.0.1:$kpi_port$path" >"$out/root$path"
        if [ "$set" = company ]; then # kpi's own gzip bytes, for gzip_static
            curl -sf -H "$gz" "http://127.0.0.1:$kpi_port$path" >"$out/root$path.gz"
            touch -r "$out/root$path" "$out/root$path.gz"
        fi
    done
    nginx_start "$out/nginx.conf" "$out"
    for path in "${paths[@]}"; do
        size=$(stat -c %s "$out/root$path")
        k_etag=$(etag_of "http://127.0.0.1:$kpi_port$path")
        n_etag=$(etag_of "http://127.0.0.1:$nginx_port$path")
        encodings=(identity)
        if [ "$set" = company ]; then
            encodings+=(gzip)
            zsize=$(stat -c %s "$out/root$path.gz")
            kz_etag=$(etag_of "http://127.0.0.1:$kpi_port$path" -H "$gz")
            nz_etag=$(etag_of "http://127.0.0.1:$nginx_port$path" -H "$gz")
            for server in $kpi_port $nginx_port; do # the same bytes from both
                got=$(curl -sf -H "$gz" "http://127.0.0.1:$server$path" | cmp - "$out/root$path.gz" && echo same)
                [ "$got" = same ] || { echo "web.sh: port $server sends other gzip bytes" >&2; exit 1; }
            done
        fi
        for round in $(seq 1 "$rounds"); do
            echo "$set $path round $round" >&2
            bench "$set|$path|$size|200|kpi" "http://127.0.0.1:$kpi_port$path"
            bench "$set|$path|$size|200|nginx" "http://127.0.0.1:$nginx_port$path"
            bench "$set|$path|$size|304|kpi" "http://127.0.0.1:$kpi_port$path" "If-None-Match: $k_etag"
            bench "$set|$path|$size|304|nginx" "http://127.0.0.1:$nginx_port$path" "If-None-Match: $n_etag"
            if [ "${#encodings[@]}" = 2 ]; then
                bench "$set|$path gzip|$zsize|200|kpi" "http://127.0.0.1:$kpi_port$path" "$gz"
                bench "$set|$path gzip|$zsize|200|nginx" "http://127.0.0.1:$nginx_port$path" "$gz"
                bench "$set|$path gzip|$zsize|304|kpi" "http://127.0.0.1:$kpi_port$path" "$gz" "If-None-Match: $kz_etag"
                bench "$set|$path gzip|$zsize|304|nginx" "http://127.0.0.1:$nginx_port$path" "$gz" "If-None-Match: $nz_etag"
            fi
        done
    done
    [ "$set" = big ] && peak_rss=$(awk '/VmHWM/ {print $2}' "/proc/$kpi_pid/status")
    nginx_stop
    stop_kpi
done

# ------------------------------------------------ 2. many connections

# with_held N MODE CMD...: run CMD while N connections to kpi are held
# (bench_hold: MODE idle or half).
with_held() { bench_with_held "$kpi_port" "$1" "$2" "$out/hold.out" "${@:3}"; }

conns_results=$out/connections.txt
: >"$conns_results"
conn_row() { # conn_row NAME PORT CONNS: "NAME req/s errors p99"
    local report
    report=$(wrk_run "$3" "http://127.0.0.1:$2/api/v1/alerts")
    echo "$1 $(bench_rate <<<"$report") $(bench_errors <<<"$report") $(bench_pct 99% <<<"$report")" >>"$conns_results"
}
# nginx serves the same alerts document beside, as a control: what wrk and
# this machine allow at each number of connections.
conn_port=18082
nginx_conf "$out/nginx-conn.conf" "$out" "$conn_port" "$out/root-conn"
for threads in 2 1; do
    start_kpi "$examples" --threads "$threads"
    rm -rf "$out/root-conn" && mkdir -p "$out/root-conn/api/v1"
    curl -sf "http://127.0.0.1:$kpi_port/api/v1/alerts" >"$out/root-conn/api/v1/alerts"
    [ "$threads" = 2 ] && nginx_start "$out/nginx-conn.conf" "$out"
    for round in $(seq 1 "$rounds"); do
        echo "connections threads $threads round $round" >&2
        for c in 64 1000 3000; do
            conn_row "kpi t$threads|$c" "$kpi_port" "$c"
            [ "$threads" = 2 ] && conn_row "nginx|$c" "$conn_port" "$c"
        done
        with_held 1000 idle conn_row "kpi t$threads|8 + 1000 idle" "$kpi_port" 8
    done
    stop_kpi
done
nginx_stop

# ------------------------------------------------------ 3. reliability

rel_results=$out/reliability.txt
: >"$rel_results"
health_row() { # health_row NAME: /healthz at one connection
    local report
    report=$(wrk -t1 -c1 -d"${secs}s" --latency "http://127.0.0.1:$kpi_port/healthz")
    echo "$1 $(bench_pct 50% <<<"$report") $(bench_pct 99% <<<"$report") $(awk '/Requests\/sec/ {print $2}' <<<"$report")" >>"$rel_results"
}
cat >"$out/graphs.lua" <<'LUA'
-- a PNG of a size never asked before at every request
local n = 0
request = function()
    n = n + 1
    local w = 200 + (n * 7919 + math.random(0, 1000)) % 1800
    local h = 100 + (n * 104729 + math.random(0, 1000)) % 900
    return wrk.format("GET", "/api/v1/teams/ventes-ara/kpis/ca/graph.png?width=" .. w .. "&height=" .. h)
end
LUA
start_kpi "$examples"
for round in $(seq 1 "$rounds"); do
    echo "reliability round $round" >&2
    health_row "alone"
    wrk -t2 -c4 -d"$((secs + 2))s" -s "$out/graphs.lua" "http://127.0.0.1:$kpi_port/" >"$out/graphs.out" &
    graphs_pid=$!
    sleep 1
    health_row "4 clients rendering PNGs"
    wait "$graphs_pid"
    echo "graphs $(awk '/Requests\/sec/ {print $2}' "$out/graphs.out") $(awk '/Non-2xx/ {print $5}' "$out/graphs.out")" >>"$rel_results"
    with_held 520 half health_row "520 unfinished request heads"
done
for day in 2199-12-31 2150-06-30 2100-01-01 2199-11-30 2120-02-29; do
    echo "as_of $day $(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$kpi_port/api/v1/alerts?as_of=$day")" >>"$rel_results"
done
echo "as_of 9999-12-31 $(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$kpi_port/api/v1/alerts?as_of=9999-12-31")" >>"$rel_results"
stop_kpi

# --------------------------------------------------------------- tables

python3 - "$results" "$conns_results" "$rel_results" "$rounds" "$secs" "$peak_rss" <<'PY'
import statistics, sys
path, conns, rel, rounds, secs, rss = sys.argv[1:7]
med = statistics.median
runs = {}
for line in open(path):
    key, rps, p99 = line.rstrip("\n").rsplit(" ", 2)
    runs.setdefault(key, []).append((float(rps), float(p99)))
print(f"### kpi vs nginx: wrk -t2 -c64 -d{secs}s, medians of {rounds} alternating rounds\n")
print("| data | request | body bytes | status | kpi req/s | nginx req/s | kpi/nginx | kpi p99 ms | nginx p99 ms |")
print("|---|---|---|---|---|---|---|---|---|")
seen = []
for key in runs:
    base = key.rsplit("|", 1)[0]
    if base in seen:
        continue
    seen.append(base)
    k, n = runs[base + "|kpi"], runs[base + "|nginx"]
    kr, nr = med(r for r, _ in k), med(r for r, _ in n)
    kp, np_ = med(p for _, p in k), med(p for _, p in n)
    data, req, size, status = base.split("|")
    print(f"| {data} | {req} | {size} | {status} | {kr:,.0f} | {nr:,.0f} | {kr/nr*100:.0f}% | {kp:.2f} | {np_:.2f} |")
if rss:
    print(f"\nPeak RSS of kpi serve with the 1,000-team data set: {int(rss)/1024:.0f} MB")

rows = {}
for line in open(conns):
    name, rest = line.split("|", 1)
    label, rps, errors, p99 = rest.rsplit(" ", 3)
    rows.setdefault((name, label), []).append((float(rps), int(errors), float(p99)))
print(f"\n### Connections: /api/v1/alerts of the examples, wrk -t2 -d{secs}s, medians of {rounds} rounds\n")
print("| server | connections | req/s | vs its 64 | socket errors (max) | p99 ms |")
print("|---|---|---|---|---|---|")
for (name, label), v in rows.items():
    base = med(r for r, _, _ in rows[(name, "64")])
    rps = med(r for r, _, _ in v)
    server = name.replace("kpi t", "kpi, --threads ")
    print(f"| {server} | {label} | {rps:,.0f} | {rps/base*100:.0f}% | {max(e for _, e, _ in v)} | {med(p for _, _, p in v):.2f} |")

health, other = {}, []
for line in open(rel):
    if line.startswith(("as_of", "graphs")):
        other.append(line.split())
        continue
    name, p50, p99, rps = line.rsplit(" ", 3)
    health.setdefault(name, []).append((float(p50), float(p99), float(rps)))
print(f"\n### Reliability: /healthz at one connection (wrk -t1 -c1 -d{secs}s), medians of {rounds} rounds\n")
print("| while | p50 ms | p99 ms | req/s |")
print("|---|---|---|---|")
for name, v in health.items():
    print(f"| {name} | {med(a for a, _, _ in v):.2f} | {med(b for _, b, _ in v):.2f} | {med(c for _, _, c in v):,.0f} |")
for f in other:
    if f[0] == "graphs":
        print(f"\nPNG clients: {f[1]} req/s, {f[2] if len(f) > 2 else 0} answers that were not 200 (503 busy)")
print("\n| GET /api/v1/alerts?as_of= (never asked before) | status | seconds |")
print("|---|---|---|")
for f in other:
    if f[0] == "as_of":
        print(f"| {f[1]} | {f[2]} | {f[3]} |")
PY
