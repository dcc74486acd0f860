#!/usr/bin/env bash
# Access benchmark (issue 11): what tokens, HTTPS and uploads cost.
#   1. /api/v1/alerts polling, 200 and 304 (If-None-Match), without tokens
#      and with a read token (wrk -t2 -c64), the two servers in turns;
#   2. the same polling over HTTPS with keep-alive against plain HTTP;
#   3. POST /api/v1/imports of the 1 M-row file of bench/import.sh against
#      `kpi import` of the same file, each into a fresh data directory
#      holding the catalog, in turns.
#   bash bench/access.sh [ROUNDS] [SECONDS]     (default 3 rounds, 5 s)
# Needs wrk, curl, openssl, python3; bench/out/gen-1000/long.csv (made by
# bench/import.sh). Prints medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-5}
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
out=$PWD/bench/out/access
gen=$PWD/bench/out/gen-1000
rm -rf "$out"
mkdir -p "$out"
ex=examples
make_data() {
    "$kpi" --data "$1" import --quiet --kind teams $ex/teams.csv
    "$kpi" --data "$1" import --quiet --kind indicators $ex/indicators.csv
    "$kpi" --data "$1" import --quiet --kind targets $ex/budget.csv
    "$kpi" --data "$1" import --quiet --encoding cp1252 $ex/finance.csv
    "$kpi" --data "$1" import --quiet $ex/operations.csv
}
make_data "$out/open"
cp -r "$out/open" "$out/auth"
token=$("$kpi" --data "$out/auth" token add bench --role read)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$out/key.pem" -out "$out/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
pids=()
serve() { # DIR PORT [options]
    local d=$1 p=$2
    shift 2
    "$kpi" --data "$d" serve --listen 127.0.0.1:"$p" --as-of 2026-10-31 "$@" >/dev/null 2>&1 &
    pids+=($!)
}
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
serve "$out/open" 18601
serve "$out/auth" 18602
serve "$out/open" 18603 --tls-cert "$out/cert.pem" --tls-key "$out/key.pem"
sleep 1
etag=$(curl -s -D - -o /dev/null http://127.0.0.1:18601/api/v1/alerts | tr -d '\r' |
    awk -F': ' 'tolower($1)=="etag"{print $2}')
rps() { # URL [header]...
    local url=$1
    shift
    local args=()
    for h in "$@"; do args+=(-H "$h"); done
    wrk -t2 -c64 -d"${secs}s" "${args[@]}" "$url" | awk '/Requests\/sec/{print $2}'
}
declare -A runs
for ((r = 0; r < rounds; r++)); do
    runs[open200]+=" $(rps http://127.0.0.1:18601/api/v1/alerts)"
    runs[auth200]+=" $(rps http://127.0.0.1:18602/api/v1/alerts "Authorization: Bearer $token")"
    runs[open304]+=" $(rps http://127.0.0.1:18601/api/v1/alerts "If-None-Match: $etag")"
    runs[auth304]+=" $(rps http://127.0.0.1:18602/api/v1/alerts "Authorization: Bearer $token" "If-None-Match: $etag")"
    runs[https200]+=" $(rps https://127.0.0.1:18603/api/v1/alerts)"
    runs[https304]+=" $(rps https://127.0.0.1:18603/api/v1/alerts "If-None-Match: $etag")"
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
for k in open200 auth200 open304 auth304 https200 https304; do
    printf '%s %s (runs:%s)\n' "$k" "$(echo "${runs[$k]}" | median)" "${runs[$k]}"
done | tee "$out/polling.txt"

# 3. upload vs kpi import of the 1 M-row file
if [ -f "$gen/long.csv" ]; then
    rows=$(($(wc -l <"$gen/long.csv") - 1))
    up=() imp=()
    for ((r = 0; r < rounds; r++)); do
        for side in import upload; do
            d=$out/load-$side-$r
            rm -rf "$d"
            "$kpi" --data "$d" import --quiet "$gen/teams.csv" "$gen/indicators.csv"
            if [ $side = import ]; then
                s=$(date +%s.%N)
                "$kpi" --data "$d" import --quiet "$gen/long.csv"
                imp+=("$(echo "$(date +%s.%N) - $s" | bc)")
            else
                w=$("$kpi" --data "$d" token add up --role write)
                "$kpi" --data "$d" serve --listen 127.0.0.1:18604 >/dev/null 2>&1 &
                spid=$!
                sleep 0.5
                s=$(date +%s.%N)
                code=$(curl -s -o "$out/upload.json" -w '%{http_code}' -H "Authorization: Bearer $w" \
                    --data-binary @"$gen/long.csv" http://127.0.0.1:18604/api/v1/imports)
                up+=("$(echo "$(date +%s.%N) - $s" | bc)")
                kill $spid
                wait $spid 2>/dev/null || true
                [ "$code" = 200 ] || { echo "upload: $code $(cat "$out/upload.json")" >&2; exit 2; }
            fi
            rm -rf "$d"
        done
    done
    mi=$(printf '%s\n' "${imp[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    mu=$(printf '%s\n' "${up[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    printf 'import_1M %s s (runs: %s)\nupload_1M %s s (runs: %s)\nrows %s ratio %s\n' \
        "$mi" "${imp[*]}" "$mu" "${up[*]}" "$rows" "$(echo "scale=3; $mu / $mi" | bc)" |
        tee "$out/upload.txt"
fi
