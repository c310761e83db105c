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
echo "$TEST: ok"
