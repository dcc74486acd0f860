#!/usr/bin/env bash
# Import benchmark (issue 2), kpi side by side with the rrdtool CLI alone.
#
#   bash bench/import.sh [ROUNDS] [TEAMS]       (default 3 rounds, 1000 teams)
#
# Builds kpi (release), generates the data set with bench/gen.py into
# bench/out/, then for each round, alternating the two tools:
#   load    kpi import of TEAMS x 20 indicators x 50 months (1,000,000 rows for
#           1000 teams) into an empty data directory, vs `rrdtool -` fed one
#           create (kpi's RRA layout) and one update line per series;
#   month   kpi import of one more month for every series, vs `rrdtool -`
#           updating the same points in place (seconds and bytes written);
#   dry-run kpi import --dry-run of the big file, vs `wc -l` and a bare
#           libcsv pass (bench/csv_bare.c), each timed alone, kpi and the
#           bare pass back to back as pairs; and the bare pass over the two
#           halves of the file on two threads (what a second vCPU gives).
# With KPI_BEFORE=/path/to/an/older/kpi, each round also times that binary's
# load and month (into directories of its own, after rrdtool's), and the
# dry-run pairs time it beside the same bare pass (before/after in one run). Every round
# also dry-runs long_forms.csv (bench/forms.py: the same rows as a French
# finance export writes them, ';', month names, "1 143,00 €", accountants'
# negatives) against the bare pass over that file: what the new forms cost.
# Prints the load average at the start and the end, then one markdown table
# of medians (seconds, CPU seconds, minor page faults), ready for
# docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
teams=${2:-1000}
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
csv_bare=$PWD/build/release/csv_bare
out=$PWD/bench/out
gen=$out/gen-$teams
if [ ! -f "$gen/rrd_next.txt" ]; then
    python3 bench/gen.py "$gen" "$teams"
fi
if [ ! -f "$gen/long_forms.csv" ]; then
    python3 bench/forms.py "$gen/long.csv" "$gen/long_forms.csv"
fi
before=${KPI_BEFORE:-}
rows=$(($(wc -l <"$gen/long.csv") - 1))
bytes=$(stat -c %s "$gen/long.csv")

# measure NAME CMD...: run CMD under /usr/bin/time in a shell that reports its
# (waited-for children's) write_bytes; appends "NAME seconds rss_kb bytes
# user_s sys_s minor_faults".
results=$out/results-$teams.txt
: >"$results"
measure() {
    local name=$1
    shift
    local tf
    tf=$(mktemp)
    /usr/bin/time -f "%e %M %U %S %R" -o "$tf" bash -c '"$@" >/dev/null; grep ^write_bytes /proc/$$/io' \
        _ "$@" >"$tf.io"
    read -r sec rss user sys faults <"$tf"
    echo "$name $sec $rss $(awk '{print $2}' "$tf.io") $user $sys $faults" >>"$results"
    rm -f "$tf" "$tf.io"
}

