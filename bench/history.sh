#!/usr/bin/env bash
# History benchmark (issue 10): the cost of one commit against the size of
# the data directory, kpi import side by side in one run.
#
#   bash bench/history.sh [ROUNDS] [BIG_DAYS]     (default 3 rounds, 10000 days)
#   bash bench/history.sh startup [ROUNDS] [BIG_DAYS]
#   KPI_HISTORY_ONLY=serve bash bench/history.sh ...  (the commit and kpi serve only)
#   KPI_HISTORY_KPI=/path/to/kpi bash bench/history.sh ...  (another binary: before/after)
#
# Two data directories of 2,000 daily series (200 teams x 10 indicators),
# both ending on 2020-04-09: "small" holds 100 days (200,000 points), "big"
# BIG_DAYS days (20,000,000 points for 10000). Both are written by
# bench/history_gen.c through the store API (commits, hash chain and RRD
# files as kpi writes them): the days but the last ones by 200 series per
# commit, then one commit per day for the 2,000 series (50 for small, 100 for
# big: history to read). They are cached in bench/out/history-cache (or
# $KPI_HISTORY_CACHE) between runs, and built again only when missing.
# A cache written by an older database format (format 2 before the time
# buckets) would be converted by the first commit into each copy, which would
# then measure the conversion: convert copies of it once with
# `build/release/history_gen --convert DIR` into a cache of their own (the
# format 2 cache stays for the older binary, KPI_HISTORY_KPI).
# Then, in turns, each round copies each directory and imports one more day
# (2020-04-10) for the 2,000 series into it (the commit the issue asks to
# cost what it changes: the same CSV file for both), and times
# `kpi series --known-at` of the commit 100 commits back (50 for small) and
# `kpi export` (the latest data). The commit is made while `kpi serve` runs
# on the copy: its start-up to the first answer, how long after the commit's
# end an answer reflects it (the take-up, with the CPU time the server's
# threads spent meanwhile), and its peak RSS. Wall seconds and the process's CPU seconds
# (user + system: this machine is shared, the wall clock waits for other
# processes). Prints one markdown table of medians. The server starts from
# the points cache (DIR/points.cache, store/pcache.c), written once per run
# by a first server on the first copy and copied beside each later copy's
# database.
#
# Then, in the same rounds, a burst: BURST (default 10) consecutive daily
# commits (2020-04-10, -11, ...) by `kpi import`, no server, into another
# fresh copy of each directory, then a forced checkpoint (`sqlite3 kpi.db
# 'PRAGMA wal_checkpoint(TRUNCATE)'`): the cost per commit amortized over the
# burst, every checkpoint that falls inside it (a commit that takes the WAL
# past its bound makes one) and the one left pending at its end included.
#
# `startup`: the start-up of `kpi serve` on one copy of "big" only, in turns
# per round: from the database (no cache, none written: the load before the
# cache), from the cache of the latest commit, and from the cache of the
# commit before (one day of 2,000 series to take up); the first start, which
# writes the cache in the background, is timed once (first answer, and the
# cache written). Then the whole-directory CLI commands (drift, alerts,
# export) with and without the cache. Wall, the process's CPU seconds at its
# first answer, and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=commits
if [ "${1:-}" = startup ]; then
    mode=startup
    shift
fi
rounds=${1:-3}
big_days=${2:-10000}
only=${KPI_HISTORY_ONLY:-}
burst=${KPI_HISTORY_BURST:-10}
bash scripts/build.sh release >/dev/null
kpi=${KPI_HISTORY_KPI:-$PWD/build/release/kpi}
gen=$PWD/build/release/history_gen
cache=${KPI_HISTORY_CACHE:-$PWD/bench/out/history-cache}
out=$PWD/bench/out/history
rm -rf "$out"
mkdir -p "$out" "$cache"
trap 'rm -rf "$out"' EXIT
last_day=2020-04-09

# make NAME DAYS TAIL: the cached directory, built when missing
make_dir() {
    local dir=$cache/$1-$2
    if [ ! -f "$dir.done" ]; then
        rm -rf "$dir"
        "$gen" "$dir" "$2" "$last_day" "$3" >&2
        touch "$dir.done"
    fi
    echo "$dir"
}
t0=$(date +%s.%N)
[ "$mode" = startup ] || small=$(make_dir small 100 50)
t1=$(date +%s.%N)
big=$(make_dir big "$big_days" 100)
t2=$(date +%s.%N)

