#!/usr/bin/env bash
# Peak RSS and time of one whole-company known_at= request on a running server.
# Usage: bench/known-at-all.sh DIR BACK RUNS BIN...
# For each run, each binary in turn: `BIN --data DIR serve` on a free port,
# GET /api/v1/drift?known_at=<latest - BACK> once after start (curl's total
# time), then the server's peak RSS (VmHWM) before and after the request.
# DIR must be a writable copy (the server writes DIR/points.cache).
set -euo pipefail
dir=$1 back=$2 runs=$3
shift 3
last=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"/kpi.db?mode=ro",uri=True).execute("select max(id) from commits").fetchone()[0])' "$dir")
at=$((last - back))
path="/api/v1/drift?known_at=$at"
echo "latest commit $last; GET $path"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for run in $(seq "$runs"); do
    for bin in "$@"; do
        "$bin" --data "$dir" serve --listen 127.0.0.1:0 >"$out" 2>&1 &
        pid=$!
        port=
        for _ in $(seq 600); do
            port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$out")
            [ -n "$port" ] && break
            sleep 0.5
        done
        [ -n "$port" ] || { echo "server did not start: $(cat "$out")" >&2; kill "$pid"; exit 1; }
        rss0=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
        res=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port$path")
        rss1=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
        echo "run $run $bin: HTTP ${res% *}, ${res#* } s, peak RSS $((rss0 / 1024)) MB after start, $((rss1 / 1024)) MB after the request"
        kill "$pid"
        wait "$pid" || true
    done
done
