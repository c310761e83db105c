#!/usr/bin/env bash
# Scale-out on Citus: scoring and training (options.engine 'aggregate') on a distributed table of N
# leads (default 1,000,000; 32 shards on two workers) against the same on a local table of the
# coordinator ("one node"), in the same run. All three nodes share this machine's cores, so the
# ratio shows the overhead of distribution here, not the speed-up of real separate workers.
# Usage: bash bench/citus_scale.sh [ROWS]
source "$(dirname "$0")/lib.sh"
source "$BENCH_ROOT/scripts/citus.sh"
rows=${1:-1000000}
bench_venv
(cd "$BENCH_ROOT" && bash scripts/setup.sh >/dev/null)
citus_build
echo "bench: building and installing the release build" >&2
(cd "$BENCH_ROOT" && install_extension --release 2>/dev/null)
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
echo "bench: training" >&2
train_local=$(timed "SELECT version FROM lead_scoring.train('one_node', 'bench_leads', 'converted', options => '$opts')")
train_dist=$(timed "SELECT version FROM lead_scoring.train('distributed', 'dist_leads', 'converted', options => '$opts')")
same=$(cpsql -tA -c "SELECT max(abs(d.coefficient - l.coefficient)) < 1e-6 FROM lead_scoring.feature_importance('distributed') d JOIN lead_scoring.feature_importance('one_node') l USING (feature)")
echo "bench: scoring" >&2
score_local=""; score_dist=""
for _ in 1 2 3; do
  score_local=$(best_of "$score_local" "$(timed "SELECT sum(lead_scoring.score('one_node', l)) FROM bench_leads l")")
  score_dist=$(best_of "$score_dist" "$(timed "SELECT sum(lead_scoring.score('one_node', l)) FROM dist_leads l")")
done
echo "| rows | step | one node (s) | distributed, 2 workers (s) | distributed / one node |"
echo "| --- | --- | --- | --- | --- |"
echo "| $rows | train(), engine aggregate (coefficients equal to 1e-6: $same) | $train_local | $train_dist | $(ratio "$train_dist" "$train_local")x |"
echo "| $rows | sum(score()) over the table, best of 3 | $score_local | $score_dist | $(ratio "$score_dist" "$score_local")x |"