python3 - "$out" "$burst" <<'PY'
import datetime, sys
out, burst = sys.argv[1], int(sys.argv[2])
# day.csv: 2020-04-10; day-N.csv: N days later (the burst)
for n in range(max(burst, 1)):
    day = datetime.date(2020, 4, 10) + datetime.timedelta(days=n)
    d = (day - datetime.date(1970, 1, 1)).days  # history_gen's formula
    with open(f"{out}/day.csv" if n == 0 else f"{out}/day-{n}.csv", "w") as f:
        f.write("date,team,kpi,value\n")
        for t in range(200):
            for k in range(10):
                f.write(f"{day},t{t:03d},k{k},{(7 * t + 13 * k + d) % 997 + 0.5}\n")
PY

# elapsed NAME CMD...: wall and CPU seconds of CMD, appended to results
elapsed() {
    local tf
    tf=$(mktemp)
    /usr/bin/time -f "%e %U %S" -o "$tf" "${@:2}" >/dev/null
    echo "$1 $(awk '{print $1, $2 + $3}' "$tf")" >>"$out/results.txt"
    rm -f "$tf"
}
# elapsed_rss NAME CMD...: the same, and the peak RSS in MB
elapsed_rss() {
    local tf
    tf=$(mktemp)
    /usr/bin/time -f "%e %U %S %M" -o "$tf" "${@:2}" >/dev/null
    echo "$1 $(awk '{printf "%s %.2f %.0f", $1, $2 + $3, $4 / 1024}' "$tf")" >>"$out/results.txt"
    rm -f "$tf"
}

# serve DIR LABEL wait|nowait [ENV...]: kpi serve on DIR until its first answer; appends
# "LABEL wall cpu rss_mb" to results. With "wait", also waits for the cache
# the server writes in the background and appends "LABEL_cache seconds".
cat >"$out/serve.py" <<'PY'
import http.client, os, re, subprocess, sys, time
kpi, d, label, results, wait = sys.argv[1:6]
env = dict(os.environ)
for kv in sys.argv[6:]:
    k, v = kv.split("=", 1)
    env[k] = v
cache = os.path.join(d, "points.cache")
t0 = time.monotonic()
p = subprocess.Popen([kpi, "--data", d, "serve", "--listen", "127.0.0.1:0"], env=env,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)/", p.stdout.readline()).group(1))
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
c.request("GET", "/api/v1/teams/t007/kpis/k3/series")
r = c.getresponse()
r.read()
t1 = time.monotonic()
assert r.status == 200
st = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
lines = [f"{label} {t1 - t0:.3f} {cpu:.2f}"]
if wait == "wait":
    # bounded: a binary from before the cache (KPI_HISTORY_KPI) writes none
    while not os.path.exists(cache) and time.monotonic() - t1 < 120:
        time.sleep(0.1)
    if os.path.exists(cache):
        lines.append(f"{label}_cache {time.monotonic() - t0:.3f}")
