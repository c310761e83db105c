#!/usr/bin/env bash
# The fuzz matrix (fuzz_matrix.py) against a scratch cluster: every SQL function with hostile
# arguments, then the server log is checked for a backend killed by a signal or a PANIC.
# Prints "fuzz_matrix: N calls, M errors, 0 crashes" and "ok" lines; exits non-zero on a failure.
# LEAD_SCORING_FUZZ_FULL=1: the 1,000-column and 100,000-level tables (CI: 300 and 20,000).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster.sh
[ "${LEAD_SCORING_SKIP_INSTALL:-}" = 1 ] || install_extension
scratch_cluster_start lead_scoring_fuzz "${LEAD_SCORING_FUZZ_PORT:-28830}"
as_pg "$BIN/createdb" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres fuzz
scratch_psql -d fuzz -c "CREATE EXTENSION lead_scoring"
status=0
FUZZ_HOST=$SCRATCH_DIR FUZZ_PORT=$SCRATCH_PORT README=README.md python3 tests/reliability/fuzz_matrix.py || status=$?
if grep -E "terminated by signal|PANIC|was terminated" "$SCRATCH_DIR/server.log"; then
  echo "fuzz_matrix: FAIL: the server log shows a crashed backend" >&2
  exit 1
fi
[ "$status" = 0 ] || exit "$status"
echo "fuzz_matrix: ok: the server log shows no crash"
