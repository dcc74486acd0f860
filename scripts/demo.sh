#!/usr/bin/env bash
# The quick start: install what is missing, build, import the bundled example
# company into the default data directory (./kpi-data, or $KPI_DATA), show what
# it holds, its drift and alerts, then serve the dashboard on it (KPI_LISTEN,
# default 127.0.0.1:8080) until Ctrl-C. Safe to run again: importing is
# idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
bash scripts/build.sh release >/dev/null
kpi=$PWD/build/release/kpi
export KPI_DATA=${KPI_DATA:-$PWD/kpi-data}
# The example's story is told as of its last month, so it reads the same next year.
as_of=2026-10-31

echo "== Importing the example company into $KPI_DATA"
"$kpi" import examples/teams.csv --kind teams
"$kpi" import examples/indicators.csv --kind indicators
"$kpi" import examples/budget.csv --kind targets --strict
"$kpi" import examples/finance.csv --encoding cp1252 --strict
"$kpi" import examples/rh_effectifs.csv --column 'date=Fin de période' --date-format '%d.%m.%Y' --strict
"$kpi" import examples/operations.csv --strict
"$kpi" import examples/enquete_engagement.csv --kpi engagement --column date=Trimestre \
    --column value=Score --strict

echo
echo "== Teams"
"$kpi" teams --tree --format table
echo
echo "== Indicators"
"$kpi" indicators --format table
echo
echo "== Drift of every team as of $as_of"
"$kpi" drift --as-of "$as_of" --format table
echo
echo "== Alerts as of $as_of"
"$kpi" alerts --as-of "$as_of" --format table

# The dashboard, on the same data and the same pinned as-of date. Stop it with Ctrl-C.
listen=${KPI_LISTEN:-127.0.0.1:8080}
echo
echo "== Dashboard: http://$listen/  (Ctrl-C stops the server)"
exec "$kpi" serve --listen "$listen" --as-of "$as_of"
