#!/usr/bin/env python3
"""Generate the example data set of "Atelier Durand SA" (see README.md).

Python 3, standard library only, fully deterministic: fixed formulas plus a
fixed-seed random.Random for the noise.  Run it from anywhere:

    python3 examples/generate.py          # rewrites the CSV files next to it

The files are written exactly as the tools of a finance team would write them:
finance.csv as a French Excel would (cp1252 bytes, ';', decimal comma,
thousands with a space or a no-break space, CRLF, DD/MM/YYYY, "n.d."), the HR
export as UTF-8 with a BOM, the rest as plain UTF-8 with LF.

Observations cover 2024-11 .. 2026-10 (24 months); the budget runs to 2026-12.
The story at --as-of 2026-10-31 is described in README.md and verified by
check_story.py, which reads these files back (it shares no code with this one).
"""

import calendar
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 19780412  # founding date of the (fictional) company
rng = random.Random(SEED)


# --------------------------------------------------------------------------
# Calendar: a month is an index y*12 + (m-1)

def mi(y, m):
    return y * 12 + m - 1


def ym(i):
    return i // 12, i % 12 + 1


FIRST = mi(2024, 11)      # first observed month
LAST_OBS = mi(2026, 10)   # last observed month (the as-of month)
LAST_BUDGET = mi(2026, 12)
MONTHS = list(range(FIRST, LAST_BUDGET + 1))
OBS_MONTHS = list(range(FIRST, LAST_OBS + 1))
DRIFT_START = mi(2026, 3)  # Rhône-Alpes loses its key account in March 2026
NANTES_LAST = mi(2026, 6)  # Nantes' quality report stops after June 2026


def last_day(i):
    y, m = ym(i)
    return calendar.monthrange(y, m)[1]


def label(i):
    y, m = ym(i)
    return "%04d-%02d" % (y, m)


def k_of(i):
    """Months since 2024-11."""
    return i - FIRST


def interp(points, i):
    """Linear interpolation between target points {month: value}."""
    keys = sorted(points)
    if i in points:
        return points[i]
    before = [k for k in keys if k < i]
    after = [k for k in keys if k > i]
    if not before or not after:
        return None
    a, b = before[-1], after[0]
    return points[a] + (points[b] - points[a]) * (i - a) / (b - a)


def quarter_ends(first_value, step):
    """Target points at every quarter end 2024-12 .. 2026-12."""
    pts = {}
    for n, i in enumerate(range(mi(2024, 12), LAST_BUDGET + 1, 3)):
        pts[i] = round(first_value + step * n, 2)
    return pts


def jan_dec(values):
    """Target points at 2025-01, 2025-12, 2026-01, 2026-12."""
    return dict(zip([mi(2025, 1), mi(2025, 12), mi(2026, 1), mi(2026, 12)], values))


def noise(amplitude):
    return rng.uniform(-amplitude, amplitude)


def drift_months(i):
    """0 before March 2026, then 1, 2, ... (March = 1, October = 8)."""
    return max(0, i - DRIFT_START + 1)


# --------------------------------------------------------------------------
# Catalog

TEAMS = [
    # id, display name, parent
    ("durand", "Atelier Durand SA", ""),
    ("commercial", "Direction commerciale", "durand"),
    ("operations", "Direction des opérations", "durand"),
    ("ventes-idf", "Ventes – Île-de-France", "commercial"),
    ("ventes-ara", "Ventes – Auvergne-Rhône-Alpes", "commercial"),
    ("export", "Export & grands comptes", "commercial"),
    ("fab-st-etienne", "Fabrication – Saint-Étienne", "operations"),
    ("fab-nantes", "Fabrication – Nantes", "operations"),
    ("service-client", "Service client, après-vente", "operations"),
]
NAME = {t: n for t, n, _ in TEAMS}