# Every round writes into directories of its own, and all of them are
# deleted only when the script ends: on ext4 (this machine's file system, no
# journal), creating an inode within a minute (six, while the inode table is
# not written back) of a mass deletion scans every recently deleted inode of
# its group, once per new file — deleting the previous round's 40,000 files
# just before a round made the load 3 to 5 times slower, for both tools.
scratch=$out/rounds-$teams
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT
rm -rf "$scratch"
mkdir -p "$scratch"
sync
# elapsed NAME CMD...: the command alone, timed to the microsecond (no
# wrapper: the dry runs last a tenth of a second, and a shell plus time(1)
# around them would add ~15 ms to kpi and its baselines alike, pulling the
# ratio towards 1); appends "NAME seconds 0 0".
elapsed() {
    local name=$1 t0 t1
    shift
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    echo "$name $(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.6f", d / 1e9}') 0 0" >>"$results"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq 1 "$rounds"); do
    echo "round $round/$rounds" >&2
    data=$scratch/kpi-$round
    rrd=$scratch/rrdtool-$round
    (cd "$gen" && find rrd -type d) | (mkdir -p "$rrd" && cd "$rrd" && xargs mkdir -p)
    "$kpi" --data "$data" import --quiet "$gen/teams.csv" "$gen/indicators.csv"
    sync
    measure kpi_load "$kpi" --data "$data" import --quiet "$gen/long.csv"
    sync
    (cd "$rrd" && measure rrdtool_load rrdtool - <"$gen/rrd_load.txt")
    sync
    if [ -n "$before" ]; then
        # the same load and month with the older binary, in the same round
        "$before" --data "$data.before" import --quiet "$gen/teams.csv" "$gen/indicators.csv"
        sync
        measure before_load "$before" --data "$data.before" import --quiet "$gen/long.csv"
        sync
    fi
    measure kpi_month "$kpi" --data "$data" import --quiet "$gen/next.csv"
    sync
    (cd "$rrd" && measure rrdtool_month rrdtool - <"$gen/rrd_next.txt")
    sync
    if [ -n "$before" ]; then
        measure before_month "$before" --data "$data.before" import --quiet "$gen/next.csv"
        sync
    fi
    empty=$scratch/empty-$round
    # Short single-thread runs on a noisy machine: three of each per round,
    # on the same vCPU (the round's; the two vCPUs' speeds differ from
    # minute to minute, by up to 1.75x), so that kpi and its baselines meet
    # the same conditions. The two-thread pass runs on both.
    cpu="taskset -c $((round % 2))"
    # A first pair after 4 s idle: the memory kpi stages its points in is
    # then cold (this VM's guest hands free huge pages back to the host,
    # which has to provide them again: up to ~2.7 ms per 2 MiB, see
    # bench/page_faults.c), as for a user's single dry run.
    sleep 4
    elapsed kpi_cold $cpu "$kpi" --data "$empty" import --quiet --dry-run "$gen/long.csv"
    elapsed bare_cold $cpu "$csv_bare" "$gen/long.csv"
    # Then kpi and the bare pass back to back, in turns first, as pairs: the
    # machine's speed changes from minute to minute, so the ratio that
    # means something is each pair's (the summary gives their median).
    for rep in 1 2 3; do
        if [ $((rep % 2)) -eq 1 ]; then
            elapsed kpi_dryrun $cpu "$kpi" --data "$empty" import --quiet --dry-run "$gen/long.csv"
            elapsed csv_bare $cpu "$csv_bare" "$gen/long.csv"
        else
            elapsed csv_bare $cpu "$csv_bare" "$gen/long.csv"
            elapsed kpi_dryrun $cpu "$kpi" --data "$empty" import --quiet --dry-run "$gen/long.csv"
        fi
        elapsed wc_l $cpu wc -l "$gen/long.csv"
        elapsed csv_halves "$csv_bare" --halves "$gen/long.csv"
        if [ -n "$before" ]; then
            elapsed before_bare $cpu "$csv_bare" "$gen/long.csv"
            elapsed before_dryrun $cpu "$before" --data "$empty" import --quiet --dry-run \
                "$gen/long.csv"
            elapsed after_dryrun $cpu "$kpi" --data "$empty" import --quiet --dry-run \
                "$gen/long.csv"
            elapsed after_bare $cpu "$csv_bare" "$gen/long.csv"
        fi
        elapsed kpi_forms $cpu "$kpi" --data "$empty" import --quiet --dry-run \
            "$gen/long_forms.csv"
        elapsed bare_forms $cpu "$csv_bare" "$gen/long_forms.csv"
    done
done

python3 - "$results" "$rows" "$bytes" "$rounds" "$(stat -c %s "$gen/long_forms.csv")" \
    "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
path, rows, size, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"load average (1, 5, 15 min) at the start: {sys.argv[6]}; at the end: {sys.argv[7]}\n")
runs = {}
cpu = {}
faults = {}
for line in open(path):
    name, sec, rss, wb, *us = line.split()
    runs.setdefault(name, []).append((float(sec), int(rss), int(wb)))
    if us:
        cpu.setdefault(name, []).append((float(us[0]), float(us[1])))
        faults.setdefault(name, []).append(int(us[2]))
med = {k: (statistics.median(s for s, _, _ in v), statistics.median(r for _, r, _ in v),
           statistics.median(w for _, _, w in v)) for k, v in runs.items()}
def row(*cells):
    print("| " + " | ".join(cells) + " |")
