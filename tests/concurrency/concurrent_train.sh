#!/usr/bin/env bash
# Several sessions train the same model name at once, starting together on a name that does not
# exist yet, while another session deploys and rolls it back: every train() must succeed with
# its own version, the versions must be 1..n without gaps, exactly one of them deployed itself as
# the first version, and the event log must be consistent (common.sh).
# Prints "concurrent_train: ok" lines; exits non-zero on the first failure.
set -euo pipefail
TEST=concurrent_train NAME=lead_scoring_concurrent_train PORT=${LEAD_SCORING_CONCURRENCY_PORT:-28831}
source "$(dirname "$0")/common.sh"
SESSIONS=${LEAD_SCORING_TRAIN_SESSIONS:-3}
ROUNDS=${LEAD_SCORING_TRAIN_ROUNDS:-3}

make_leads leads 4000
# Each session: ROUNDS trains of "race", one version number per line.
trainer() {
  local s=$1 r
  for ((r = 1; r <= ROUNDS; r++)); do
    db -At -c "SELECT version FROM lead_scoring.train('race', 'leads', 'converted',
                 options => '{\"exclude\": [\"id\", \"created_at\"], \"alpha\": 0.$s$r, \"leakage\": \"ignore\"}')"
  done
}
pids=()
for ((s = 1; s <= SESSIONS; s++)); do
  trainer "$s" >"$SCRATCH_DIR/trainer$s.out" 2>"$SCRATCH_DIR/trainer$s.err" &
  pids+=($!)
done
# Deploys and rollbacks of the same name while it trains (errors only until a version exists,
# or when nothing earlier is left to roll back to).
deployer() {
  local out
  while [ ! -e "$SCRATCH_DIR/stop" ]; do
    out=$(db -c "SELECT lead_scoring.deploy('race', (SELECT min(version) FROM lead_scoring.models WHERE name = 'race'), 'concurrency test')" 2>&1 >/dev/null) \
      || grep -qE 'does not exist|no model|has no version|null value|must not be NULL' <<<"$out" || { echo "deploy: $out" >&2; return 1; }
    out=$(db -c "SELECT lead_scoring.rollback('race', 'concurrency test')" 2>&1 >/dev/null) \
      || grep -qE 'does not exist|no model|no deployed version|no earlier deployed version' <<<"$out" || { echo "rollback: $out" >&2; return 1; }
    sleep 0.2
  done
}
deployer 2>"$SCRATCH_DIR/deployer.err" &
dep=$!
for ((s = 1; s <= SESSIONS; s++)); do
  wait "${pids[$((s - 1))]}" || { cat "$SCRATCH_DIR/trainer$s.err" >&2; fail "trainer session $s failed"; }
done
touch "$SCRATCH_DIR/stop"
wait "$dep" || { cat "$SCRATCH_DIR/deployer.err" >&2; fail "the deploy/rollback session failed"; }

total=$((SESSIONS * ROUNDS))
returned=$(cat "$SCRATCH_DIR"/trainer*.out | sort -n | uniq | tr '\n' ' ')
[ "$returned" = "$(seq -s ' ' 1 "$total") " ] || fail "the $total train() calls returned versions '$returned', not 1..$total once each"
echo "$TEST: ok: $SESSIONS sessions x $ROUNDS train() of one new name at once: each returned its own version, 1..$total"
first=$(value "SELECT count(*) FROM lead_scoring.model_events WHERE model_name = 'race' AND event = 'deployed' AND reason = 'first version of this model'")
[ "$first" = 1 ] || fail "$first versions deployed themselves as the first version"
echo "$TEST: ok: exactly one version deployed itself as the first version"
check_event_log race

# REPEATABLE READ: a transaction whose snapshot predates another session's stored version cannot
# see it; its train() must fail as a serialization failure (40001, which clients retry), store
# nothing, and succeed when retried.
before=$(value "SELECT count(*) FROM lead_scoring.models WHERE name = 'race'")
mkfifo "$SCRATCH_DIR/rr.in"
db -At -v ON_ERROR_STOP=0 <"$SCRATCH_DIR/rr.in" >"$SCRATCH_DIR/rr.out" 2>&1 &
rr=$!
exec 7>"$SCRATCH_DIR/rr.in"
echo "\\set VERBOSITY verbose" >&7
echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM lead_scoring.models;" >&7
sleep 1
value "SELECT version FROM lead_scoring.train('race', 'leads', 'converted', options => '{\"exclude\": [\"id\", \"created_at\"], \"leakage\": \"ignore\"}')" >/dev/null
echo "SELECT version FROM lead_scoring.train('race', 'leads', 'converted', options => '{\"exclude\": [\"id\", \"created_at\"], \"leakage\": \"ignore\"}'); ROLLBACK;" >&7
echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 'retried', version FROM lead_scoring.train('race', 'leads', 'converted', options => '{\"exclude\": [\"id\", \"created_at\"], \"leakage\": \"ignore\"}'); COMMIT;" >&7
exec 7>&-
wait "$rr" || true
grep -q "ERROR:  40001: could not serialize access: another session stored version $((before + 1)) of model \"race\"" "$SCRATCH_DIR/rr.out" \
  || { cat "$SCRATCH_DIR/rr.out" >&2; fail "train() in a REPEATABLE READ transaction with a stale snapshot did not fail with 40001"; }
grep -q "^retried|$((before + 2))$" "$SCRATCH_DIR/rr.out" \
  || { cat "$SCRATCH_DIR/rr.out" >&2; fail "the retried REPEATABLE READ train() did not store version $((before + 2))"; }
after=$(value "SELECT count(*) FROM lead_scoring.models WHERE name = 'race'")
[ "$after" = $((before + 2)) ] || fail "after the REPEATABLE READ case $after versions exist, expected $((before + 2))"
echo "$TEST: ok: train() in REPEATABLE READ with a snapshot older than another session's version fails with 40001, stores nothing, and succeeds when retried"
check_event_log race
echo "$TEST: ok"
