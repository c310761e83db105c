#!/usr/bin/env bash
# Hostile catalog state (hostile_catalog.py) against a scratch cluster: hand edits of
# lead_scoring.models, then the server log is checked for a killed backend or a PANIC.
# Prints "hostile_catalog: N calls, M errors, 0 crashes" and "ok" lines; non-zero on a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster.sh
[ "${LEAD_SCORING_SKIP_INSTALL:-}" = 1 ] || install_extension
scratch_cluster_start lead_scoring_hostile "${LEAD_SCORING_HOSTILE_PORT:-28840}"
as_pg "$BIN/createdb" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres hostile
scratch_psql -d hostile -c "CREATE EXTENSION lead_scoring"
status=0
FUZZ_HOST=$SCRATCH_DIR FUZZ_PORT=$SCRATCH_PORT README=README.md python3 tests/reliability/hostile_catalog.py || status=$?
if grep -E "terminated by signal|PANIC|was terminated" "$SCRATCH_DIR/server.log"; then
  echo "hostile_catalog: FAIL: the server log shows a crashed backend" >&2
  exit 1
fi
[ "$status" = 0 ] || exit "$status"
echo "hostile_catalog: ok: the server log shows no crash"
