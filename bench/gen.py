#!/usr/bin/env python3
"""Generate the benchmark data set (deterministic).

  gen.py OUT_DIR [TEAMS]

writes, for TEAMS teams (default 1000) under 10 divisions under one company
root, 20 monthly indicators and 50 months (2022-09 .. 2026-10):
  teams.csv, indicators.csv   the catalog
  long.csv                    TEAMS x 20 x 50 observation rows (long layout)
  budget.csv                  targets: one point per series every 6 months
  next.csv                    one more month (2026-11) for every series
  rrd_load.txt                `rrdtool -` input: one create + one update per series
                              with all its points (the baseline of the import)
  rrd_next.txt                `rrdtool -` input: one update per series (2026-11)
The RRD layout in rrd_*.txt is kpi's own (store/rrd.c): keep them in step.
"""
import calendar
import datetime
import os
import sys

out = sys.argv[1]
team_count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
os.makedirs(out, exist_ok=True)
DIVISIONS = 10
KPIS = 20
FAMILIES = ["financial", "human", "process", "customer"]
months = [(2022 + (8 + i) // 12, (8 + i) % 12 + 1) for i in range(50)]  # 2022-09 .. 2026-10
NEXT = (2026, 11)

# kpi's RRD layout (store/rrd.c): step 1 day, heartbeat 400 days, daily AVERAGE
# for 10 years, 30-day AVERAGE/MIN/MAX for 20 years.
RRD_LAYOUT = ("--step 86400 DS:value:GAUGE:34560000:U:U DS:target:GAUGE:34560000:U:U "
              "RRA:AVERAGE:0.5:1:3660 RRA:AVERAGE:0.5:30:245 RRA:MIN:0.5:30:245 "
              "RRA:MAX:0.5:30:245")


def team_id(t):
    return "t%04d" % t


def value(t, k, m):
    # deterministic, varied, exact in decimal: a base per series plus a trend and a wobble
    base = 1000 + (t * 37 + k * 101) % 5000
    return round(base + m * (k % 7 - 3) * 1.5 + ((t * 7 + k * 13 + m * 29) % 97) * 0.25, 2)


def month_end_epoch(y, m):
    last = calendar.monthrange(y, m)[1]
    day = datetime.date(y, m, last) + datetime.timedelta(days=1)
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp())


def month_start_epoch(y, m):
    return int(datetime.datetime(y, m, 1, tzinfo=datetime.timezone.utc).timestamp())


with open(os.path.join(out, "teams.csv"), "w") as f:
    f.write("team,name,parent\nco,Company,\n")
    for d in range(1, DIVISIONS + 1):
        f.write("div%02d,Division %d,co\n" % (d, d))
    for t in range(1, team_count + 1):
        f.write("%s,Team %d,div%02d\n" % (team_id(t), t, (t - 1) % DIVISIONS + 1))

with open(os.path.join(out, "indicators.csv"), "w") as f:
    f.write("kpi,name,family,unit,direction,period,aggregate,amber,red,weight\n")
    for k in range(1, KPIS + 1):
        f.write("k%02d,Indicator %d,%s,EUR,%s,month,%s,0.05,0.1,1\n"
                % (k, k, FAMILIES[k % 4], "down" if k % 5 == 0 else "up",
                   "mean" if k % 3 == 0 else "sum"))

with open(os.path.join(out, "long.csv"), "w") as f, \
        open(os.path.join(out, "rrd_load.txt"), "w") as rrd:
    f.write("date,team,kpi,value\n")
    for t in range(1, team_count + 1):
        for k in range(1, KPIS + 1):
            path = "%s/%s/k%02d.rrd" % ("rrd", team_id(t), k)
            points = []
            for i, (y, m) in enumerate(months):
                v = value(t, k, i)
                f.write("%04d-%02d,%s,k%02d,%s\n" % (y, m, team_id(t), k, v))
                points.append("%d:%s:U" % (month_end_epoch(y, m), v))
            rrd.write("create %s --start %d %s\n" % (path, month_start_epoch(*months[0]), RRD_LAYOUT))
            rrd.write("update %s %s\n" % (path, " ".join(points)))

with open(os.path.join(out, "budget.csv"), "w") as f:
    f.write("date,team,kpi,target\n")
    for t in range(1, team_count + 1):
        for k in range(1, KPIS + 1):
            for i in range(0, 50, 6):
                y, m = months[i]
                f.write("%04d-%02d,%s,k%02d,%s\n" % (y, m, team_id(t), k, round(value(t, k, i) * 1.02, 2)))

with open(os.path.join(out, "next.csv"), "w") as f, \
        open(os.path.join(out, "rrd_next.txt"), "w") as rrd:
    f.write("date,team,kpi,value\n")
    for t in range(1, team_count + 1):
        for k in range(1, KPIS + 1):
            v = value(t, k, 50)
            f.write("%04d-%02d,%s,k%02d,%s\n" % (NEXT[0], NEXT[1], team_id(t), k, v))
            rrd.write("update rrd/%s/k%02d.rrd %d:%s:U\n" % (team_id(t), k, month_end_epoch(*NEXT), v))

# directories rrdtool needs for its creates
for t in range(1, team_count + 1):
    os.makedirs(os.path.join(out, "rrd", team_id(t)), exist_ok=True)