INDICATORS = [
    # id, name, family, unit, direction, period, aggregate, amber, red, weight
    ("ca", "Chiffre d'affaires", "financial", "EUR", "up", "month", "sum", "0.05", "0.10", "3"),
    ("marge", "Taux de marge brute", "financial", "%", "up", "month", "mean", "0.03", "0.06", "2"),
    ("dso", "Délai de paiement clients (DSO)", "financial", "jours", "down", "month", "mean",
     "0.10", "0.20", ""),
    ("charges", "Charges d'exploitation", "financial", "EUR", "down", "month", "sum", "0.05",
     "0.10", "2"),
    ("effectif", "Effectif", "human", "ETP", "up", "month", "sum", "", "", ""),
    ("absenteisme", "Taux d'absentéisme", "human", "%", "down", "month", "mean", "0.10", "0.20",
     ""),
    ("engagement", "Indice d'engagement (enquête)", "human", "points", "up", "quarter", "mean",
     "0.05", "0.10", ""),
    ("delai-reponse", "Délai de réponse client", "process", "jours", "down", "month", "mean",
     "0.10", "0.25", ""),
    ("otd", "Livraisons à l'heure", "process", "%", "up", "month", "mean", "0.02", "0.05", "2"),
    ("rebut", "Taux de rebut", "process", "%", "down", "month", "mean", "0.15", "0.30", ""),
    ("nps", "Net Promoter Score", "customer", "points", "up", "month", "mean", "0.10", "0.20", "2"),
    ("reclamations", "Réclamations clients", "customer", "nombre", "down", "month", "sum", "0.15",
     "0.30", ""),
]
KPI_NAME = {k[0]: k[1] for k in INDICATORS}

# --------------------------------------------------------------------------
# Budget (target points) and actuals.  targets[(team, kpi)] = {month: value};
# for the quarterly engagement the key is the quarter-end month.

targets = {}
actuals = {}  # (team, kpi) -> {month: value}; engagement keyed by quarter-end month

# Revenue: a furniture and shop-fitting maker, August is dead.
SEASON = {1: 0.90, 2: 0.95, 3: 1.04, 4: 1.00, 5: 1.00, 6: 1.06,
          7: 1.00, 8: 0.70, 9: 1.04, 10: 1.10, 11: 1.08, 12: 1.12}
CA_BASE = {"ventes-idf": (310000, 0.006), "ventes-ara": (280000, 0.005),
           "export": (205000, 0.004)}
for team, (base, growth) in CA_BASE.items():
    targets[(team, "ca")] = {
        i: round(base * (1 + growth) ** k_of(i) * SEASON[ym(i)[1]], -3) for i in MONTHS}

# The division's own revenue targets: the team budgets added up in 2025, then
# the board's "Cap 2026" plan (+12 %) that was never cascaded to the teams.
div = {}
for i in MONTHS:
    s = sum(targets[(t, "ca")][i] for t in CA_BASE)
    div[i] = s if ym(i)[0] < 2026 else round(s * 1.12, -3)
targets[("commercial", "ca")] = div

for team in CA_BASE:
    t = targets[(team, "ca")]
    a = {}
    for i in OBS_MONTHS:
        if team == "ventes-idf":
            perf = 1.03 + noise(0.015)
        elif team == "ventes-ara":
            perf = 1.01 - 0.032 * drift_months(i) + noise(0.015)
        else:
            perf = 1.005 + noise(0.015)
        a[i] = round(t[i] * perf, 2)
    actuals[(team, "ca")] = a

# Gross margin: targets at quarter ends only.
targets[("ventes-idf", "marge")] = quarter_ends(35.0, 0.15)
targets[("ventes-ara", "marge")] = quarter_ends(34.0, 0.10)
targets[("export", "marge")] = quarter_ends(30.0, 0.10)
for team, offset in (("ventes-idf", 0.5), ("ventes-ara", 0.2), ("export", 0.3)):
    pts = targets[(team, "marge")]
    a = {}
    for i in OBS_MONTHS:
        v = interp(pts, i)
        if v is None:
            v = pts[min(pts)]
        v += offset + noise(0.25)
        if team == "ventes-ara":
            v -= 0.65 * drift_months(i)  # discounts to keep the remaining clients
        a[i] = round(v, 1)
    actuals[(team, "marge")] = a

# DSO (days, lower is better): targets at quarter ends only.
targets[("ventes-idf", "dso")] = quarter_ends(48.0, -0.5)
targets[("ventes-ara", "dso")] = quarter_ends(47.0, -0.5)
targets[("export", "dso")] = quarter_ends(60.0, -0.6)
for team, offset in (("ventes-idf", -1.0), ("ventes-ara", 0.0), ("export", -1.5)):
    pts = targets[(team, "dso")]
    a = {}
    for i in OBS_MONTHS:
        v = interp(pts, i)
        if v is None:
            v = pts[min(pts)]
        v += offset + noise(0.6)
        if team == "ventes-ara":
            v += 1.8 * drift_months(i)
        a[i] = round(v, 1)
    actuals[(team, "dso")] = a

