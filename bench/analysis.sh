#!/usr/bin/env bash
# Analysis benchmark (issue 3): `kpi drift` (all teams), `kpi alerts` and
# `kpi drift TEAM`, each a fresh process (a cold start: load the data,
# prepare the analysis, answer), on the import benchmark's data set arranged
# as a hierarchy (10 divisions of TEAMS/10 teams under one company root), with
# its budget of targets, for 100, 300 and 1000 teams.
#
#   bash bench/analysis.sh [RUNS]        (default 7 runs per measure; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
out=$PWD/bench/out
as_of=2026-10-31

# median_ms CMD...: run CMD $runs times, print the median wall time in ms.
median_ms() {
    local times=()
    for _ in $(seq 1 "$runs"); do
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000)))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

printf '| teams | series | points | kpi drift (all) ms | kpi alerts ms | kpi drift TEAM ms | alerts |\n'
printf '|---|---|---|---|---|---|---|\n'
for teams in 100 300 1000; do
    gen=$out/gen-$teams
    [ -f "$gen/budget.csv" ] || python3 bench/gen.py "$gen" "$teams" >/dev/null
    data=$out/analysis-$teams
    # imported once and kept (the directory holds DIR/kpi.db since issue 10;
    # the marker says the import finished)
    if [ ! -f "$data.done" ]; then
        rm -rf "$data"
        "$kpi" --data "$data" import --quiet "$gen/teams.csv" "$gen/indicators.csv" \
            "$gen/long.csv" "$gen/budget.csv" >&2
        touch "$data.done"
    fi
    drift_all=$(median_ms "$kpi" --data "$data" drift --as-of "$as_of" --format json)
    alerts=$(median_ms "$kpi" --data "$data" alerts --as-of "$as_of" --format json)
    drift_one=$(median_ms "$kpi" --data "$data" drift t0042 --as-of "$as_of" --format json)
    count=$("$kpi" --data "$data" alerts --as-of "$as_of" --format csv | tail -n +2 | wc -l)
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$teams" "$((teams * 20))" \
        "$((teams * 20 * 50))" "$drift_all" "$alerts" "$drift_one" "$count"
done
