# Shared by the durability tests (tests/durability/*.sh): a scratch cluster, psql on a named
# database, the one "ok" line each checked guarantee prints, and failing with what differed.
# Source it from the repository root after scripts/cluster.sh.

# db NAME [psql args...]: psql on database NAME of the scratch cluster, stopping at the first error.
db() { local name=$1; shift; scratch_psql -d "$name" "$@"; }
# dbq NAME SQL: the unaligned, tuples-only result of SQL on database NAME.
dbq() { scratch_psql -d "$1" -At -c "$2"; }
new_db() { as_pg "$BIN/createdb" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres "$1"; }

# start_cluster NAME: installs the extension (unless LEAD_SCORING_SKIP_INSTALL=1), starts the
# scratch cluster NAME on $PORT (LEAD_SCORING_DURABILITY_PORT, default 28821) and makes $work.
PORT=${LEAD_SCORING_DURABILITY_PORT:-28821}
start_cluster() {
  [ "${LEAD_SCORING_SKIP_INSTALL:-}" = 1 ] || install_extension
  scratch_cluster_start "$1" "$PORT"
  work=$SCRATCH_DIR/work
  mkdir -p "$work"
}

# ok SCRIPT WHAT: one line per guarantee that held; scripts/test.sh counts them.
ok() { echo "$1: ok: $2"; }
# fail SCRIPT WHAT [FILE...]: the guarantee that broke, with the files that show how.
fail() {
  local script=$1 what=$2
  shift 2
  echo "$script: FAILED: $what" >&2
  for f in "$@"; do [ -f "$f" ] && head -60 "$f" >&2; done
  exit 1
}

# same_lines SCRIPT WHAT EXPECTED ACTUAL: the two files are identical, else fail with their diff.
same_lines() {
  local script=$1 what=$2 expected=$3 actual=$4
  if ! diff -u "$expected" "$actual" >"$actual.diff"; then
    fail "$script" "$what" "$actual.diff"
  fi
  ok "$script" "$what"
}

# The scores of every version of every model on crm.fixed_leads, bit for bit (float8send in hex),
# one line per model version and lead: `name@version|lead id|hex`.
scores_of() {
  dbq "$1" "SELECT m.name || '@' || m.version, l.id,
                   encode(float8send(lead_scoring.score(m.name || '@' || m.version, l)), 'hex')
              FROM lead_scoring.models m CROSS JOIN crm.fixed_leads l
             WHERE m.retired_at IS NULL
             ORDER BY m.name, m.version, l.id"
}

# Row counts of the catalog tables and the next value each catalog sequence would give: a
# restore that loses rows, or a sequence that restarts and makes the next train() collide,
# changes a line.
catalog_counts() {
  dbq "$1" "SELECT 'models', count(*) FROM lead_scoring.models
            UNION ALL SELECT 'model_events', count(*) FROM lead_scoring.model_events
            UNION ALL SELECT 'lead_feedback', count(*) FROM lead_scoring.lead_feedback
            UNION ALL SELECT 'monitoring', count(*) FROM lead_scoring.monitoring
            UNION ALL SELECT 'experiment_assignments', count(*) FROM lead_scoring.experiment_assignments
            UNION ALL SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences
                       WHERE schemaname = 'lead_scoring' ORDER BY 1"
}
