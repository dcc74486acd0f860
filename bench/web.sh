#!/usr/bin/env bash
# Server benchmark (issue 4): kpi serve vs nginx serving the very same JSON
# bytes as static files, with wrk on 127.0.0.1, alternating the two servers
# over ROUNDS rounds; medians of requests/s and p99 latency.
#
#   bash bench/web.sh [ROUNDS] [SECONDS]     (default 3 rounds of 5 s per measure)
#
# Data sets: the bundled examples (as of 2026-10-31) and the 1,000-team set of
# bench/analysis.sh (bench/out/analysis-1000, made by that script). Requests:
# /api/v1/alerts, /api/v1/teams/TEAM/drift, and both with If-None-Match (304).
# Needs: wrk, nginx (Debian nginx-light), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-5}
bash scripts/deps.sh build
for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
    command -v "$tool" >/dev/null || { echo "web.sh: $tool is needed" >&2; exit 3; }
done
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
out=$PWD/bench/out/web
mkdir -p "$out"
as_of=2026-10-31
kpi_port=18080
nginx_port=18081

examples=$out/examples-data
if [ ! -f "$examples/ledger" ]; then
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
big=$PWD/bench/out/analysis-1000
[ -f "$big/ledger" ] || bash bench/analysis.sh 1 >/dev/null

cat >"$out/nginx.conf" <<CONF
worker_processes 2;
pid $out/nginx.pid;
error_log $out/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    open_file_cache max=100;
    default_type application/json;
    server { listen 127.0.0.1:$nginx_port; root $out/root; }
}
CONF

results=$out/results.txt
: >"$results"

# bench NAME URL [ETAG]: wrk for $secs s at 64 connections; appends "NAME req/s p99_ms".
bench() {
    local name=$1 url=$2 etag=${3:-}
    local args=(-t2 -c64 -d"${secs}s" --latency)
    [ -n "$etag" ] && args+=(-H "If-None-Match: $etag")
    local report
    report=$(wrk "${args[@]}" "$url")
    local rps p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$report")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$report")
    echo "$name $rps $p99" >>"$results"
}

etag_of() { curl -sI "$1" | awk -F': ' 'tolower($1) == "etag" {gsub(/\r/, "", $2); print $2}'; }

peak_rss=""
for set in examples big; do
    data=$examples team=ventes-ara
    [ "$set" = big ] && data=$big team=t0042
    "$kpi" --data "$data" serve --listen "127.0.0.1:$kpi_port" --as-of "$as_of" >"$out/kpi.log" &
    kpi_pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$kpi_port/healthz" >/dev/null && break; sleep 0.1; done
    rm -rf "$out/root" && mkdir -p "$out/root/api/v1/teams/$team"
    curl -sf "http://127.0.0.1:$kpi_port/api/v1/alerts" >"$out/root/api/v1/alerts"
    curl -sf "http://127.0.0.1:$kpi_port/api/v1/teams/$team/drift" >"$out/root/api/v1/teams/$team/drift"
    nginx -c "$out/nginx.conf" -p "$out"
    sleep 0.5
    for path in /api/v1/alerts "/api/v1/teams/$team/drift"; do
        size=$(stat -c %s "$out/root$path")
        k_etag=$(etag_of "http://127.0.0.1:$kpi_port$path")
        n_etag=$(etag_of "http://127.0.0.1:$nginx_port$path")
        for round in $(seq 1 "$rounds"); do
            echo "$set $path round $round" >&2
            bench "$set|$path|$size|200|kpi" "http://127.0.0.1:$kpi_port$path"
            bench "$set|$path|$size|200|nginx" "http://127.0.0.1:$nginx_port$path"
            bench "$set|$path|$size|304|kpi" "http://127.0.0.1:$kpi_port$path" "$k_etag"
            bench "$set|$path|$size|304|nginx" "http://127.0.0.1:$nginx_port$path" "$n_etag"
        done
    done
    [ "$set" = big ] && peak_rss=$(awk '/VmHWM/ {print $2}' "/proc/$kpi_pid/status")
    kill "$(cat "$out/nginx.pid")"
    kill "$kpi_pid"
    wait "$kpi_pid" || true
done

python3 - "$results" "$rounds" "$secs" "$peak_rss" <<'PY'
import statistics, sys
path, rounds, secs, rss = sys.argv[1:5]
runs = {}
for line in open(path):
    key, rps, p99 = line.split()
    runs.setdefault(key, []).append((float(rps), float(p99)))
print(f"wrk -t2 -c64 -d{secs}s, medians of {rounds} alternating rounds\n")
print("| data | request | bytes | status | kpi req/s | nginx req/s | kpi/nginx | kpi p99 ms | nginx p99 ms |")
print("|---|---|---|---|---|---|---|---|---|")
seen = []
for key in runs:
    base = key.rsplit("|", 1)[0]
    if base in seen:
        continue
    seen.append(base)
    k, n = runs[base + "|kpi"], runs[base + "|nginx"]
    kr, nr = statistics.median(r for r, _ in k), statistics.median(r for r, _ in n)
    kp, np_ = statistics.median(p for _, p in k), statistics.median(p for _, p in n)
    data, req, size, status = base.split("|")
    print(f"| {data} | {req} | {size} | {status} | {kr:,.0f} | {nr:,.0f} | {kr/nr*100:.0f}% | {kp:.2f} | {np_:.2f} |")
print(f"\nPeak RSS of kpi serve with the 1,000-team data set: {int(rss)/1024:.0f} MB" if rss else "")
PY
