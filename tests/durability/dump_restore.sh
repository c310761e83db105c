#!/usr/bin/env bash
# pg_dump / pg_restore keeps everything lead_scoring holds. A database with models of every
# kind, their events, a monitoring row, rep feedback, a table scored on write (attach()) and one
# rescored from events (attach_events()) and a running experiment is dumped with pg_dump -Fc and restored with
# pg_restore into a new, empty database; then:
#   - pg_restore creates the extension itself, without errors (and restoring into a database
#     that already has it, as managed services pre-create extensions, works too);
#   - the catalog tables have the same rows and their sequences continue where they were;
#   - every version of every model scores the same leads bit for bit (float8send);
#   - the attached tables keep their scores, and their triggers still score new rows;
#   - a running experiment keeps its assignments and assigns new leads;
#   - train() adds a version after the restore.
# Prints one "dump_restore: ok: ..." line per guarantee; exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster.sh
source tests/durability/lib.sh
S=dump_restore
HERE=tests/durability

start_cluster lead_scoring_dump
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"

new_db original
db original -c "CREATE EXTENSION lead_scoring" -f $HERE/build_catalog.sql -f $HERE/events_attachment.sql \
  -f $HERE/experiment.sql >/dev/null
scores_of original >"$work/scores.original"
catalog_counts original >"$work/counts.original"
attached_rows="SELECT id, encode(float8send(lead_score), 'hex'), lead_tier, lead_score_history FROM crm.leads ORDER BY id"
dbq original "$attached_rows" >"$work/attached.original"
[ "$(wc -l <"$work/scores.original")" -ge 100 ] || fail $S "too few scores to compare" "$work/scores.original"

as_pg "$BIN/pg_dump" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres -Fc -f "$work/original.dump" original
new_db restored
as_pg "$BIN/pg_restore" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres --exit-on-error -d restored "$work/original.dump" \
  2>"$work/restore.log" || fail $S "pg_restore into an empty database failed" "$work/restore.log"
[ "$(dbq restored "SELECT extversion FROM pg_extension WHERE extname = 'lead_scoring'")" = \
  "$(dbq original "SELECT extversion FROM pg_extension WHERE extname = 'lead_scoring'")" ] \
  || fail $S "the restored database has no lead_scoring extension of the dumped version"
ok $S "pg_restore into an empty database creates the extension itself, without errors"

# A database where CREATE EXTENSION ran first: the dump also holds CREATE SCHEMA lead_scoring
# (PostgreSQL does not make the schema a control file names a member of the extension, and an
# extension cannot own the schema it lives in), so pg_restore reports that one error, and only
# it, and restores the rest.
new_db precreated
db precreated -c "CREATE EXTENSION lead_scoring"
as_pg "$BIN/pg_restore" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres -d precreated "$work/original.dump" \
  2>"$work/restore-precreated.log" || true
errors=$(grep -c '^pg_restore: error: ' "$work/restore-precreated.log" || true)
[ "$errors" = 1 ] && grep -qF 'schema "lead_scoring" already exists' "$work/restore-precreated.log" \
  || fail $S "pg_restore into a database that already has the extension: expected only 'schema already exists'" "$work/restore-precreated.log"
catalog_counts precreated >"$work/counts.precreated"
same_lines $S "pg_restore into a database with CREATE EXTENSION already run restores the same catalog (one harmless error: schema exists)" \
  "$work/counts.original" "$work/counts.precreated"

catalog_counts restored >"$work/counts.restored"
same_lines $S "the catalog tables' rows and sequences are restored ($(tr '\n' ' ' <"$work/counts.original"))" \
  "$work/counts.original" "$work/counts.restored"

scores_of restored >"$work/scores.restored"
versions=$(cut -d'|' -f1 "$work/scores.original" | sort -u | wc -l)
same_lines $S "$versions model versions score $(wc -l <"$work/scores.original") (version, lead) pairs bit for bit after the restore" \
  "$work/scores.original" "$work/scores.restored"

dbq restored "$attached_rows" >"$work/attached.restored"
same_lines $S "the attached table keeps its scores, tiers and score history" "$work/attached.original" "$work/attached.restored"

result=$(db restored -At -f $HERE/check_attached.sql)
[ "$result" = "24|24" ] || fail $S "after the restore the attach() trigger scored $result (inserted|exactly as score()), expected 24|24"
ok $S "the attach() trigger scores new rows after the restore, exactly as score() ($result)"

result=$(db restored -At -f $HERE/check_events.sql 2>"$work/events.log" | tr '\n' ' ') \
  || fail $S "new events after the restore: attach_events() triggers or rescore() failed" "$work/events.log"
[ "$result" = "4|4 10 " ] || fail $S "after the restore attach_events() rescored $result (viewed|exactly, rescore rows), expected 4|4 10"
ok $S "attach_events() triggers and rescore() find their table and feature view after the restore ($result)"

result=$(db restored -At -f $HERE/check_experiment.sql 2>"$work/experiment.log") \
  || fail $S "new leads after the restore: the experiment's trigger or report failed" "$work/experiment.log"
[ "$result" = "24|24|24" ] || fail $S "after the restore the experiment assigned $result (assigned|by the hash, in the row|reported), expected 24|24|24"
ok $S "a running experiment keeps its 12 assignments and its trigger assigns new leads after the restore ($result)"

next=$(dbq restored "SELECT max(version) + 1 FROM lead_scoring.models WHERE name = 'logit_mem'")
trained=$(dbq restored "SELECT version FROM lead_scoring.train('logit_mem', 'crm.history', 'converted',
            ARRAY['region', 'source', 'visits', 'pages', 'employees'], options => '{\"deploy\": \"never\"}')" 2>"$work/train.log") \
  || fail $S "train() after the restore failed" "$work/train.log"
[ "$trained" = "$next" ] || fail $S "train() after the restore stored version $trained, expected $next"
ok $S "train() after the restore stores the next version ($trained)"