# Operating costs (lower is better), monthly budget with a savings plan.
CH_BASE = {"fab-st-etienne": 215000, "fab-nantes": 165000, "service-client": 48000}
for team, base in CH_BASE.items():
    pts = {i: round(base * (1 - 0.004) ** k_of(i) * (0.88 if ym(i)[1] == 8 else 1.0), -2)
           for i in MONTHS}
    targets[(team, "charges")] = pts
    actuals[(team, "charges")] = {i: round(pts[i] * (0.985 + noise(0.01)), 2)
                                  for i in OBS_MONTHS}

# Headcount (FTE): targets in January and December only; HR actuals move in steps.
targets[("ventes-idf", "effectif")] = jan_dec([18, 19, 19, 21])
targets[("ventes-ara", "effectif")] = jan_dec([15, 16, 16, 16.5])
targets[("fab-st-etienne", "effectif")] = jan_dec([42, 43, 43, 44])
targets[("fab-nantes", "effectif")] = jan_dec([35, 35, 35, 37])
targets[("service-client", "effectif")] = jan_dec([11, 12, 12, 12])
for team in ("ventes-idf", "ventes-ara", "fab-st-etienne", "fab-nantes", "service-client"):
    pts = targets[(team, "effectif")]
    a = {}
    for i in OBS_MONTHS:
        v = interp(pts, i)
        if v is None:
            v = pts[min(pts)]
        v = round(v * 2) / 2 + (0.2 if team != "fab-nantes" else 0.0)
        if team == "ventes-ara" and i >= mi(2026, 4):
            v = 15.0  # the sales manager left in April, not replaced
        a[i] = round(v, 1)
    actuals[(team, "effectif")] = a

# Absenteeism (%, lower is better): a two-year glide path, two target points.
ABS = {"ventes-idf": (4.5, 3.8), "ventes-ara": (5.0, 4.0), "fab-st-etienne": (6.5, 5.5),
       "fab-nantes": (6.8, 5.8), "service-client": (5.5, 4.5)}
for team, (start, end) in ABS.items():
    pts = {mi(2025, 1): start, mi(2026, 12): end}
    targets[(team, "absenteisme")] = pts
    a = {}
    for i in OBS_MONTHS:
        v = interp(pts, i)
        if v is None:
            v = start
        v += -0.15 + noise(0.08)
        if team == "ventes-ara":
            v += 0.15 + 0.08 * drift_months(i)
        a[i] = round(v, 2)
    actuals[(team, "absenteisme")] = a

# Engagement survey (quarterly): targets every half-year, scores every quarter.
QE = [mi(2024, 12) + 3 * n for n in range(9)]  # quarter-end months 2024-12 .. 2026-12
ENG = {"ventes-idf": [72, 73, 74, 75, 76], "ventes-ara": [70, 71, 72, 72, 73],
       "fab-st-etienne": [65, 66, 67, 68, 69], "fab-nantes": [63, 64, 65, 66, 67],
       "service-client": [68, 69, 70, 71, 72]}
for team, vals in ENG.items():
    pts = dict(zip(QE[0::2], vals))
    targets[(team, "engagement")] = pts
    a = {}
    for n, q in enumerate(QE[:-1]):  # observed up to 2026-Q3
        v = interp(pts, q) + 1.0 + noise(0.3)
        if team == "ventes-ara" and q >= mi(2026, 3):
            v = {mi(2026, 3): 69.4, mi(2026, 6): 67.8, mi(2026, 9): 66.1}[q]
        a[q] = round(v, 1)
    actuals[(team, "engagement")] = a

# Response time (days, lower is better): quotes for sales, tickets for the
# customer service.  Targets at quarter ends.
targets[("ventes-idf", "delai-reponse")] = quarter_ends(2.8, -0.1)
targets[("ventes-ara", "delai-reponse")] = quarter_ends(3.0, -0.075)
targets[("service-client", "delai-reponse")] = quarter_ends(1.6, -0.075)
for team in ("ventes-idf", "ventes-ara", "service-client"):
    pts = targets[(team, "delai-reponse")]
    a = {}
    for i in OBS_MONTHS:
        v = interp(pts, i)
        if v is None:
            v = pts[min(pts)]
        v += -0.1 + noise(0.04)
        if team == "ventes-ara":
            v += 0.1 + 0.06 * drift_months(i)
        a[i] = round(v, 2)
    actuals[(team, "delai-reponse")] = a

