#!/usr/bin/env bash
# Explanation-speed target: explaining 10,000 leads takes at most 20x the time of scoring them, for the
# logistic and the gbm model. Prints the ratios and exits non-zero when a target is missed.
# Usage: bash bench/explain_speed.sh   (generates its data; about 2 minutes after the build)
source "$(dirname "$0")/lib.sh"
bench_venv
bench_start
"$BENCH_PY" "$BENCH_ROOT/bench/make_leads.py" 100000 7 | bench_psql -f "$BENCH_ROOT/bench/load_leads.sql" >/dev/null
bench_psql -c "CREATE TABLE sample AS SELECT * FROM bench_leads WHERE part = 'test' LIMIT 10000" >/dev/null
opts='{"split": {"method": "column", "column": "part"}, "exclude": ["id"]}'
bench_psql -c "SELECT version FROM lead_scoring.train('lin', 'bench_leads', 'converted', options => '$opts')" >/dev/null
# threads is an option of gbm only (a logistic training refuses it).
opts_gbm='{"split": {"method": "column", "column": "part"}, "exclude": ["id"], "threads": 2}'
bench_psql -c "SELECT version FROM lead_scoring.train('trees', 'bench_leads', 'converted', algorithm => 'gbm', options => '$opts_gbm')" >/dev/null
status=0
echo "| model | score 10,000 leads (s) | explain 10,000 leads (s) | ratio | target |"
echo "| --- | --- | --- | --- | --- |"
for m in lin trees; do
  score=$(best_seconds "SELECT count(lead_scoring.score('$m', s)) FROM sample s")
  explain=$(best_seconds "SELECT count(*) FROM sample s, LATERAL lead_scoring.explain('$m', s) e")
  r=$(ratio "$explain" "$score")
  ok=$(awk -v r="$r" 'BEGIN { print (r <= 20) ? "met (<= 20x)" : "MISSED (> 20x)" }')
  [ "${ok%% *}" = "met" ] || status=1
  echo "| $m | $score | $explain | ${r}x | $ok |"
done
exit $status
