#!/usr/bin/env python3
"""Recompute, from the example CSV files, what `kpi drift` and `kpi alerts`
must report at --as-of 2026-10-31 (SPEC §5), independently of kpi itself.

    python3 examples/check_story.py              # print drift, details and alerts
    python3 examples/check_story.py --markdown   # the tables of EXPECTED.md
    python3 examples/check_story.py --as-of 2026-09-30 --window 6 --stale-after 2

It reads the files exactly as `kpi import` is told to in README.md (cp1252 and
';' with decimal comma for finance.csv, the BOM and DD.MM.YYYY dates of
rh_effectifs.csv, ...) and shares no code with generate.py.  It is also the
documentation of the expected results: every definition below is a direct
transcription of SPEC §5 (latest point, gap, status, OLS trend, required slope,
diverging, projection, stale, roll-ups, cascade gap, drift, coverage, alerts
and their `since`).  It warns when a computed quantity lies within 1e-3 of a
threshold, so that the story does not depend on rounding.
"""

import argparse
import csv
import io
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
EPS = 1e-9
FAMILIES = ["financial", "human", "process", "customer"]

# ---------------------------------------------------------------- catalogs


def read_text(name, encoding):
    with open(os.path.join(HERE, name), "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode(encoding)


def rows_of(name, encoding="utf-8", delimiter=","):
    text = read_text(name, encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


teams = {}     # id -> {"name", "parent", "children": []}
team_order = []
for row in rows_of("teams.csv")[1:]:
    tid, name, parent = row
    teams[tid] = {"name": name, "parent": parent or None, "children": []}
    team_order.append(tid)
for tid, t in teams.items():
    if t["parent"]:
        teams[t["parent"]]["children"].append(tid)

kpis = {}
kpi_order = []
for row in rows_of("indicators.csv")[1:]:
    kid, name, family, unit, direction, period, aggregate, amber, red, weight = row
    kpis[kid] = {"name": name, "family": family, "unit": unit, "direction": direction,
                 "period": period or "month", "aggregate": aggregate or "sum",
                 "amber": float(amber) if amber else 0.05, "red": float(red) if red else 0.10,
                 "weight": float(weight) if weight else 1.0}
    kpi_order.append(kid)


def resolve(table, text):
    """SPEC §2: ids case-insensitively, then display names; the example files
    only use existing teams and indicators (imported with --strict)."""
    t = text.strip()
    for k in table:
        if k.lower() == t.lower():
            return k
    for k, v in table.items():
        if v["name"].casefold() == t.casefold():
            return k
    sys.exit("unknown reference %r" % text)


# ---------------------------------------------------------------- periods
# A period is an integer: months y*12+m-1, quarters y*4+q-1.

def period_of(kpi, y, m):
    """The indicator's period containing a day of month m of year y."""
    if kpis[kpi]["period"] == "quarter":
        return y * 4 + (m - 1) // 3
    return y * 12 + m - 1


def period_label(kpi, p):
    if kpis[kpi]["period"] == "quarter":
        return "%d-Q%d" % (p // 4, p % 4 + 1)
    return "%d-%02d" % (p // 12, p % 12 + 1)


MISSING = {"", "na", "n/a", "-", "n.d."}


def number(text, decimal):
    t = text.strip()
    if t.lower() in MISSING:
        return None
    if t.endswith("%"):
        t = t[:-1].rstrip()
    if decimal == ",":
        assert "." not in t, text
        t = re.sub("[ \u00a0\u202f]", "", t).replace(",", ".")
    return float(t)


obs = {}   # (team, kpi) -> {period: value}   (own observations)
tgt = {}   # (team, kpi) -> {period: value}   (own target points)


def put(store, team, kpi, p, v):
    if v is not None:
        store.setdefault((team, kpi), {})[p] = v


# finance.csv: cp1252, ';', CRLF, DD/MM/YYYY, decimal comma, display names.
with open(os.path.join(HERE, "finance.csv"), "rb") as f:
    raw = f.read()
assert raw.count(b"\r\n") == raw.count(b"\n"), "finance.csv must be CRLF"
rows = rows_of("finance.csv", "cp1252", ";")
assert [h for h in rows[0]] == ["Date", "Équipe", "Indicateur", "Valeur"]
for d, team, kpi, val in rows[1:]:
    dd, mm, yy = (int(x) for x in d.split("/"))
    k = resolve(kpis, kpi)
    put(obs, resolve(teams, team), k, period_of(k, yy, mm), number(val, ","))

# rh_effectifs.csv: wide, UTF-8 BOM, --date-format %d.%m.%Y, --column date="Fin de période".
rows = rows_of("rh_effectifs.csv")
cols = [resolve(kpis, h) for h in rows[0][2:]]
for row in rows[1:]:
    dd, mm, yy = (int(x) for x in row[0].split("."))
    team = resolve(teams, row[1])
    for k, cell in zip(cols, row[2:]):
        put(obs, team, k, period_of(k, yy, mm), number(cell, "."))

# operations.csv: long, plain UTF-8, YYYY-MM.
for d, team, kpi, val in rows_of("operations.csv")[1:]:
    yy, mm = (int(x) for x in d.split("-"))
    k = resolve(kpis, kpi)
    put(obs, resolve(teams, team), k, period_of(k, yy, mm), number(val, "."))

# enquete_engagement.csv: --kpi engagement, YYYY-Qn, teams by display name.
for d, team, val in rows_of("enquete_engagement.csv")[1:]:
    yy, q = d.split("-Q")
    put(obs, resolve(teams, team), "engagement",
        period_of("engagement", int(yy), int(q) * 3), number(val, "."))

# budget.csv: periods layout, --kind targets; a YYYY-MM column is placed in the
# indicator's period containing the month's last day.
rows = rows_of("budget.csv")
months = [tuple(int(x) for x in h.split("-")) for h in rows[0][2:]]
for row in rows[1:]:
    team, k = resolve(teams, row[0]), resolve(kpis, row[1])
    for (yy, mm), cell in zip(months, row[2:]):
        put(tgt, team, k, period_of(k, yy, mm), number(cell, "."))

# ---------------------------------------------------------------- §5


def aggregate(kpi, values):
    if kpis[kpi]["aggregate"] == "sum":
        return sum(values)
    return sum(values) / len(values)


def has_own_obs(team, kpi):
    return bool(obs.get((team, kpi)))


def has_own_tgt(team, kpi):
    return bool(tgt.get((team, kpi)))


def value_periods(team, kpi):
    """Periods with a value (own, or rolled up when the team has none of its own)."""
    if has_own_obs(team, kpi):
        return set(obs[(team, kpi)])
    s = set()
    for c in teams[team]["children"]:
        s |= value_periods(c, kpi)
    return s


def value(team, kpi, p):
    if has_own_obs(team, kpi):
        return obs[(team, kpi)].get(p)
    vals = [v for v in (value(c, kpi, p) for c in teams[team]["children"]) if v is not None]
    return aggregate(kpi, vals) if vals else None


def target_periods(team, kpi):
    """Periods with a target point (own) or a rolled-up target."""
    if has_own_tgt(team, kpi):
        return set(tgt[(team, kpi)])
    s = set()
    for c in teams[team]["children"]:
        pts = target_periods(c, kpi)
        if pts:
            s |= set(range(min(pts), max(pts) + 1))  # children's interpolated targets count
    return s


def target(team, kpi, p, upto=None):
    """The target of period p.  A rolled-up target is like for like in a period
    <= upto where a child has a value: only the targets of the children that
    have one count (SPEC §5).  upto None: planned targets, every child's."""
    if has_own_tgt(team, kpi):
        pts = tgt[(team, kpi)]
        if p in pts:
            return pts[p]
        before = [q for q in pts if q < p]
        after = [q for q in pts if q > p]
        if not before or not after:
            return None
        a, b = max(before), min(after)
        return pts[a] + (pts[b] - pts[a]) * (p - a) / (b - a)
    kids = teams[team]["children"]
    if upto is not None and p <= upto:
        reporting = [c for c in kids if value(c, kpi, p) is not None]
        if reporting:
            vals = [v for v in (target(c, kpi, p, upto) for c in reporting) if v is not None]
            return aggregate(kpi, vals) if vals else None
    vals = [v for v in (target(c, kpi, p) for c in kids) if v is not None]
    return aggregate(kpi, vals) if vals else None


def has_series(team, kpi):
    return bool(value_periods(team, kpi)) or bool(target_periods(team, kpi))


def gap_of(kpi, actual, t):
    if t is None:
        return None
    g = (actual - t) / abs(t) if t != 0 else actual - t
    return -g if kpis[kpi]["direction"] == "down" else g


def status_of(kpi, g):
    if g is None:
        return "no_target"
    if g >= -kpis[kpi]["amber"] - EPS:
        return "on_track"
    if g >= -kpis[kpi]["red"] - EPS:
        return "at_risk"
    return "off_track"


def ols(points):
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx, my


near = []  # (what, value, threshold) close calls at the as-of itself
watching = [False]


def watch(what, v, threshold):
    if watching[0] and v is not None and abs(abs(v) - threshold) < 1e-3:
        near.append((what, v, threshold))


def analyse(team, kpi, asof_p, window, stale_after):
    """The INDICATOR document of SPEC §7 for one series, at as-of period asof_p."""
    k = kpis[kpi]
    periods = [p for p in value_periods(team, kpi) if p <= asof_p]
    r = {"team": team, "kpi": kpi, "family": k["family"], "rolled_up": not has_own_obs(team, kpi)}
    if not periods:
        r.update(status="no_data", period=None, actual=None, target=None, gap=None,
                 trend=None, required_slope=None, diverging=False, deadline=None,
                 projected=None, projected_gap=None, stale=False)
        return r
    P = max(periods)
    actual = value(team, kpi, P)
    t = target(team, kpi, P, asof_p)
    g = gap_of(kpi, actual, t)
    tag = "%s/%s" % (team, kpi)
    watch(tag + " gap~amber", g, k["amber"])
    watch(tag + " gap~red", g, k["red"])
    # trend over the window's periods that have an observation
    pts = [(p, value(team, kpi, p)) for p in range(P - window + 1, P + 1)]
    pts = [(p, v) for p, v in pts if v is not None]
    trend = None
    if len(pts) >= 2:
        slope, mean = ols(pts)
        change = slope * (window - 1) / abs(mean) if mean != 0 else 0.0
        watch(tag + " change~flat", change, 0.01)
        if abs(change) < 0.01 - EPS:
            direction = "flat"
        elif slope * (1 if k["direction"] == "up" else -1) > 0:
            direction = "improving"
        else:
            direction = "worsening"
        trend = {"slope": slope, "change": change, "direction": direction}
    # required slope: last target point after P is the deadline
    later = [p for p in target_periods(team, kpi) if p > P]
    deadline = max(later) if later else None
    if deadline is not None:
        base = t if t is not None else actual
        required = (target(team, kpi, deadline, asof_p) - base) / (deadline - P)
    else:
        tp = [(p, target(team, kpi, p, asof_p)) for p in range(P - window + 1, P + 1)]
        tp = [(p, v) for p, v in tp if v is not None]
        required = ols(tp)[0] if len(tp) >= 2 else None
    diverging = bool(trend and trend["direction"] != "flat" and required
                     and abs(required) > 0 and (trend["slope"] > 0) != (required > 0))
    projected = projected_gap = None
    if trend and deadline is not None:
        projected = actual + trend["slope"] * (deadline - P)
        projected_gap = gap_of(kpi, projected, target(team, kpi, deadline, asof_p))
        watch(tag + " projected_gap~amber", projected_gap, k["amber"])
    r.update(period=P, actual=actual, target=t, gap=g, status=status_of(kpi, g), trend=trend,
             required_slope=required, diverging=diverging, deadline=deadline,
             projected=projected, projected_gap=projected_gap,
             stale=asof_p - P > stale_after)
    return r


def cascade_gap(team, kpi, asof_p):
    """Planned targets: every child's counts (SPEC §5)."""
    if not has_own_tgt(team, kpi):
        return None
    t = target(team, kpi, asof_p)
    if t is None:
        return None
    kids = [v for v in (target(c, kpi, asof_p) for c in teams[team]["children"])
            if v is not None]
    if not kids or t == 0:
        return None
    return (aggregate(kpi, kids) - t) / abs(t)


def asof_period(kpi, asof_month):
    y, m = asof_month // 12, asof_month % 12 + 1
    return period_of(kpi, y, m)


def conditions(team, kpi, asof_month, window, stale_after):
    """The alert kinds (other than coverage) that hold for one series."""
    ap = asof_period(kpi, asof_month)
    a = analyse(team, kpi, ap, window, stale_after)
    kinds = {}
    if a["status"] == "off_track":
        kinds["off_track"] = a
    if a["status"] == "at_risk":
        kinds["at_risk"] = a
    if a["diverging"]:
        kinds["diverging"] = a
    if a["projected_gap"] is not None and a["projected_gap"] < -kpis[kpi]["amber"] - EPS:
        kinds["will_miss"] = a
    if a["stale"]:
        kinds["stale"] = a
    cg = cascade_gap(team, kpi, ap)
    if cg is not None:
        watch("%s/%s cascade_gap~amber" % (team, kpi), cg, kpis[kpi]["amber"])
        if abs(cg) > kpis[kpi]["amber"] + EPS:
            kinds["cascade_gap"] = dict(a, cascade_gap=cg, period=ap)
    return kinds, a


MD_INTRO = """# Expected analysis of the example data set at %(asof)s

Generated by `python3 examples/check_story.py --markdown > examples/EXPECTED.md`
(window %(w)d, stale_after %(s)d): an independent re-computation of SPEC §5 from the
CSV files of this directory, after importing them as examples/README.md says.
`kpi drift --as-of %(asof)s` and `kpi alerts --as-of %(asof)s` must agree with
these tables (up to formatting and order). The story behind them is told in
README.md.

%(n)d alerts: %(counts)s.
"""

SEVERITY = {"off_track": "critical", "at_risk": "warning", "diverging": "warning",
            "will_miss": "warning", "stale": "warning", "cascade_gap": "warning",
            "coverage": "info"}
KIND_ORDER = list(SEVERITY)


def since(team, kpi, kind, asof_month, window, stale_after):
    """First period S of the current run: the condition holds at every as-of from S on."""
    ap = asof_period(kpi, asof_month)
    s = ap
    p = ap - 1
    while p >= 0:
        # evaluate with as_of at (the last day of) period p
        if kpis[kpi]["period"] == "quarter":
            month = (p // 4) * 12 + (p % 4) * 3 + 2
        else:
            month = p
        watching[0] = False
        kinds, _ = conditions(team, kpi, month, window, stale_after)
        watching[0] = True
        if kind not in kinds:
            break
        s = p
        p -= 1
    return period_label(kpi, s)


def team_drift(team, asof_month, window, stale_after):
    inds = [analyse(team, k, asof_period(k, asof_month), window, stale_after)
            for k in kpi_order if has_series(team, k)]
    with_gap = [a for a in inds if a["gap"] is not None]

    def wmean(items):
        if not items:
            return None
        w = sum(kpis[a["kpi"]]["weight"] for a in items)
        return sum(kpis[a["kpi"]]["weight"] * max(0.0, -a["gap"]) for a in items) / w

    counts = {}
    for a in inds:
        counts[a["status"]] = counts.get(a["status"], 0) + 1
    cov = [f for f in FAMILIES if any(a["family"] == f for a in with_gap)]
    return {"team": team, "drift": wmean(with_gap),
            "families": {f: wmean([a for a in with_gap if a["family"] == f]) for f in FAMILIES},
            "status_counts": counts, "coverage": cov,
            "missing_families": [f for f in FAMILIES if f not in cov], "indicators": inds}


def alerts(asof_month, window, stale_after):
    out = []
    for team in team_order:
        for k in kpi_order:
            if not has_series(team, k):
                continue
            kinds, _ = conditions(team, k, asof_month, window, stale_after)
            for kind in KIND_ORDER:
                if kind in kinds:
                    a = kinds[kind]
                    out.append({"team": team, "kpi": k, "kind": kind,
                                "severity": SEVERITY[kind],
                                "period": period_label(k, a["period"]),
                                "since": since(team, k, kind, asof_month, window, stale_after),
                                "actual": a["actual"], "target": a["target"], "gap": a["gap"],
                                "extra": a})
        d = team_drift(team, asof_month, window, stale_after)
        if d["drift"] is not None and d["missing_families"]:
            out.append({"team": team, "kpi": None, "kind": "coverage", "severity": "info",
                        "period": None, "since": None, "actual": None, "target": None,
                        "gap": None, "extra": d})
    return out


# ---------------------------------------------------------------- output


def fmt(v, nd=4):
    if v is None:
        return "—"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return "{:,.2f}".format(v).replace(",", " ")
        return ("%." + str(nd) + "f") % v
    return str(v)


def pct(v):
    return "—" if v is None else "%+.2f %%" % (100 * v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--as-of", default="2026-10-31")
    ap.add_argument("--window", type=int, default=6)
    ap.add_argument("--stale-after", type=int, default=2)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    y, m, _ = (int(x) for x in args.as_of.split("-"))
    asof_month = y * 12 + m - 1
    W, S = args.window, args.stale_after
    watching[0] = True

    al = alerts(asof_month, W, S)
    drifts = [team_drift(t, asof_month, W, S) for t in team_order]

    if args.markdown:
        print(MD_INTRO % {"asof": args.as_of, "w": W, "s": S, "n": len(al),
                          "counts": ", ".join("%s %d" % (k, sum(a["kind"] == k for a in al))
                                              for k in KIND_ORDER)})
        print("## Team drift (`kpi drift --as-of %s`)\n" % args.as_of)
        print("| team | drift | financial | human | process | customer | statuses | missing families |")
        print("|---|---|---|---|---|---|---|---|")
        for d in drifts:
            c = ", ".join("%s %d" % (k, v) for k, v in sorted(d["status_counts"].items()))
            print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                d["team"], fmt(d["drift"]), *(fmt(d["families"][f]) for f in FAMILIES), c,
                ", ".join(d["missing_families"]) or "—"))
        print()
        print("## Alerts (`kpi alerts --as-of %s`)\n" % args.as_of)
        print("Gaps are ratios shown in percent; `since` is the first period of the current "
              "run of the condition (SPEC §5).\n")
        print("| # | team | kpi | kind | severity | period | since | actual | target | gap | detail |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for n, a in enumerate(al, 1):
            e = a["extra"]
            detail = ""
            if a["kind"] == "diverging":
                detail = "slope %s vs required %s" % (fmt(e["trend"]["slope"]),
                                                      fmt(e["required_slope"]))
            elif a["kind"] == "will_miss":
                detail = "projected %s at %s, projected_gap %s" % (
                    fmt(e["projected"]), period_label(a["kpi"], e["deadline"]),
                    pct(e["projected_gap"]))
            elif a["kind"] == "stale":
                detail = "last period %s" % a["period"]
            elif a["kind"] == "cascade_gap":
                detail = "cascade_gap %s (children %s vs own %s)" % (
                    pct(e["cascade_gap"]), fmt(e["target"] * (1 + e["cascade_gap"])),
                    fmt(target(a["team"], a["kpi"], e["period"])))
            elif a["kind"] == "coverage":
                detail = "missing " + ", ".join(e["missing_families"])
            if a["kind"] == "cascade_gap":
                act, tg, gp = "", "", ""
            else:
                act, tg, gp = fmt(a["actual"]), fmt(a["target"]), pct(a["gap"])
            print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, a["team"], a["kpi"] or "—", a["kind"], a["severity"], a["period"] or "—",
                a["since"] or "—", act, tg, gp, detail))
        print()
        print("## Every series (`kpi trend TEAM --as-of %s`)\n" % args.as_of)
        print("P is the evaluation period; `slope` is per period; `req` the required slope to "
              "the deadline (2026-12, or 2026-Q4 for engagement); ↑ marks rolled-up series.\n")
        print("| team | kpi | P | actual | target | gap | status | trend | slope | change | "
              "req | div | projected | proj. gap | stale |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for d in drifts:
            for a in d["indicators"]:
                tr = a["trend"] or {}
                print("| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                      "| %s |" % (
                          a["team"], a["kpi"], " ↑" if a["rolled_up"] else "",
                          period_label(a["kpi"], a["period"]) if a["period"] is not None
                          else "—", fmt(a["actual"]), fmt(a["target"]), pct(a["gap"]),
                          a["status"], tr.get("direction", "—"), fmt(tr.get("slope")),
                          fmt(tr.get("change")), fmt(a["required_slope"]),
                          "yes" if a["diverging"] else "no", fmt(a["projected"]),
                          pct(a["projected_gap"]), "yes" if a["stale"] else "no"))
    else:
        print("as of %s, window %d, stale_after %d" % (args.as_of, W, S))
        print("\n== drift")
        for d in drifts:
            print("%-15s drift %-8s %s  %s  missing %s" % (
                d["team"], fmt(d["drift"]),
                " ".join("%s=%s" % (f[:3], fmt(d["families"][f])) for f in FAMILIES),
                d["status_counts"], d["missing_families"]))
        print("\n== indicators")
        for d in drifts:
            for a in d["indicators"]:
                tr = a["trend"]
                print("%-15s %-13s P=%-8s act=%-12s tgt=%-12s gap=%-9s %-9s trend=%s req=%s "
                      "div=%s proj_gap=%s stale=%s%s" % (
                          a["team"], a["kpi"],
                          period_label(a["kpi"], a["period"]) if a["period"] is not None else "—",
                          fmt(a["actual"], 2), fmt(a["target"], 2), pct(a["gap"]), a["status"],
                          "%s(%s,%s)" % (tr["direction"], fmt(tr["slope"]), fmt(tr["change"]))
                          if tr else "—", fmt(a["required_slope"]), a["diverging"],
                          pct(a["projected_gap"]), a["stale"],
                          " rolled_up" if a["rolled_up"] else ""))
        print("\n== alerts (%d)" % len(al))
        for a in al:
            print("%-8s %-12s %-15s %-13s P=%-8s since=%-8s actual=%s target=%s gap=%s" % (
                a["severity"], a["kind"], a["team"], a["kpi"] or "—", a["period"] or "—",
                a["since"] or "—", fmt(a["actual"], 2), fmt(a["target"], 2), pct(a["gap"])))
        kinds = {a["kind"] for a in al}
        missing = [k for k in KIND_ORDER if k not in kinds]
        print("\nevery alert kind present: %s" % ("yes" if not missing else "NO, missing %s"
                                                   % missing))
    if near:
        print("\nWARNING: close to a threshold:", file=sys.stderr)
        for w in sorted(set(near)):
            print("  %s: %r vs %r" % w, file=sys.stderr)


if __name__ == "__main__":
    main()