print(f"{rows:,} rows, {size/1e6:.1f} MB; medians of {rounds} rounds\n")
row("measure", "kpi", "baseline", "ratio")
row("---", "---", "---", "---")
k, b = med["kpi_load"], med["rrdtool_load"]
row("load: seconds", f"{k[0]:.2f}", f"{b[0]:.2f} (rrdtool -)", f"{b[0]/k[0]:.2f}x faster")
row("load: rows/s", f"{rows/k[0]:,.0f}", f"{rows/b[0]:,.0f}", "")
row("load: peak RSS", f"{k[1]/1024:.0f} MB", f"{b[1]/1024:.0f} MB", "")
k, b = med["kpi_month"], med["rrdtool_month"]
row("month: seconds", f"{k[0]:.2f}", f"{b[0]:.2f} (rrdtool -)", f"{k[0]/b[0]:.2f}x its time")
row("month: bytes written", f"{k[2]/1e6:.1f} MB", f"{b[2]/1e6:.1f} MB", "")
def cpu_cell(name):
    u = statistics.median(x for x, _ in cpu[name])
    s = statistics.median(y for _, y in cpu[name])
    return f"{u + s:.2f} ({u:.2f} user, {s:.2f} sys)"
for what in ("load", "month"):
    row(f"{what}: CPU seconds", cpu_cell(f"kpi_{what}"), cpu_cell(f"rrdtool_{what}"), "")
    row(f"{what}: minor page faults", f"{statistics.median(faults[f'kpi_{what}']):,.0f}",
        f"{statistics.median(faults[f'rrdtool_{what}']):,.0f}", "")
    if f"before_{what}" in runs:
        a, b, r = med[f"kpi_{what}"][0], med[f"before_{what}"][0], med[f"rrdtool_{what}"][0]
        row(f"{what} before (KPI_BEFORE): seconds", f"after {a:.2f}, before {b:.2f}",
            f"{r:.2f} (rrdtool -)", f"after {a/r:.2f}x, before {b/r:.2f}x rrdtool's time")
        row(f"{what} before: CPU seconds", cpu_cell(f"before_{what}"), "", "")
        row(f"{what} before: minor page faults",
            f"{statistics.median(faults[f'before_{what}']):,.0f}", "", "")
k, w, c, h = med["kpi_dryrun"], med["wc_l"], med["csv_bare"], med["csv_halves"]
mbs = lambda s: size / 1e6 / max(s, 1e-3)
row("dry-run: MB/s", f"{mbs(k[0]):.0f}", f"wc -l {mbs(w[0]):.0f}, bare libcsv {mbs(c[0]):.0f}",
    f"{mbs(k[0])/mbs(c[0])*100:.0f}% of libcsv")
def pairs_row(label, kpi_runs, bare_runs):
    pairs = sorted(b / k for (k, _, _), (b, _, _) in zip(kpi_runs, bare_runs))
    row(label, "", f"{len(pairs)} pairs, {pairs[0]*100:.0f}% to {pairs[-1]*100:.0f}%",
        f"median {statistics.median(pairs)*100:.0f}% of libcsv")
pairs_row("dry-run: pairs back to back", runs["kpi_dryrun"], runs["csv_bare"])
pairs_row("dry-run: cold pairs (after 4 s idle)", runs["kpi_cold"], runs["bare_cold"])
if "before_dryrun" in runs:
    pairs_row("dry-run before (KPI_BEFORE): pairs", runs["before_dryrun"], runs["before_bare"])
    pairs_row("dry-run after, same turns: pairs", runs["after_dryrun"], runs["after_bare"])
    ba = sorted(b / a for (a, _, _), (b, _, _) in zip(runs["after_dryrun"], runs["before_dryrun"]))
    row("dry-run after / before", f"{med['after_dryrun'][0]*1e3:.0f} ms",
        f"{med['before_dryrun'][0]*1e3:.0f} ms", f"median pair {statistics.median(ba):.2f}x as fast")
kf, bf = med["kpi_forms"], med["bare_forms"]
fsize = int(sys.argv[5])
row("dry-run, finance forms file: MB/s", f"{fsize/1e6/kf[0]:.0f}",
    f"bare libcsv {fsize/1e6/bf[0]:.0f}", f"{bf[0]/kf[0]*100:.0f}% of libcsv")
row("finance forms: ns per row", f"{kf[0]/rows*1e9:.0f}", f"plain file {k[0]/rows*1e9:.0f}",
    f"+{(kf[0]-k[0])/rows*1e9:.0f} ns per row")
pairs_row("finance forms: pairs", runs["kpi_forms"], runs["bare_forms"])
row("libcsv on two threads: MB/s", "", f"{mbs(h[0]):.0f} (halves of the file)",
    f"{c[0]/h[0]:.2f}x one thread")
PY
