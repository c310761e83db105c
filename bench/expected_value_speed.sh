#!/usr/bin/env bash
# expected_value() on N leads (default 1,000,000; 9 numeric and 10 text columns) with a logistic
# conversion model and a linear value model (a regression of column n0 on the others), three ways,
# best of 5 taking turns:
#   expected_value('lin', 'val', l) FROM bench_leads l       the planner passes the row's columns
#                                                             (expected_value_fields)
#   the same FROM (SELECT * FROM bench_leads OFFSET 0) l     the whole row formed and taken apart
#   score('lin', l) * greatest(score('val', l), 0)           two score() calls, each given columns
# Prints the times, the ratios of the whole-row call and of the two score() calls to the
# rewritten call, and whether the two expected_value() sums agree to the last bit; exits non-zero
# when they differ or the rewritten call is not faster than the whole-row one.
# Usage: bash bench/expected_value_speed.sh [ROWS]
source "$(dirname "$0")/lib.sh"
rows=${1:-1000000}
bench_venv
bench_start
echo "bench: generating and loading $rows leads" >&2
"$BENCH_PY" "$BENCH_ROOT/bench/make_leads.py" "$rows" 7 | bench_psql -f "$BENCH_ROOT/bench/load_leads.sql" >/dev/null
bench_psql -c "VACUUM (FREEZE) bench_leads" >/dev/null
bench_psql -c "CREATE TABLE train_sample AS SELECT * FROM bench_leads WHERE id <= 100000" >/dev/null
split='"split": {"method": "column", "column": "part"}'
bench_psql -c "SELECT version FROM lead_scoring.train('lin', 'train_sample', 'converted', options => '{$split, \"exclude\": [\"id\"]}')" >/dev/null
bench_psql -c "SELECT version FROM lead_scoring.train('val', 'train_sample', 'n0', options => '{$split, \"exclude\": [\"id\", \"converted\"], \"task\": \"regression\"}')" >/dev/null
rewritten="SELECT sum(lead_scoring.expected_value('lin', 'val', l)) FROM bench_leads l"
whole="SELECT sum(lead_scoring.expected_value('lin', 'val', l)) FROM (SELECT * FROM bench_leads OFFSET 0) l"
two="SELECT sum(lead_scoring.score('lin', l) * greatest(lead_scoring.score('val', l), 0)) FROM bench_leads l"
plan=$(bench_psql -tA -c "EXPLAIN (VERBOSE, COSTS OFF) $rewritten" | grep -c "expected_value_fields(" || true)
same=$(bench_psql -tA -c "SELECT ($rewritten)::text = ($whole)::text")
echo "bench: timing" >&2
t_rewritten=""; t_whole=""; t_two=""
for _ in $(seq 5); do
  t_rewritten=$(best_of "$t_rewritten" "$(best_seconds "$rewritten" 1)")
  t_whole=$(best_of "$t_whole" "$(best_seconds "$whole" 1)")
  t_two=$(best_of "$t_two" "$(best_seconds "$two" 1)")
done
r_whole=$(ratio "$t_whole" "$t_rewritten"); r_two=$(ratio "$t_two" "$t_rewritten")
echo "rows: $rows; plan uses expected_value_fields: $([ "$plan" -gt 0 ] && echo yes || echo no); the two expected_value() sums equal to the last bit: $same"
echo "| path | time (s) | / rewritten |"
echo "| --- | --- | --- |"
echo "| expected_value('lin', 'val', l) FROM bench_leads l (columns) | $t_rewritten | 1.00x |"
echo "| the same over (SELECT * FROM bench_leads OFFSET 0) l (whole row) | $t_whole | ${r_whole}x |"
echo "| score('lin', l) * greatest(score('val', l), 0) | $t_two | ${r_two}x |"
[ "$plan" -gt 0 ] && [ "$same" = t ] && awk -v r="$r_whole" 'BEGIN { exit !(r > 1) }'
