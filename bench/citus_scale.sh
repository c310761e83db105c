#!/usr/bin/env bash
# Scale-out on Citus: scoring and training (options.engine 'aggregate') on a distributed table of N
# leads (default 1,000,000; 32 shards on two workers) against the same on a local table of the
# coordinator ("one node"), in the same run. All three nodes share this machine's cores, so the
# ratio shows the overhead of distribution here, not the speed-up of real separate workers. Steps:
# train() (with the rows it read into the backend, options.sample_rows, and the coordinator
# backend's peak memory growth, VmHWM from /proc), score(), tier()
# and roc_auc() over the table (a partial aggregate per shard on Citus).
# Usage: bash bench/citus_scale.sh [ROWS]
source "$(dirname "$0")/lib.sh"
source "$BENCH_ROOT/scripts/citus.sh"
rows=${1:-1000000}
bench_venv
(cd "$BENCH_ROOT" && bash scripts/setup.sh >/dev/null)
citus_build
# LEAD_SCORING_BENCH_INSTALLED=1: measure the build installed already (say which in the results).
if [ "${LEAD_SCORING_BENCH_INSTALLED:-0}" != 1 ]; then
  echo "bench: building and installing the release build" >&2
  (cd "$BENCH_ROOT" && install_extension --release 2>/dev/null)
fi
citus_cluster_start "${LEAD_SCORING_CITUS_BENCH_PORT:-28880}" -c shared_buffers=1GB -c work_mem=256MB \
  -c max_parallel_workers_per_gather=0 -c jit=off
cpsql() { citus_psql "$@"; }
cpsql -c "SELECT lead_scoring.distribute_catalog()" >/dev/null
echo "bench: generating and loading $rows leads" >&2
"$BENCH_PY" "$BENCH_ROOT/bench/make_leads.py" "$rows" 7 | cpsql -f "$BENCH_ROOT/bench/load_leads.sql" >/dev/null
cpsql -c "CREATE TABLE dist_leads (LIKE bench_leads)" -c "SELECT create_distributed_table('dist_leads', 'id')" \
  -c "INSERT INTO dist_leads SELECT * FROM bench_leads" -c "VACUUM ANALYZE dist_leads" -c "VACUUM ANALYZE bench_leads" >/dev/null
opts='{"split": {"method": "column", "column": "part"}, "exclude": ["id"], "engine": "aggregate"}'
timed() { local t0 t1; t0=$(date +%s%N); cpsql -c "$1" >/dev/null; t1=$(date +%s%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
# train() in one session: wall seconds and the backend's peak memory growth (MB) during it.
train_with_peak() {
  local out
  out=$(cpsql -At <<SQL
SELECT lead_scoring.is_personal_email('a@example.com');  -- loads the library
SELECT split_part(regexp_replace(pg_read_file('/proc/' || pg_backend_pid() || '/status'), '.*VmHWM:\s+(\d+) kB.*', '\1', 's'), ' ', 1);
SELECT extract(epoch FROM clock_timestamp());
SELECT version FROM lead_scoring.train('$1', '$2', 'converted', options => '$opts');
SELECT extract(epoch FROM clock_timestamp());
SELECT split_part(regexp_replace(pg_read_file('/proc/' || pg_backend_pid() || '/status'), '.*VmHWM:\s+(\d+) kB.*', '\1', 's'), ' ', 1);
SQL
  )
  awk 'NR == 2 { hwm0 = $1 } NR == 3 { t0 = $1 } NR == 5 { t1 = $1 } NR == 6 { printf "%.2f %.0f", t1 - t0, ($1 - hwm0) / 1024 }' <<<"$out"
}
echo "bench: training" >&2
read -r train_local peak_local <<<"$(train_with_peak one_node bench_leads)"
read -r train_dist peak_dist <<<"$(train_with_peak distributed dist_leads)"
same=$(cpsql -tA -c "SELECT max(abs(d.coefficient - l.coefficient)) < 1e-6 FROM lead_scoring.feature_importance('distributed') d JOIN lead_scoring.feature_importance('one_node') l USING (feature)")
# The rows the coordinator read (options.sample_rows) out of all of them.
sampled=$(cpsql -tA -c "SELECT (training->'sample'->>'rows_sampled') || ' of ' || (training->>'rows') FROM lead_scoring.models WHERE name = 'distributed'")
best3() {
  local best=""
  for _ in 1 2 3; do best=$(best_of "$best" "$(timed "$1")"); done
  echo "$best"
}
echo "bench: scoring" >&2
score_local=$(best3 "SELECT sum(lead_scoring.score('one_node', l)) FROM bench_leads l")
score_dist=$(best3 "SELECT sum(lead_scoring.score('one_node', l)) FROM dist_leads l")
tier_local=$(best3 "SELECT lead_scoring.tier('one_node', l), count(*) FROM bench_leads l GROUP BY 1")
tier_dist=$(best3 "SELECT lead_scoring.tier('one_node', l), count(*) FROM dist_leads l GROUP BY 1")
auc_local=$(best3 "SELECT lead_scoring.roc_auc(lead_scoring.score('one_node', l), converted) FROM bench_leads l")
auc_dist=$(best3 "SELECT lead_scoring.roc_auc(lead_scoring.score('one_node', l), converted) FROM dist_leads l")
same_auc=$(cpsql -tA -c "SELECT (SELECT lead_scoring.roc_auc(lead_scoring.score('one_node', l), converted) FROM bench_leads l)
                              = (SELECT lead_scoring.roc_auc(lead_scoring.score('one_node', l), converted) FROM dist_leads l)")
echo "| rows | step | one node (s) | distributed, 2 workers (s) | distributed / one node |"
echo "| --- | --- | --- | --- | --- |"
echo "| $rows | train(), engine aggregate (coefficients equal to 1e-6: $same; rows read into the coordinator: $sampled; coordinator peak memory growth: one node $peak_local MB, distributed $peak_dist MB) | $train_local | $train_dist | $(ratio "$train_dist" "$train_local")x |"
echo "| $rows | sum(score()) over the table, best of 3 | $score_local | $score_dist | $(ratio "$score_dist" "$score_local")x |"
echo "| $rows | count(*) GROUP BY tier(), best of 3 | $tier_local | $tier_dist | $(ratio "$tier_dist" "$tier_local")x |"
echo "| $rows | roc_auc(score(), converted), best of 3 (equal: $same_auc) | $auc_local | $auc_dist | $(ratio "$auc_dist" "$auc_local")x |"
