# Shared by the scripts of tests/concurrency/: a scratch cluster with the extension, a
# generated leads table and the consistency checks of a model name's versions and event log.
# Source it after setting NAME (the cluster's name) and PORT.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/cluster.sh

[ "${LEAD_SCORING_SKIP_INSTALL:-}" = 1 ] || install_extension
scratch_cluster_start "$NAME" "$PORT" "${SERVER_OPTIONS:-}"
as_pg "$BIN/createdb" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres leads
db() { scratch_psql -d leads "$@"; }
# One value (or one line of values) of a query.
value() { db -At -c "$1"; }
db -c "CREATE EXTENSION lead_scoring"
# Every client program runs as postgres (the cluster's files belong to it when we are root).
pg() { as_pg "$BIN/$1" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres "${@:2}"; }

fail() {
  echo "$TEST: $*" >&2
  tail -20 "$SCRATCH_DIR/server.log" >&2
  exit 1
}

# make_leads TABLE ROWS [EXTRA_NUMBERS]: leads with numbers, two text columns, a time column, a
# part column for column splits and a noisy label, the same for the same ROWS. EXTRA_NUMBERS more
# numeric columns x1, x2, ... (default 0) make a wider table.
make_leads() {
  local extra="" k
  for ((k = 1; k <= ${3:-0}; k++)); do extra+=", (abs(hashint4(g + $k)) % 1000)::float8 / 100 AS x$k"; done
  db -c "CREATE TABLE $1 AS
    SELECT g AS id,
           (g % 17)::float8 AS visits,
           ((g::bigint * 7919) % 1000)::float8 / 10 AS pages,
           (abs(hashint4(g)) % 97)::float8 AS minutes,
           (ARRAY['web', 'ads', 'call', 'partner', 'event'])[1 + g % 5] AS source,
           (ARRAY['us', 'eu', 'apac'])[1 + (g / 7) % 3] AS region,
           timestamptz '2026-01-01' + (g % 365) * interval '1 day' AS created_at,
           CASE WHEN g % 10 < 8 THEN 'train' WHEN g % 10 = 8 THEN 'validation' ELSE 'test' END AS part,
           ((g % 17) + ((g::bigint * 7919) % 1000) / 100.0 + (g % 5) * 2 + abs(hashint4(g * 31)) % 9 > 17) AS converted
           $extra
      FROM generate_series(1, $2) g" >/dev/null
}

# check_event_log NAME: the versions of NAME are 1..n without gaps or repeats, each has exactly
# one `trained` event, every `deployed` and `rolled_back` event names an existing version, and
# the deployed flag matches the last `deployed` event. Prints what it checked.
check_event_log() {
  local n=$1 out
  out=$(value "
    WITH v AS (SELECT version, deployed FROM lead_scoring.models WHERE name = '$n'),
         e AS (SELECT * FROM lead_scoring.model_events WHERE model_name = '$n')
    SELECT (SELECT count(*) FROM v), (SELECT count(DISTINCT version) FROM v), (SELECT coalesce(max(version), 0) FROM v),
           (SELECT count(*) FROM v WHERE (SELECT count(*) FROM e WHERE e.version = v.version AND e.event = 'trained') <> 1),
           (SELECT count(*) FROM e WHERE e.event IN ('trained', 'deployed', 'deploy_decision') AND e.version NOT IN (SELECT version FROM v)),
           (SELECT count(*) FROM e WHERE e.event = 'rolled_back'
               AND ((e.detail->>'from')::int NOT IN (SELECT version FROM v) OR (e.detail->>'to')::int NOT IN (SELECT version FROM v))),
           (SELECT count(*) FROM v WHERE deployed),
           coalesce((SELECT version FROM v WHERE deployed), -1),
           coalesce((SELECT version FROM e WHERE event = 'deployed' ORDER BY id DESC LIMIT 1), -1),
           (SELECT count(*) FROM e WHERE event = 'deployed'), (SELECT count(*) FROM e WHERE event = 'rolled_back')")
  local rows distinct maxv untrained orphan bad_rollback deployed flag last deploys rollbacks
  IFS='|' read -r rows distinct maxv untrained orphan bad_rollback deployed flag last deploys rollbacks <<<"$out"
  [ "$rows" = "$distinct" ] && [ "$rows" = "$maxv" ] || fail "$n: versions are not 1..n without gaps: $rows rows, $distinct distinct, max $maxv"
  [ "$untrained" = 0 ] || fail "$n: $untrained versions without exactly one trained event"
  [ "$orphan" = 0 ] || fail "$n: $orphan trained/deployed/deploy_decision events name a version that does not exist"
  [ "$bad_rollback" = 0 ] || fail "$n: $bad_rollback rolled_back events name a version that does not exist"
  [ "$deployed" = 1 ] || fail "$n: $deployed versions are deployed"
  [ "$flag" = "$last" ] || fail "$n: version $flag is deployed but the last deployed event names version $last"
  echo "$TEST: ok: $n: versions 1..$rows unique and gapless, each with one trained event; $deploys deployed and $rollbacks rolled_back events name existing versions; deployed flag = last deployed event (v$flag)"
}
