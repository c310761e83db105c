#!/usr/bin/env bash
# lead_scoring on a Citus cluster (a coordinator and two workers, scripts/citus.sh): the specs
# in tests/citus/sql run by pg_regress on the coordinator and are compared with
# tests/citus/expected, like scripts/regress.sh. Builds Citus from ../shared/vendor on first use.
# `--accept` copies the actual output over the expected files (review the diff first!).
# LEAD_SCORING_SKIP_INSTALL=1: the extension is installed already (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster.sh
source scripts/citus.sh
PORT=${LEAD_SCORING_CITUS_PORT:-28860}
ACCEPT=0
[ "${1:-}" = --accept ] && ACCEPT=1
citus_build
[ "${LEAD_SCORING_SKIP_INSTALL:-0}" = 1 ] || install_extension
citus_cluster_start "$PORT" -c client_min_messages=warning -c lc_messages=C
SPECS=tests/citus
TESTS=()
while IFS= read -r file; do TESTS+=("$(basename "$file" .sql)"); done < <(find "$SPECS/sql" -name '*.sql' | LC_ALL=C sort)
mkdir -p "$CITUS_DIR/in" "$CITUS_DIR/out"
cp -r "$SPECS/sql" "$SPECS/expected" "$CITUS_DIR/in/"
for t in "${TESTS[@]}"; do [ -f "$CITUS_DIR/in/expected/$t.out" ] || : > "$CITUS_DIR/in/expected/$t.out"; done
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$CITUS_DIR/in" "$CITUS_DIR/out"
status=0
PG_REGRESS=$($PG_CONFIG --pkglibdir)/pgxs/src/test/regress/pg_regress
as_pg "$PG_REGRESS" --use-existing --host=127.0.0.1 --port="$PORT" --user=postgres --dbname=postgres \
  --inputdir="$CITUS_DIR/in" --outputdir="$CITUS_DIR/out" "${TESTS[@]}" || status=$?
if [ $ACCEPT -eq 1 ]; then
  for t in "${TESTS[@]}"; do cp "$CITUS_DIR/out/results/$t.out" "$SPECS/expected/$t.out"; done
  echo "citus: copied actual output to $SPECS/expected/ (review git diff)"
elif [ $status -ne 0 ]; then
  cat "$CITUS_DIR/out/regression.diffs" || true
fi
[ $status -eq 0 ] && echo "citus: ok: ${#TESTS[@]} specs on a coordinator and 2 workers"
exit $status
