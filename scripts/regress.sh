#!/usr/bin/env bash
# SQL regression tests with expected output (tests/pg_regress/{sql,expected}), run by Postgres'
# own pg_regress against the installed extension in a scratch cluster, like `make installcheck`.
# Works as root (the cluster runs as postgres) and as a normal user. `--accept` copies the
# actual output over the expected files after a run (review the diff first!).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh
PG_REGRESS=$($PG_CONFIG --pkglibdir)/pgxs/src/test/regress/pg_regress
PORT=${LEAD_SCORING_REGRESS_PORT:-28817}
TESTS=(setup quickstart evaluation cache_invalidation features workflow preprocessing monitoring model_sql)
# schedule.sql needs pg_cron preloaded (below) and waits for a job to run (up to a minute).
TESTS+=(schedule)

echo "== installing the extension (debug build)"
install_extension

# pg_cron (Debian's postgresql-15-cron, installed by scripts/setup.sh) for the scheduling
# test: jobs run as background workers, so they need no TCP connection or password.
# client_min_messages=warning keeps NOTICEs out of the expected output, as cargo pgrx regress does.
scratch_cluster_start lead_scoring_regress "$PORT" -c client_min_messages=warning \
  -c shared_preload_libraries=pg_cron -c cron.database_name=lead_scoring_regress -c cron.use_background_workers=on
scratch=$SCRATCH_DIR
as_pg "$BIN/createdb" -h "$scratch" -p "$PORT" -U postgres lead_scoring_regress

mkdir -p "$scratch/out"
[ "$(id -u)" -eq 0 ] && chown postgres: "$scratch/out"
status=0
as_pg "$PG_REGRESS" --use-existing --host="$scratch" --port="$PORT" --user=postgres \
  --dbname=lead_scoring_regress --inputdir=tests/pg_regress --outputdir="$scratch/out" \
  "${TESTS[@]}" || status=$?
if [ "${1:-}" = "--accept" ]; then
  for t in "${TESTS[@]}"; do cp "$scratch/out/results/$t.out" "tests/pg_regress/expected/$t.out"; done
  echo "regress: copied actual output to tests/pg_regress/expected/"
elif [ $status -ne 0 ]; then
  cat "$scratch/out/regression.diffs" || true
fi
exit $status
