#!/usr/bin/env bash
# Training-time and training-memory targets: training logistic in the database, end to end (reading the table
# included), against reading the same table into pandas and fitting scikit-learn's
# LogisticRegression (same preprocessing, C = 1 / alpha = 1): at most 0.3x the time, test ROC
# AUC within 0.002; time per size (linear scaling); peak backend memory against the float64
# design matrix (training rows x model inputs x 8 bytes), target at most 3x at 1,000,000 rows.
# Both engines are measured ('memory' and 'aggregate', no parallel workers).
# Peak memory: the backend's VmHWM minus its shared memory (RssShmem, the buffer pool pages it
# touched), from /proc/self/status read by the backend itself after train().
# Usage: bash bench/train_speed.sh [SIZES...]   (default: 100000 1000000)
source "$(dirname "$0")/lib.sh"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
bench_venv
bench_start
opts_for() { echo "{\"split\": {\"method\": \"column\", \"column\": \"part\"}, \"exclude\": [\"id\"], \"engine\": \"$1\"}"; }
status=0
echo "| rows | path | time (s) | test ROC AUC | peak private memory (MB) | design matrix (MB) | memory ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for n in "${sizes[@]}"; do
  echo "bench: generating and loading $n leads" >&2
  "$BENCH_PY" "$BENCH_ROOT/bench/make_leads.py" "$n" 7 | bench_psql -f "$BENCH_ROOT/bench/load_leads.sql" >/dev/null
  bench_psql -c "VACUUM (FREEZE) bench_leads" >/dev/null
  for engine in memory aggregate; do
    echo "bench: $n rows, engine $engine" >&2
    out=$(bench_psql -tA -F' ' <<SQL
SELECT count(*) FROM bench_leads \gset
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT (metrics->'test'->>'roc_auc')::numeric(6,4) AS auc FROM lead_scoring.train('m_${engine}_$n', 'bench_leads', 'converted', options => '$(opts_for "$engine")') \gset
SELECT round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 2), :auc,
       (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1]::bigint
         - (regexp_match(pg_read_file('/proc/self/status'), 'RssShmem:\s+(\d+)'))[1]::bigint,
       (training->'parts'->'train'->>'rows')::bigint * (training->>'inputs')::bigint * 8
  FROM lead_scoring.models WHERE name = 'm_${engine}_$n';
SQL
)
    read -r secs auc kb matrix <<<"$out"
    # Where the time went (training.seconds), for BENCHMARKS.md.
    phases=$(bench_psql -tA -c "SELECT string_agg(key || ' ' || value, ', ' ORDER BY value::float8 DESC) FROM lead_scoring.models, jsonb_each(training->'seconds') WHERE name = 'm_${engine}_$n'")
    echo "bench: $n rows, engine $engine phases (s): $phases" >&2
    mb=$(awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }'); mmb=$(awk -v b="$matrix" 'BEGIN { printf "%.0f", b / 1048576 }')
    mr=$(awk -v k="$kb" -v b="$matrix" 'BEGIN { printf "%.2f", k * 1024 / b }')
    eval "t_${engine}=$secs; auc_${engine}=$auc; mr_${engine}=$mr"
    echo "| $n | lead_scoring.train(), engine $engine | $secs | $auc | $mb | $mmb | ${mr}x |"
  done
  echo "bench: $n rows, pandas + scikit-learn" >&2
  read -r py_load py_fit py_auc _ < <("$BENCH_PY" "$BENCH_ROOT/bench/sklearn_baseline.py" train "$(bench_dsn)" bench_leads)
  py=$(awk -v a="$py_load" -v b="$py_fit" 'BEGIN { printf "%.2f", a + b }')
  echo "| $n | COPY to pandas $py_load + scikit-learn fit $py_fit | $py | $py_auc | | | |"
  for engine in memory aggregate; do
    t=$(eval echo "\$t_$engine"); a=$(eval echo "\$auc_$engine"); r=$(ratio "$t" "$py")
    d=$(awk -v a="$a" -v b="$py_auc" 'BEGIN { printf "%+.4f", a - b }')
    ok=$(awk -v r="$r" -v d="$d" 'BEGIN { print (r <= 0.3 && d >= -0.002 && d <= 0.002) ? "met" : "MISSED" }')
    # The target is set at 1,000,000 rows, on the engine train() picks there by default
    # (memory below 3,000,000 rows); other sizes and the aggregate engine are reported only.
    if [ "$engine" = memory ] && [ "$n" -ge 1000000 ]; then
      [ "$ok" = met ] || status=1
    else
      ok="$ok (reported, not a target)"
    fi
    echo "| $n | $engine engine / Python: ${r}x (target <= 0.3), AUC difference $d (target within 0.002) | $ok | | | | |"
  done
  if [ "$n" -ge 1000000 ]; then
    ok=$(awk -v r="$mr_memory" 'BEGIN { print (r <= 3) ? "met" : "MISSED" }'); [ "$ok" = met ] || status=1
    echo "| $n | peak memory of the memory engine / design matrix: ${mr_memory}x (target <= 3) | $ok | | | | |"
  fi
done
exit $status
