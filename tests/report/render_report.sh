#!/usr/bin/env bash
# The model report, tested for real: trains a model on the demo CRM in a scratch cluster,
# writes lead_scoring.report() to an .html file, renders it with headless Chromium (Debian's
# `chromium`, installed by scripts/setup.sh) and checks the page has its charts: the inline
# <svg> elements and chart titles in the HTML, and a screenshot that is not blank
# (tests/report/check_png.py). Exits non-zero on any failure.
#
#   bash tests/report/render_report.sh                          # test
#   bash tests/report/render_report.sh --screenshot docs/report.png   # test and keep the screenshot
#
# Installs the extension first unless LEAD_SCORING_SKIP_INSTALL=1 (scripts/test.sh sets it:
# scripts/regress.sh has just installed the same build).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
PG_CONFIG=${LEAD_SCORING_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BIN=$($PG_CONFIG --bindir)
PORT=${LEAD_SCORING_REPORT_PORT:-28818}
keep=""
if [ "${1:-}" = "--screenshot" ]; then keep=${2:?--screenshot needs a file name}; fi

as_pg() { if [ "$(id -u)" -eq 0 ]; then sudo -u postgres "$@"; else "$@"; fi; }
fail() { echo "render_report: FAILED: $*" >&2; exit 1; }

command -v chromium >/dev/null || fail "chromium is not installed (bash scripts/setup.sh installs Debian's chromium)"
if [ "${LEAD_SCORING_SKIP_INSTALL:-0}" != 1 ]; then
  echo "== installing the extension (debug build)"
  if [ "$(id -u)" -eq 0 ]; then
    cargo pgrx install --pg-config "$PG_CONFIG" >/dev/null
  else
    cargo pgrx install --sudo --pg-config "$PG_CONFIG" >/dev/null
  fi
fi

scratch=$(mktemp -d /tmp/lead_scoring_report.XXXXXX)
chmod 755 "$scratch"
[ "$(id -u)" -eq 0 ] && chown postgres: "$scratch"
cleanup() {
  as_pg "$BIN/pg_ctl" -D "$scratch/pgdata" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

as_pg "$BIN/initdb" -D "$scratch/pgdata" -A trust -U postgres --no-sync >/dev/null
as_pg "$BIN/pg_ctl" -D "$scratch/pgdata" -l "$scratch/server.log" -w \
  -o "-p $PORT -k $scratch -c listen_addresses=''" start >/dev/null
as_pg "$BIN/createdb" -h "$scratch" -p "$PORT" -U postgres lead_scoring_report
psql_() { as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$scratch" -p "$PORT" -U postgres -d lead_scoring_report "$@"; }

echo "== demo CRM, a model trained before the 2026-04-01 drift, report"
psql_ -c "SET client_min_messages = warning" \
      -c "CREATE EXTENSION lead_scoring" \
      -c "SELECT lead_scoring.generate_demo(10000, 42)" \
      -c "SELECT version FROM lead_scoring.train('demo', 'SELECT * FROM lead_scoring_demo.lead_features WHERE created_at < ''2026-04-01''',
                                                 'converted', options => '{\"exclude\": [\"lead_id\"]}')" >/dev/null
# With monitor() in the build, the drift section shows a real run on the drifted months (without
# June 2026, whose 30-day features are cut off by the end of the data, as in monitoring.sql).
monitored=$(psql_ -At -c "SELECT to_regprocedure('lead_scoring.monitor(text,text)') IS NOT NULL")
if [ "$monitored" = t ]; then
  psql_ -c "SET client_min_messages = warning" \
        -c "SELECT status FROM lead_scoring.monitor('demo', 'SELECT * FROM lead_scoring_demo.lead_features WHERE created_at >= ''2026-04-01'' AND created_at < ''2026-06-01''')" >/dev/null
fi
psql_ -At -c "SELECT lead_scoring.report('demo')" -o "$scratch/report.html"

svgs=$(grep -o '<svg' "$scratch/report.html" | wc -l)
want=5; [ "$monitored" = t ] && want=6
echo "render_report: report.html has $(wc -c <"$scratch/report.html") bytes and $svgs <svg> elements (want $want)"
[ "$svgs" -eq "$want" ] || fail "expected $want <svg> elements, found $svgs"
for title in "ROC curve (validation" "Precision-recall (validation" "Calibration (validation" "Lift by decile" \
             "Feature importance (top" "<h2>Tiers</h2>" "Latest monitoring and drift" "Model card: demo"; do
  grep -qF "$title" "$scratch/report.html" || fail "report.html lacks \"$title\""
done
if grep -qiE '<script|<link|<img|src=|href=' "$scratch/report.html"; then fail "report.html is not self-contained"; fi

echo "== headless Chromium screenshot"
mkdir "$scratch/chromium-profile"
timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --user-data-dir="$scratch/chromium-profile" --window-size=1200,2400 \
  --screenshot="$scratch/report.png" "file://$scratch/report.html" >"$scratch/chromium.log" 2>&1 \
  || { cat "$scratch/chromium.log" >&2; fail "chromium exited with an error"; }
[ -s "$scratch/report.png" ] || { cat "$scratch/chromium.log" >&2; fail "chromium wrote no screenshot"; }
python3 tests/report/check_png.py "$scratch/report.png" || fail "the screenshot does not show the charts"
if [ -n "$keep" ]; then cp "$scratch/report.png" "$keep"; echo "render_report: screenshot saved to $keep"; fi
echo "render_report: ok"