rss = int([l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmHWM")][0].split()[1])
lines[0] += f" {rss / 1024:.0f}"
p.terminate()
p.wait()
with open(results, "a") as f:
    f.write("".join(l + "\n" for l in lines))
PY
serve() {
    python3 "$out/serve.py" "$kpi" "$1" "$2" "$out/results.txt" "${@:3}"
}
median() { # NAME COLUMN
    grep "^$1 " "$out/results.txt" | awk -v c="$2" '{print $c}' | sort -n |
        awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
if [ "$mode" = startup ]; then
    : >"$out/results.txt"
    d=$out/big
    cp -a "$big" "$d"
    sync
    no_cache=(KPI_POINTS_CACHE_MIN=18446744073709551615)
    # the first start writes the cache of the latest commit; after one more
    # day, a first start again gives the cache of that commit
    serve "$d" first_start wait
    mv "$d/points.cache" "$out/cache.before"
    "$kpi" --data "$d" import --quiet "$out/day.csv" >/dev/null
    serve "$d" first_start_after_commit wait
    mv "$d/points.cache" "$out/cache.latest"
    sync
    for r in $(seq 1 "$rounds"); do
        rm -f "$d/points.cache"
        serve "$d" database nowait "${no_cache[@]}"
        cp "$out/cache.latest" "$d/points.cache"
        serve "$d" cache nowait "${no_cache[@]}"
        cp "$out/cache.before" "$d/points.cache"
        serve "$d" stale_cache nowait "${no_cache[@]}"
        for cmd in "drift --as-of 2020-04-10" "alerts --as-of 2020-04-10" export; do
            name=${cmd%% *}
            rm -f "$d/points.cache"
            elapsed_rss "cli_${name}_database" "$kpi" --data "$d" $cmd
            cp "$out/cache.latest" "$d/points.cache"
            elapsed_rss "cli_${name}_cache" "$kpi" --data "$d" $cmd
        done
    done
    echo "kpi serve on big ($((2000 * big_days)) points): medians of $rounds rounds;" \
        "load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| start-up to the first answer | wall s | CPU s | peak RSS MB |"
    echo "| --- | --- | --- | --- |"
    for m in database cache stale_cache; do
        echo "| $m | $(median $m 2) | $(median $m 3) | $(median $m 4) |"
    done
    for m in first_start first_start_after_commit; do
        echo "| $m (once; cache written after $(median "${m}_cache" 2) s) | $(median $m 2) |" \
            "$(median $m 3) | $(median $m 4) |"
    done
    echo
    echo "| CLI, whole directory | database: wall s | CPU s | peak RSS MB | cache: wall s | CPU s | peak RSS MB |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    for cmd in drift alerts export; do
        a=cli_${cmd}_database b=cli_${cmd}_cache
        echo "| $cmd | $(median $a 2) | $(median $a 3) | $(median $a 4) | $(median $b 2) |" \
            "$(median $b 3) | $(median $b 4) |"
    done
    echo "| points.cache bytes | $(stat -c %s "$out/cache.latest") | | | | | |"
    echo
    echo "every run (label wall CPU RSS):"
    sed 's/^/    /' "$out/results.txt"
    exit 0
fi


: >"$out/results.txt"
for r in $(seq 1 "$rounds"); do
    for which in small big; do
        src=$small back=50
        [ "$which" = big ] && src=$big back=100
        cp -a "$src" "$out/$which-$r"
        if [ "$which" = big ]; then # the server starts from the points cache
            if [ "$r" = 1 ]; then
                serve "$out/big-$r" first_start wait
                if [ -f "$out/big-$r/points.cache" ]; then
                    mv "$out/big-$r/points.cache" "$out/big.points.cache"
                fi
            fi
            if [ -f "$out/big.points.cache" ]; then
                cp "$out/big.points.cache" "$out/big-$r/points.cache"
            fi
        fi
        sync # the copy's dirty pages would go out in the commit's syncfs
        last=$("$kpi" --data "$out/$which-$r" log --limit 1 --format csv | awk -F, 'NR == 2 {print $1}')
        # kpi serve on the copy: start-up to its first answer, then the
        # commit (timed as the others), then how long after the commit's end
        # an answer reflects it (requests back to back), and the server's
        # peak RSS
        python3 - "$kpi" "$out/$which-$r" "$out/day.csv" "$which" "$out/results.txt" <<'PY'
import http.client, re, subprocess, sys, tempfile, time
kpi, d, day, which, results = sys.argv[1:6]
t0 = time.monotonic()
p = subprocess.Popen([kpi, "--data", d, "serve", "--listen", "127.0.0.1:0"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)/", p.stdout.readline()).group(1))
def get(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path)
    r = c.getresponse()
    b = r.read()
    c.close()
    return r.status, b
path = "/api/v1/teams/t007/kpis/k3/series"
status, body = get(path)
t1 = time.monotonic()
assert status == 200 and b'"2020-04-10"' not in body
with tempfile.NamedTemporaryFile("r") as tf:
    subprocess.run(["/usr/bin/time", "-f", "%e %U %S", "-o", tf.name, kpi, "--data", d,
                    "import", "--quiet", day], check=True, stdout=subprocess.DEVNULL)
    t2 = time.monotonic()
    wall, user, sys_ = tf.read().split()
def cpu_ns():  # every thread of the server, from the scheduler's counters
    import glob
    total = 0
    for f in glob.glob(f"/proc/{p.pid}/task/*/schedstat"):
        try:
            total += int(open(f).read().split()[0])
        except OSError:
            pass
    return total
c2 = cpu_ns()
polls = 0
while True:
    status, body = get(path)
    polls += 1
    if b'"2020-04-10"' in body:
        break
t3 = time.monotonic()
c3 = cpu_ns()
rss = int([l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmHWM")][0].split()[1])
p.terminate()
p.wait()
with open(results, "a") as f:
    f.write(f"commit_{which} {wall} {float(user) + float(sys_):.2f}\n")
    f.write(f"startup_{which} {t1 - t0:.3f}\n")
    f.write(f"takeup_{which} {t3 - t2:.3f} {(c3 - c2) / 1e9:.3f}\n")
    f.write(f"rss_{which} {rss / 1024:.0f}\n")
PY
        if [ "$only" != serve ]; then
            elapsed "knownat_$which" "$kpi" --data "$out/$which-$r" series t007 k3 \
                --known-at $((last - back)) --format csv
            elapsed "export_$which" "$kpi" --data "$out/$which-$r" export
        fi
        rm -rf "$out/$which-$r"
    done
    # the burst: BURST daily commits then the forced checkpoint, per commit
    for which in small big; do
        [ "$burst" -gt 0 ] || break
        src=$small
        [ "$which" = big ] && src=$big
        d=$out/$which-burst-$r
        cp -a "$src" "$d"
        sync
        python3 - "$kpi" "$d" "$out" "$burst" "$which" "$out/results.txt" <<'PY'
import os, resource, subprocess, sys, time
kpi, d, out, burst, which, results = sys.argv[1:7]
burst = int(burst)
def timed(cmd):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t1 - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
def wal():
    p = os.path.join(d, "kpi.db-wal")
    return os.path.getsize(p) if os.path.exists(p) else 0
wall = cpu = 0.0
lines = []
for n in range(burst):
    day = f"{out}/day.csv" if n == 0 else f"{out}/day-{n}.csv"
    w, c = timed([kpi, "--data", d, "import", "--quiet", day])
    wall += w
    cpu += c
    lines.append(f"burst_commit_{which} {w:.3f} {c:.3f} {wal()}")
w, c = timed(["sqlite3", os.path.join(d, "kpi.db"), "PRAGMA wal_checkpoint(TRUNCATE)"])
lines.append(f"burst_final_{which} {w:.3f} {c:.3f} {wal()}")
wall += w
cpu += c
lines.append(f"burst_{which} {wall / burst:.3f} {cpu / burst:.3f}")
with open(results, "a") as f:
    f.write("".join(l + "\n" for l in lines))
PY
        rm -rf "$d"
    done
done
echo "2,000 daily series; small: $((2000 * 100)) points, big: $((2000 * big_days)) points;" \
    "medians of $rounds rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "building (0 when cached): small $(echo "$t1 - $t0" | bc) s, big $(echo "$t2 - $t1" | bc) s"
echo
echo "| measure | small | big | big / small |"
echo "| --- | --- | --- | --- |"
measures="commit knownat export"
[ "$only" = serve ] && measures=commit
[ "$burst" -gt 0 ] && measures="$measures burst"
for m in $measures; do
    for col in 2 3; do
        s=$(median "${m}_small" "$col")
        b=$(median "${m}_big" "$col")
        label=wall
        [ "$col" = 3 ] && label=CPU
        ratio=-
        [ "$(echo "$s > 0" | bc)" = 1 ] && ratio=$(echo "scale=2; $b / $s" | bc)
        echo "| $m: $label seconds | $s | $b | $ratio |"
    done
done
for m in startup takeup; do
    s=$(median "${m}_small" 2)
    b=$(median "${m}_big" 2)
    echo "| serve $m: wall seconds | $s | $b | $(echo "scale=2; $b / $s" | bc) |"
done
s=$(median takeup_small 3)
b=$(median takeup_big 3)
echo "| serve takeup: server CPU seconds | $s | $b | $(echo "scale=2; $b / $s" | bc) |"
echo "| serve peak RSS: MB | $(median rss_small 2) | $(median rss_big 2) | |"
echo "| kpi.db bytes | $(stat -c %s "$small/kpi.db") | $(stat -c %s "$big/kpi.db") | |"
echo
echo "burst: $burst commits per copy, seconds per commit including the checkpoints" \
    "(the final one forced)"
echo
echo "every round (wall, CPU; burst commits: and the WAL's bytes after each):"
grep -E "^(commit|takeup|burst)_" "$out/results.txt" | sed 's/^/    /'
