#!/usr/bin/env bash
# Parallel-training target: the aggregate engine with 2 parallel workers at least 1.5x faster than with
# none. Trains the same logistic model twice on N synthetic leads (default 1,000,000) with
# options.engine = 'aggregate', max_parallel_workers_per_gather 0 then 2, and compares the time
# of the aggregate passes (training.engine_pass_seconds) and of the whole train().
# Usage: bash bench/parallel_training.sh [ROWS]
source "$(dirname "$0")/lib.sh"
rows=${1:-1000000}
bench_venv
bench_start
echo "bench: generating and loading $rows leads" >&2
"$BENCH_PY" "$BENCH_ROOT/bench/make_leads.py" "$rows" 7 | bench_psql -f "$BENCH_ROOT/bench/load_leads.sql" >/dev/null
bench_psql -c "VACUUM (FREEZE) bench_leads" >/dev/null
opts='{"split": {"method": "column", "column": "part"}, "exclude": ["id"], "engine": "aggregate"}'
echo "| workers | train() (s) | aggregate passes (s) | passes | test ROC AUC |"
echo "| --- | --- | --- | --- | --- |"
for w in 0 2; do
  echo "bench: $w workers" >&2
  out=$(bench_psql -tA -F' ' <<SQL
SET max_parallel_workers_per_gather = $w;
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT version FROM lead_scoring.train('p$w', 'bench_leads', 'converted', options => '$opts') \gset
SELECT round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 2), training->>'engine_pass_seconds',
       training->>'engine_passes', (metrics->'test'->>'roc_auc')::numeric(6,4)
  FROM lead_scoring.models WHERE name = 'p$w';
SQL
)
  read -r total passes_s passes auc <<<"$out"
  eval "total_$w=$total; passes_$w=$passes_s"
  echo "| $w | $total | $passes_s | $passes | $auc |"
done
r=$(ratio "$passes_0" "$passes_2"); rt=$(ratio "$total_0" "$total_2")
ok=$(awk -v r="$r" 'BEGIN { print (r >= 1.5) ? "met" : "MISSED" }')
echo "speed-up with 2 workers: passes ${r}x, whole train() ${rt}x (target >= 1.5x on the passes): $ok"
[ "$ok" = met ]