# On-time delivery (%): quarter-end targets; scrap rate (%): January/December.
targets[("fab-st-etienne", "otd")] = quarter_ends(93.0, 0.375)
targets[("fab-nantes", "otd")] = quarter_ends(91.0, 0.5)
targets[("fab-st-etienne", "rebut")] = jan_dec([3.0, 2.6, 2.6, 2.2])
targets[("fab-nantes", "rebut")] = jan_dec([3.5, 3.0, 3.0, 2.5])
for team in ("fab-st-etienne", "fab-nantes"):
    last = LAST_OBS if team == "fab-st-etienne" else NANTES_LAST
    for kpi, offset, amp in (("otd", 0.6, 0.2), ("rebut", -0.12, 0.03)):
        pts = targets[(team, kpi)]
        a = {}
        for i in range(FIRST, last + 1):
            v = interp(pts, i)
            if v is None:
                v = pts[min(pts)]
            a[i] = round(v + offset + noise(amp), 1 if kpi == "otd" else 2)
        actuals[(team, kpi)] = a

# NPS: targets every half-year; monthly survey average.
NPS = {"ventes-idf": [50, 51, 52, 53, 54], "ventes-ara": [46, 47, 48, 49, 50],
       "service-client": [40, 42, 44, 46, 48]}
for team, vals in NPS.items():
    pts = dict(zip(QE[0::2], vals))
    targets[(team, "nps")] = pts
    a = {}
    for i in OBS_MONTHS:
        v = interp(pts, i)
        if v is None:
            v = pts[min(pts)]
        v += 1.0 + noise(0.3)
        if team == "ventes-ara":
            v -= 2.2 * drift_months(i)
        a[i] = round(v, 1)
    actuals[(team, "nps")] = a

# Customer complaints (count, lower is better): monthly budget.
REC = {"fab-st-etienne": (14, 10), "fab-nantes": (12, 9)}
for team, (start, end) in REC.items():
    pts = {i: round(start + (end - start) * k_of(i) / (len(MONTHS) - 1)) for i in MONTHS}
    targets[(team, "reclamations")] = pts
    last = LAST_OBS if team == "fab-st-etienne" else NANTES_LAST
    a = {}
    for i in range(FIRST, last + 1):
        v = start + (end - start) * k_of(i) / (len(MONTHS) - 1) - 1.2 - 0.03 * k_of(i)
        a[i] = max(0, round(v + noise(0.3)))
    actuals[(team, "reclamations")] = a


# --------------------------------------------------------------------------
# Writers

def fr_number(value, decimals, group):
    """French Excel number: decimal comma, thousands grouped with `group`."""
    text = "%.*f" % (decimals, value)
    neg = text.startswith("-")
    if neg:
        text = text[1:]
    whole, _, frac = text.partition(".")
    if group:
        parts = []
        while len(whole) > 3:
            parts.insert(0, whole[-3:])
            whole = whole[:-3]
        parts.insert(0, whole)
        whole = group.join(parts)
    out = whole + ("," + frac if frac else "")
    return ("-" if neg else "") + out


