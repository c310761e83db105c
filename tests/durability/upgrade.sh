#!/usr/bin/env bash
# ALTER EXTENSION lead_scoring UPDATE from 0.1.0 to the current version, on a database made
# with 0.1.0 (fixtures/lead_scoring_010.sql, made by make_fixture_010.sh with a 0.1.0 build:
# models of every kind, events, monitoring, feedback, an attach()ed table). Checks:
#   - the frozen 0.1.0 install script (sql/lead_scoring--0.1.0.sql) is installed and there is
#     an update path from 0.1.0 to the current version;
#   - every C symbol the 0.1.0 script names exists in the current library (a 0.1.0 database
#     calls them until it is updated, and its dumps restore with them);
#   - after the update the extension's objects are exactly those of a fresh install of the
#     current version (functions with their arguments, result, volatility, strictness,
#     parallel safety, body or C symbol, SET clauses, grants; tables, columns, constraints, indexes, views,
#     config-dump registrations, settings); the difference is printed when not;
#   - every model version trained at 0.1.0 scores the fixture's leads bit for bit as 0.1.0 did;
#   - the attached table's trigger still scores new rows, and train() adds a version.
# Prints one "upgrade: ok: ..." line per guarantee; exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster.sh
source tests/durability/lib.sh
S=upgrade
HERE=tests/durability
FROM=0.1.0
TO=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
FROZEN=sql/lead_scoring--$FROM.sql

start_cluster lead_scoring_upgrade

new_db fresh
path=$(dbq fresh "SELECT path FROM pg_extension_update_paths('lead_scoring') WHERE source = '$FROM' AND target = '$TO'")
[ -n "$path" ] || fail $S "no update path from $FROM to $TO: is sql/lead_scoring--$FROM--$TO.sql (or a chain to $TO) installed?"
cmp -s "$FROZEN" "$($PG_CONFIG --sharedir)/extension/lead_scoring--$FROM.sql" \
  || fail $S "the installed lead_scoring--$FROM.sql is not the frozen $FROZEN (install_extension copies it)"
ok $S "the frozen $FROM script is installed and ALTER EXTENSION has a path to $TO ($path)"

# Each symbol: CREATE FUNCTION ... LANGUAGE C looks it up (and its pg_finfo_ record) in the library.
grep -o "'MODULE_PATHNAME', *'[A-Za-z0-9_]*'" "$FROZEN" | sed "s/.*, *'\(.*\)'/\1/" | sort -u >"$work/symbols"
[ "$(wc -l <"$work/symbols")" -ge 10 ] || fail $S "found only $(wc -l <"$work/symbols") C symbols in $FROZEN"
{
  echo "CREATE TEMP TABLE symbol(name text); CREATE TEMP TABLE missing(name text, error text);"
  sed "s/.*/INSERT INTO symbol VALUES ('&');/" "$work/symbols"
  cat <<'SQL'
DO $$
DECLARE s text;
BEGIN
  FOR s IN SELECT name FROM symbol LOOP
    BEGIN
      EXECUTE format('CREATE FUNCTION pg_temp.symbol_probe() RETURNS void AS %L, %L LANGUAGE C', '$libdir/lead_scoring', s);
      DROP FUNCTION pg_temp.symbol_probe();
    EXCEPTION WHEN OTHERS THEN
      INSERT INTO missing VALUES (s, SQLERRM);
    END;
  END LOOP;
END
$$;
SELECT name || ': ' || error FROM missing ORDER BY 1;
SQL
} >"$work/symbols.sql"
db fresh -At -f "$work/symbols.sql" >"$work/symbols.missing"
[ ! -s "$work/symbols.missing" ] || fail $S "C symbols of the $FROM script missing from the library:" "$work/symbols.missing"
ok $S "all $(wc -l <"$work/symbols") C symbols the $FROM script names are in the current library"

new_db upgraded
db upgraded -f $HERE/fixtures/lead_scoring_010.sql >/dev/null 2>"$work/fixture.log" || fail $S "loading the $FROM fixture failed" "$work/fixture.log"
[ "$(dbq upgraded "SELECT extversion FROM pg_extension WHERE extname = 'lead_scoring'")" = "$FROM" ] \
  || fail $S "after loading the fixture the extension is not at $FROM"
db upgraded -c "ALTER EXTENSION lead_scoring UPDATE" 2>"$work/update.log" || fail $S "ALTER EXTENSION lead_scoring UPDATE failed" "$work/update.log"
version=$(dbq upgraded "SELECT extversion FROM pg_extension WHERE extname = 'lead_scoring'")
[ "$version" = "$TO" ] || fail $S "after ALTER EXTENSION ... UPDATE the version is $version, expected $TO"
ok $S "ALTER EXTENSION lead_scoring UPDATE takes a $FROM database to $version"

db fresh -c "CREATE EXTENSION lead_scoring"
db fresh -At -c "LOAD 'lead_scoring'" -f $HERE/extension_objects.sql >"$work/objects.fresh"
db upgraded -At -c "LOAD 'lead_scoring'" -f $HERE/extension_objects.sql >"$work/objects.upgraded"
if ! diff -u "$work/objects.fresh" "$work/objects.upgraded" >"$work/objects.diff"; then
  echo "$S: objects of a fresh $TO install (-) and of the database updated from $FROM (+) differ;" \
    "add what is missing to sql/lead_scoring--$FROM--$TO.sql:" >&2
  grep '^[-+][^-+]' "$work/objects.diff" >&2
  exit 1
fi
ok $S "after the update the extension's objects equal a fresh $TO install ($(wc -l <"$work/objects.fresh") lines)"

scores_of upgraded >"$work/scores.upgraded"
versions=$(cut -d'|' -f1 $HERE/fixtures/lead_scoring_010_scores.txt | sort -u | wc -l)
same_lines $S "$versions model versions trained at $FROM score $(wc -l <$HERE/fixtures/lead_scoring_010_scores.txt) (version, lead) pairs bit for bit as $FROM did" \
  $HERE/fixtures/lead_scoring_010_scores.txt "$work/scores.upgraded"

result=$(db upgraded -At -f $HERE/check_attached.sql)
[ "$result" = "24|24" ] || fail $S "after the update the $FROM attach() trigger scored $result (inserted|exactly as score()), expected 24|24"
ok $S "the table attached at $FROM is scored by its trigger after the update, exactly as score() ($result)"

next=$(dbq upgraded "SELECT max(version) + 1 FROM lead_scoring.models WHERE name = 'boosted'")
trained=$(dbq upgraded "SELECT version FROM lead_scoring.train('boosted', 'crm.history', 'converted',
            ARRAY['region', 'source', 'visits', 'pages', 'employees'], 'gbm', '{\"trees\": 20}')" 2>"$work/train.log") \
  || fail $S "train() after the update failed" "$work/train.log"
[ "$trained" = "$next" ] || fail $S "train() after the update stored version $trained, expected $next"
ok $S "train() after the update stores the next version of a $FROM model ($trained)"
