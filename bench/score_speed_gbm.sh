#!/usr/bin/env bash
# Scoring-speed targets for boosted trees: scoring N leads (default 1,000,000; 9 numeric and 10
# text columns) with a 300-tree gbm model (31 leaves, trained on 100,000 of them) with
#   score()   at most 2x SELECT count(l.*) (forming the row a row-taking function gets),
#   and at least 5x faster than the Python round trip with LightGBM (COPY out to pandas,
#   LightGBM predict_proba, COPY back), all measured in this run, best of 5 taking turns (the
#   round trip once). Prints the times and ratios; exits non-zero when a target is missed.
# Usage: bash bench/score_speed_gbm.sh [ROWS]   (adds lightgbm from PyPI to bench/.venv if missing)
source "$(dirname "$0")/lib.sh"
rows=${1:-1000000}
bench_venv
"$BENCH_PY" -c "import lightgbm" 2>/dev/null || "$BENCH_ROOT/bench/.venv/bin/pip" install -q lightgbm >&2
bench_start
echo "bench: generating and loading $rows leads" >&2
"$BENCH_PY" "$BENCH_ROOT/bench/make_leads.py" "$rows" 7 | bench_psql -f "$BENCH_ROOT/bench/load_leads.sql" >/dev/null
bench_psql -c "VACUUM (FREEZE) bench_leads" >/dev/null
bench_psql -c "CREATE TABLE train_sample AS SELECT * FROM bench_leads WHERE id <= 100000" >/dev/null
opts='{"split": {"method": "column", "column": "part"}, "exclude": ["id"], "trees": 300, "learning_rate": 0.05, "max_leaves": 31, "max_depth": 64, "early_stopping_rounds": 0, "threads": 2}'
bench_psql -c "SELECT version FROM lead_scoring.train('g', 'train_sample', 'converted', algorithm => 'gbm', options => '$opts')" >/dev/null
trees=$(bench_psql -tA -c "SELECT training->>'iterations' FROM lead_scoring.models WHERE name = 'g'")
phases=$(bench_psql -tA -c "SELECT training->'seconds' FROM lead_scoring.models WHERE name = 'g'")
echo "bench: timing" >&2
count=""; score=""
for _ in $(seq 5); do
  count=$(best_of "$count" "$(best_seconds "SELECT count(l.*) FROM bench_leads l" 1)")
  score=$(best_of "$score" "$(best_seconds "SELECT sum(lead_scoring.score('g', l)) FROM bench_leads l" 1)")
done
read -r py_out py_predict py_back < <("$BENCH_PY" "$BENCH_ROOT/bench/sklearn_baseline.py" score_lightgbm "$(bench_dsn)" bench_leads train_sample)
python=$(awk -v a="$py_out" -v b="$py_predict" -v c="$py_back" 'BEGIN { printf "%.3f", a + b + c }')
r_count=$(ratio "$score" "$count"); r_python=$(ratio "$python" "$score")
met() { if awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !((op == "<=") ? v <= t : v >= t) }'; then echo met; else echo "**MISSED**"; fi; }
echo "rows: $rows; gbm model: ${trees:-?} trees; its training's seconds per phase: $phases"
echo "| path | time (s) |"
echo "| --- | --- |"
echo "| SELECT count(l.*) FROM bench_leads l | $count |"
echo "| SELECT sum(lead_scoring.score('g', l)) | $score |"
echo "| Python: COPY out to pandas $py_out + LightGBM predict_proba $py_predict + COPY back $py_back | $python |"
echo
echo "| target | ratio | |"
echo "| --- | --- | --- |"
echo "| score() / count(l.*) <= 2 | ${r_count}x | $(met "$r_count" "<=" 2) |"
echo "| Python round trip / score() >= 5 | ${r_python}x | $(met "$r_python" ">=" 5) |"
[ "$(met "$r_count" "<=" 2)" = met ] && [ "$(met "$r_python" ">=" 5)" = met ]