def write_bytes(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def csv_field(text):
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_lines(rows):
    return "".join(",".join(csv_field(str(c)) for c in r) + "\n" for r in rows)


def plain(v):
    """Shortest exact text of a number already rounded by the generator."""
    if float(v) == int(v):
        return str(int(v))
    return repr(float(v))


# teams.csv, indicators.csv: UTF-8, ',' delimiter, LF
write_bytes("teams.csv", csv_lines([("team", "name", "parent")] + TEAMS).encode("utf-8"))
write_bytes("indicators.csv", csv_lines(
    [("kpi", "name", "family", "unit", "direction", "period", "aggregate", "amber", "red",
      "weight")] + INDICATORS).encode("utf-8"))

# finance.csv: the monthly financial actuals as the accounting department's
# French Excel saves them ("CSV (séparateur : point-virgule)"): cp1252, ';',
# CRLF, DD/MM/YYYY, decimal comma, grouped thousands, display names.
fin_rows = ["Date;Équipe;Indicateur;Valeur"]
MISSING = {("export", "marge", mi(2025, 4)), ("fab-nantes", "charges", mi(2025, 8)),
           ("ventes-idf", "dso", mi(2025, 2))}
n = 0
for i in OBS_MONTHS:
    y, m = ym(i)
    date = "%02d/%02d/%04d" % (last_day(i), m, y)
    for team, kpi in (("ventes-idf", "ca"), ("ventes-ara", "ca"), ("export", "ca"),
                      ("ventes-idf", "marge"), ("ventes-ara", "marge"), ("export", "marge"),
                      ("ventes-idf", "dso"), ("ventes-ara", "dso"), ("export", "dso"),
                      ("fab-st-etienne", "charges"), ("fab-nantes", "charges"),
                      ("service-client", "charges")):
        v = actuals[(team, kpi)][i]
        if (team, kpi, i) in MISSING:
            cell = ("n.d.", "N.D.", "n.d.")[n % 3]
            del actuals[(team, kpi)][i]
        elif kpi in ("ca", "charges"):
            group = ("\u00a0", " ", "")[n % 3]  # no-break space, space, none
            cell = fr_number(v, 2, group)
        elif kpi == "marge":
            cell = fr_number(v, 1, "") + " %"
        else:
            cell = fr_number(v, 1, "")
        n += 1
        fin_rows.append(";".join((date, NAME[team], KPI_NAME[kpi], cell)))
write_bytes("finance.csv", ("\r\n".join(fin_rows) + "\r\n").encode("cp1252"))

# rh_effectifs.csv: the payroll software's export, wide layout (one column per
# indicator, headed with the indicators' display names), UTF-8 with a BOM,
# dates DD.MM.YYYY, teams as upper-case codes.  Export's staff are on the
# Île-de-France payroll: its rows are present but empty.
hr = [("Fin de période", "Service", KPI_NAME["effectif"], KPI_NAME["absenteisme"])]
for i in OBS_MONTHS:
    y, m = ym(i)
    date = "%02d.%02d.%04d" % (last_day(i), m, y)
    for team in ("ventes-idf", "ventes-ara", "export", "fab-st-etienne", "fab-nantes",
                 "service-client"):
        if team == "export":
            hr.append((date, team.upper(), "", ""))
            continue
        hr.append((date, team.upper(), plain(actuals[(team, "effectif")][i]),
                   plain(actuals[(team, "absenteisme")][i])))
write_bytes("rh_effectifs.csv", b"\xef\xbb\xbf" + csv_lines(hr).encode("utf-8"))

# operations.csv: process and customer indicators, long layout, plain UTF-8.
ops = [("date", "team", "kpi", "value")]
for i in OBS_MONTHS:
    for team, kpi in (("ventes-idf", "delai-reponse"), ("ventes-ara", "delai-reponse"),
                      ("service-client", "delai-reponse"),
                      ("fab-st-etienne", "otd"), ("fab-nantes", "otd"),
                      ("fab-st-etienne", "rebut"), ("fab-nantes", "rebut"),
                      ("ventes-idf", "nps"), ("ventes-ara", "nps"), ("service-client", "nps"),
                      ("fab-st-etienne", "reclamations"), ("fab-nantes", "reclamations")):
        a = actuals[(team, kpi)]
        if i not in a:
            continue  # Nantes stopped reporting after June 2026
        v = plain(a[i])
        if kpi in ("otd", "rebut"):
            v += "%"
        ops.append((label(i), team, kpi, v))
write_bytes("operations.csv", csv_lines(ops).encode("utf-8"))

# enquete_engagement.csv: the quarterly survey, YYYY-Qn, teams by display name.
eng = [("Trimestre", "Équipe", "Score")]
for q in QE[:-1]:
    y, m = ym(q)
    for team in ENG:
        eng.append(("%04d-Q%d" % (y, m // 3), NAME[team], plain(actuals[(team, "engagement")][q])))
write_bytes("enquete_engagement.csv", csv_lines(eng).encode("utf-8"))

# budget.csv: the budget sheet, periods layout (team, kpi, one column per
# month 2024-11 .. 2026-12), empty where the budget sets no point.
bud = [["team", "kpi"] + [label(i) for i in MONTHS]]
order = [t for t, _, _ in TEAMS]
korder = [k[0] for k in INDICATORS]
for (team, kpi) in sorted(targets, key=lambda tk: (order.index(tk[0]), korder.index(tk[1]))):
    pts = targets[(team, kpi)]
    bud.append([team, kpi] + [plain(pts[i]) if i in pts else "" for i in MONTHS])
write_bytes("budget.csv", csv_lines(bud).encode("utf-8"))

print("wrote teams.csv indicators.csv finance.csv rh_effectifs.csv operations.csv "
      "enquete_engagement.csv budget.csv")
