#!/usr/bin/env bash
# DROP EXTENSION and CREATE EXTENSION on a database in use (models, events, monitoring,
# feedback, a table scored on write by attach()):
#   - DROP EXTENSION without CASCADE refuses while a table is attached (its trigger needs the
#     extension's trigger function);
#   - DROP EXTENSION ... CASCADE removes the catalog (every model, event, monitoring row and
#     feedback), the attach() triggers and create_scored_view() views, but keeps the attached tables with their score and
#     tier columns and values; new rows there are no longer scored;
#   - CREATE EXTENSION again gives exactly the objects of a fresh install, an empty catalog,
#     and train(), score() and attach() work again: a session that scored the old model before
#     the drop scores the retrained model of the same name as a new session does.
# Prints one "drop_create: ok: ..." line per guarantee; exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster.sh
source tests/durability/lib.sh
S=drop_create
HERE=tests/durability

start_cluster lead_scoring_drop

new_db crm
db crm -c "CREATE EXTENSION lead_scoring" -f $HERE/build_catalog.sql >/dev/null
db crm -c "SELECT lead_scoring.create_scored_view('crm.scored_leads', 'crm.leads', 'logit_mem')" >/dev/null
scored_before=$(dbq crm "SELECT count(*) FILTER (WHERE lead_score IS NOT NULL) || '|' || count(*) FROM crm.leads")

if out=$(db crm -c "DROP EXTENSION lead_scoring" 2>&1); then
  fail $S "DROP EXTENSION without CASCADE dropped the extension while crm.leads is attached"
fi
grep -qF 'other objects depend on it' <<<"$out" || fail $S "DROP EXTENSION without CASCADE: unexpected error: $out"
[ "$(dbq crm "SELECT count(*) FROM lead_scoring.models")" = 5 ] || fail $S "the refused DROP EXTENSION changed the catalog"
ok $S "DROP EXTENSION without CASCADE refuses while a table is attached, and changes nothing"

# One session through the whole cycle: it scores the old model (and caches it), drops and
# creates the extension, retrains the same name on other rows, and scores again.
retrain="SELECT version FROM lead_scoring.train('logit_mem', 'SELECT * FROM crm.history WHERE id % 3 <> 0', 'converted',
           ARRAY['region', 'source', 'visits', 'pages'])"
lead="(SELECT l FROM crm.fixed_leads l WHERE id = 9)"
db crm -At >"$work/session.out" 2>"$work/session.err" <<SQL || fail $S "drop, create and retrain in one session failed" "$work/session.err"
SELECT 'old|' || encode(float8send(lead_scoring.score('logit_mem', $lead)), 'hex');
DROP EXTENSION lead_scoring CASCADE;
CREATE EXTENSION lead_scoring;
$retrain;
SELECT 'new|' || encode(float8send(lead_scoring.score('logit_mem', $lead)), 'hex');
SQL
same_session=$(sed -n 's/^new|//p' "$work/session.out")
new_session=$(dbq crm "SELECT encode(float8send(lead_scoring.score('logit_mem', $lead)), 'hex')")
old=$(sed -n 's/^old|//p' "$work/session.out")
[ -n "$same_session" ] && [ "$same_session" = "$new_session" ] \
  || fail $S "after DROP/CREATE EXTENSION a session that had scored the old model scores $same_session, a new session $new_session" "$work/session.out"
[ "$old" != "$new_session" ] || fail $S "the retrained model scores exactly as the dropped one: the check cannot tell them apart"
ok $S "a session that cached the old model scores the retrained one after DROP/CREATE EXTENSION, as a new session does"

[ "$(dbq crm "SELECT count(*) FROM lead_scoring.models")|$(dbq crm "SELECT count(*) FROM lead_scoring.monitoring")|$(dbq crm "SELECT count(*) FROM lead_scoring.lead_feedback")" = "1|0|0" ] \
  || fail $S "CREATE EXTENSION after DROP ... CASCADE did not start an empty catalog (models|monitoring|feedback)"
ok $S "DROP EXTENSION CASCADE removes models, events, monitoring and feedback; CREATE EXTENSION starts empty"

[ "$(dbq crm "SELECT count(*) FILTER (WHERE lead_score IS NOT NULL) || '|' || count(*) FROM crm.leads")" = "$scored_before" ] \
  || fail $S "DROP EXTENSION CASCADE changed the attached table's rows or scores (before: $scored_before)"
[ "$(dbq crm "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'crm.leads'::regclass AND NOT tgisinternal")" = 0 ] \
  || fail $S "the attach() trigger survived DROP EXTENSION CASCADE"
[ "$(dbq crm "INSERT INTO crm.leads (id, region, visits) VALUES (500, 'emea', 3) RETURNING coalesce(lead_score::text, 'unscored')")" = unscored ] \
  || fail $S "a row inserted after DROP EXTENSION CASCADE was scored"
[ -z "$(dbq crm "SELECT to_regclass('crm.scored_leads')")" ] || fail $S "the create_scored_view() view survived DROP EXTENSION CASCADE"
ok $S "DROP EXTENSION CASCADE keeps the attached table, its columns and scores ($scored_before scored|rows), and removes its trigger and the scored view"

new_db fresh
db fresh -c "CREATE EXTENSION lead_scoring"
db fresh -At -c "LOAD 'lead_scoring'" -f $HERE/extension_objects.sql >"$work/objects.fresh"
db crm -At -c "LOAD 'lead_scoring'" -f $HERE/extension_objects.sql >"$work/objects.recreated"
same_lines $S "the extension created again has exactly the objects of a fresh install ($(wc -l <"$work/objects.fresh") lines)" \
  "$work/objects.fresh" "$work/objects.recreated"

db crm -c "SELECT lead_scoring.attach('crm.leads', 'logit_mem')" >/dev/null
result=$(db crm -At -f $HERE/check_attached.sql)
[ "$result" = "24|24" ] || fail $S "after attaching again the trigger scored $result (inserted|exactly as score()), expected 24|24"
ok $S "attach() on the kept table works again after CREATE EXTENSION ($result scored exactly)"
