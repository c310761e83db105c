# Shared by fuzz_matrix.sh and hostile_catalog.sh: runs one of the Python checks against a
# scratch cluster with the extension created in database DB, then checks the server log for a
# backend killed by a signal or a PANIC.
#   run_checks NAME DB PORT SCRIPT.py
run_checks() {
  local name=$1 db=$2 port=$3 script=$4 status=0
  cd "$(dirname "${BASH_SOURCE[0]}")/../.."
  source scripts/cluster.sh
  [ "${LEAD_SCORING_SKIP_INSTALL:-}" = 1 ] || install_extension
  scratch_cluster_start "lead_scoring_$name" "$port"
  as_pg "$BIN/createdb" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres "$db"
  scratch_psql -d "$db" -c "CREATE EXTENSION lead_scoring"
  FUZZ_HOST=$SCRATCH_DIR FUZZ_PORT=$SCRATCH_PORT README=README.md python3 "$script" || status=$?
  if grep -E "terminated by signal|PANIC|was terminated" "$SCRATCH_DIR/server.log"; then
    echo "$name: FAIL: the server log shows a crashed backend" >&2
    exit 1
  fi
  [ "$status" = 0 ] || exit "$status"
  echo "$name: ok: the server log shows no crash"
}
