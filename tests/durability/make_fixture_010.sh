#!/usr/bin/env bash
# Regenerates the 0.1.0 fixture that tests/durability/upgrade.sh updates: a database built by
# build_catalog.sql with lead_scoring 0.1.0 (models of every kind, events, monitoring, feedback,
# a table attached with attach()), dumped as plain SQL to fixtures/lead_scoring_010.sql, and the
# scores 0.1.0 gave on crm.fixed_leads, bit for bit, in fixtures/lead_scoring_010_scores.txt.
#
# It must run against a 0.1.0 build of the extension, never the current one (the scores are
# what 0.1.0 computed). To regenerate from a 0.1.0 checkout (the last 0.1.0 commit is the
# parent of the commit that set version = "0.2.0" in Cargo.toml):
#
#   git worktree add /tmp/lead_scoring-010 <0.1.0 commit>
#   (cd /tmp/lead_scoring-010 && eval "$(bash scripts/private_pg.sh /tmp/pg-010)" && cargo pgrx install --pg-config "$LEAD_SCORING_PG_CONFIG")
#   eval "$(bash scripts/private_pg.sh /tmp/pg-010)"; bash tests/durability/make_fixture_010.sh
#
# (run the last line from this tree: the SQL that builds the database is this tree's). The
# script refuses to run when the installed extension's default version is not 0.1.0.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster.sh
source tests/durability/lib.sh
S=make_fixture_010
HERE=tests/durability

scratch_cluster_start lead_scoring_fixture "$PORT"
new_db fixture
installed=$(dbq fixture "SELECT default_version FROM pg_available_extensions WHERE name = 'lead_scoring'")
[ "$installed" = 0.1.0 ] || fail $S "the installed lead_scoring is '$installed', not 0.1.0: install a 0.1.0 build first (see the comment at the top)"
db fixture -c "CREATE EXTENSION lead_scoring VERSION '0.1.0'" -f $HERE/build_catalog.sql >/dev/null
# Plain SQL, restored with psql into an empty database. Its CREATE EXTENSION names version
# 0.1.0, so the restore creates the extension from the frozen 0.1.0 script even where a newer
# version is the default: the database is then what a 0.1.0 dump restores to.
as_pg "$BIN/pg_dump" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres --no-owner fixture \
  | grep -v '^-- Dumped \(from database\|by pg_dump\) version' \
  | sed "s/^\(CREATE EXTENSION IF NOT EXISTS lead_scoring WITH SCHEMA lead_scoring\);\$/\1 VERSION '0.1.0';/" \
    >$HERE/fixtures/lead_scoring_010.sql
grep -q "^CREATE EXTENSION IF NOT EXISTS lead_scoring WITH SCHEMA lead_scoring VERSION '0.1.0';\$" $HERE/fixtures/lead_scoring_010.sql \
  || fail $S "the dump's CREATE EXTENSION line was not found to pin it to version 0.1.0"
scores_of fixture >$HERE/fixtures/lead_scoring_010_scores.txt
echo "$S: wrote $HERE/fixtures/lead_scoring_010.sql ($(wc -c <$HERE/fixtures/lead_scoring_010.sql) bytes)" \
  "and $(wc -l <$HERE/fixtures/lead_scoring_010_scores.txt) scores"
