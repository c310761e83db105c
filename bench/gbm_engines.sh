#!/usr/bin/env bash
# The gradient boosting engines side by side, outside the database: LightGBM, forust and
# perpetual fitted on the same synthetic leads and split in one run (bench/gbm_engines.py).
# Usage: bash bench/gbm_engines.sh [LEADS]   (LEADS defaults to 100000; adds lightgbm, forust
# and perpetual from PyPI to bench/.venv if missing)
source "$(dirname "$0")/lib.sh"
bench_venv
for pkg in lightgbm forust perpetual; do
  "$BENCH_PY" -c "import $pkg" 2>/dev/null || "$BENCH_ROOT/bench/.venv/bin/pip" install -q "$pkg" >&2
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$BENCH_PY" "$BENCH_ROOT/bench/make_leads.py" "${1:-100000}" 7 > "$dir/leads.csv"
"$BENCH_PY" "$BENCH_ROOT/bench/gbm_engines.py" "$dir/leads.csv"
