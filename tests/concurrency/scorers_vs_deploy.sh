#!/usr/bin/env bash
# pgbench clients score leads (score() by row and by jsonb, tier(), and the attach() trigger on
# INSERT) while another session retrains, deploys and rolls back the same model name in a loop.
# Afterwards every score a client saw must equal exactly the score of one version of the model
# (computed per version with score('cm@v', lead)), with the tier of that same version; no client
# may get an error; the versions and the event log must be consistent (common.sh).
# Prints "scorers_vs_deploy: ok" lines; exits non-zero on the first failure.
set -euo pipefail
TEST=scorers_vs_deploy NAME=lead_scoring_scorers PORT=${LEAD_SCORING_CONCURRENCY_PORT:-28830}
source "$(dirname "$0")/common.sh"
SECONDS_RUN=${LEAD_SCORING_SCORERS_SECONDS:-20}
LEADS=4000

make_leads leads "$LEADS"
db -c "CREATE TABLE seen (lead_id int, score float8, score_jsonb float8, tier text)" \
   -c "CREATE TABLE inbox (LIKE leads)" >/dev/null
# Three versions that score differently (other features, other penalties): the first deploys itself.
train() { db -c "SELECT version FROM lead_scoring.train('cm', 'leads', 'converted', options => '{\"exclude\": [\"id\", \"created_at\"], \"deploy\": \"always\", \"leakage\": \"ignore\", $1}')" >/dev/null; }
train '"alpha": 1'
train '"alpha": 0.01, "exclude": ["id", "created_at", "minutes"]'
train '"alpha": 10, "exclude": ["id", "created_at", "source"]'
db -c "SELECT lead_scoring.attach('inbox', 'cm', alerts => false)" >/dev/null

# The governance session: retrain (deployed by options.deploy always), deploy an earlier
# version, roll back, in turn, until the clients stop. A rollback with no earlier deployed
# version left is the one error expected here.
governance() {
  local i=0 out
  while [ ! -e "$SCRATCH_DIR/stop" ]; do
    case $((i % 3)) in
      0) train "\"alpha\": 0.$((i % 9 + 1)), \"exclude\": [\"id\", \"created_at\"$( ((i % 2)) && echo ', "pages"')]" ;;
      1) db -c "SELECT lead_scoring.deploy('cm', 1 + $i % (SELECT max(version) FROM lead_scoring.models WHERE name = 'cm'), 'concurrency test')" >/dev/null ;;
      2) out=$(db -c "SELECT lead_scoring.rollback('cm', 'concurrency test')" 2>&1 >/dev/null) \
           || grep -qF 'no earlier deployed version' <<<"$out" || { echo "governance: $out" >&2; return 1; } ;;
    esac
    i=$((i + 1))
    sleep 0.5
  done
  echo "$i"
}
governance >"$SCRATCH_DIR/governance.out" 2>"$SCRATCH_DIR/governance.err" &
gov=$!

pg pgbench -n -T "$SECONDS_RUN" -c 4 -j 2 -D leads="$LEADS" \
  -f tests/concurrency/score.sql@3 -f tests/concurrency/insert_attached.sql@1 leads >"$SCRATCH_DIR/pgbench.out" 2>&1 \
  || { cat "$SCRATCH_DIR/pgbench.out" >&2; fail "pgbench failed (a client got an error)"; }
touch "$SCRATCH_DIR/stop"
wait "$gov" || { cat "$SCRATCH_DIR/governance.err" >&2; fail "the governance session failed"; }
grep -q 'number of failed transactions: 0 ' "$SCRATCH_DIR/pgbench.out" || { cat "$SCRATCH_DIR/pgbench.out" >&2; fail "pgbench reports failed transactions"; }
tx=$(grep -Eo 'number of transactions actually processed: [0-9]+' "$SCRATCH_DIR/pgbench.out" | grep -Eo '[0-9]+$')
steps=$(cat "$SCRATCH_DIR/governance.out")
echo "$TEST: ok: $tx pgbench transactions by 4 clients in ${SECONDS_RUN} s, no error, during $steps retrain/deploy/rollback steps"

# Every version's score and tier of every lead a client saw, computed afterwards.
# (One statement per version, so each names its model by a constant, as clients do.)
db -c "CREATE TABLE expected (version int, id int, score float8, tier text)" -c "
  DO \$\$ DECLARE v int; BEGIN
    FOR v IN SELECT version FROM lead_scoring.models WHERE name = 'cm' LOOP
      EXECUTE format('INSERT INTO expected SELECT %s, l.id, lead_scoring.score(%L, l), lead_scoring.tier(%L, l)
                        FROM leads l WHERE l.id IN (SELECT lead_id FROM seen UNION SELECT id FROM inbox)', v, 'cm@' || v, 'cm@' || v);
    END LOOP;
  END \$\$" -c "CREATE INDEX ON expected (id)" >/dev/null
read -r scored unmatched versions <<<"$(value "
  SELECT count(*), count(*) FILTER (WHERE match IS NULL), count(DISTINCT match)
    FROM (SELECT (SELECT min(e.version) FROM expected e
                   WHERE e.id = s.lead_id AND e.score = s.score AND e.score = s.score_jsonb AND e.tier = s.tier) AS match
            FROM seen s) t" | tr '|' ' ')"
[ "$unmatched" = 0 ] || { db -c "SELECT * FROM seen s WHERE NOT EXISTS (SELECT 1 FROM expected e WHERE e.id = s.lead_id AND e.score = s.score AND e.score = s.score_jsonb AND e.tier = s.tier) LIMIT 5" >&2; fail "$unmatched of $scored scores match no version (score, jsonb score and tier of one version)"; }
[ "$versions" -ge 2 ] || fail "the clients saw only $versions version(s): the run did not overlap a deploy"
echo "$TEST: ok: $scored scores (row, jsonb and tier) each equal exactly one version's; $versions versions seen"
read -r inserted unmatched versions <<<"$(value "
  SELECT count(*), count(*) FILTER (WHERE match IS NULL), count(DISTINCT match)
    FROM (SELECT (SELECT min(e.version) FROM expected e
                   WHERE e.id = i.id AND e.score = i.lead_score AND e.tier = i.lead_tier) AS match
            FROM inbox i) t" | tr '|' ' ')"
[ "$unmatched" = 0 ] || fail "$unmatched of $inserted rows scored by the attach() trigger match no version"
[ "$versions" -ge 2 ] || fail "the trigger saw only $versions version(s)"
echo "$TEST: ok: $inserted rows scored by the attach() trigger each equal exactly one version's; $versions versions seen"
check_event_log cm
echo "$TEST: ok"
