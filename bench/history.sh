#!/usr/bin/env bash
# History benchmark (issue 10): the cost of one commit against the size of
# the data directory, kpi import side by side in one run.
#
#   bash bench/history.sh [ROUNDS] [BIG_DAYS]     (default 3 rounds, 1000 days)
#
# Two data directories of 2,000 daily series (200 teams x 10 indicators):
# "small" holds 100 days (200,000 points), "big" BIG_DAYS days (2,000,000
# points for 1000). Both are made by `kpi import` of generated CSV files, one
# file of 100 days at a time (so the big one has BIG_DAYS/100 commits). Then,
# in turns, each round imports one more day for the 2,000 series into a copy
# of each directory (the commit the issue asks to cost what it changes), and
# times `kpi series --known-at` of the first commit and `kpi export` (the
# latest data). Prints one markdown table of medians.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
big_days=${2:-1000}
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
out=$PWD/bench/out/history
rm -rf "$out"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

# gen FILE FIRST_DAY DAYS: 2,000 daily series, DAYS days from FIRST_DAY (0 = 2020-01-01)
gen() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys, datetime
path, first, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d0 = datetime.date(2020, 1, 1)
with open(path, "w") as f:
    f.write("date,team,kpi,value\n")
    for t in range(200):
        for k in range(10):
            for d in range(first, first + days):
                f.write(f"{d0 + datetime.timedelta(days=d)},t{t:03d},k{k},{(t * 7 + k * 13 + d) % 997 + 0.5}\n")
PY
}

printf 'kpi,name,period\n' >"$out/ind.csv"
for k in $(seq 0 9); do printf 'k%d,K%d,day\n' "$k" "$k" >>"$out/ind.csv"; done
build() { # DIR DAYS
    "$kpi" --data "$1" import --quiet "$out/ind.csv"
    local d=0
    while [ "$d" -lt "$2" ]; do
        gen "$out/chunk.csv" "$d" 100
        "$kpi" --data "$1" import --quiet "$out/chunk.csv"
        d=$((d + 100))
    done
}
t0=$(date +%s.%N)
build "$out/small" 100
t1=$(date +%s.%N)
build "$out/big" "$big_days"
t2=$(date +%s.%N)
gen "$out/day-small.csv" 100 1
gen "$out/day-big.csv" "$big_days" 1

elapsed() { # NAME CMD...: seconds of CMD, appended to results
    local s e
    s=$(date +%s.%N)
    "${@:2}" >/dev/null
    e=$(date +%s.%N)
    echo "$1 $(echo "$e - $s" | bc)" >>"$out/results.txt"
}
: >"$out/results.txt"
for r in $(seq 1 "$rounds"); do
    for which in small big; do
        cp -a "$out/$which" "$out/$which-$r"
        elapsed "commit_$which" "$kpi" --data "$out/$which-$r" import --quiet "$out/day-$which.csv"
        elapsed "knownat_$which" "$kpi" --data "$out/$which-$r" series t007 k3 --known-at 2 \
            --format csv
        elapsed "export_$which" "$kpi" --data "$out/$which-$r" export
        rm -rf "$out/$which-$r"
    done
done
median() { grep "^$1 " "$out/results.txt" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pts_small=$((2000 * 100))
pts_big=$((2000 * big_days))
echo "2,000 daily series; small: $pts_small points, big: $pts_big points ($((big_days / 100)) commits); medians of $rounds rounds"
echo "building: small $(echo "$t1 - $t0" | bc) s, big $(echo "$t2 - $t1" | bc) s"
echo
echo "| measure | small | big | big / small |"
echo "| --- | --- | --- | --- |"
for m in commit knownat export; do
    s=$(median "${m}_small")
    b=$(median "${m}_big")
    echo "| $m: seconds | $s | $b | $(echo "scale=2; $b / $s" | bc) |"
done
echo "| kpi.db bytes | $(stat -c %s "$out/small/kpi.db") | $(stat -c %s "$out/big/kpi.db") | |"
