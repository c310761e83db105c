#!/usr/bin/env bash
# Benchmark: COPY of 100,000 leads into a plain table and into a table with the lead_scoring
# rescoring trigger (lead_scoring.attach), in one run on a scratch cluster. Prints both times and
# the ratio (trigger overhead / plain COPY time), and exits non-zero when the trigger adds more
# than 1x the plain COPY time (the target of issue 6). For scale it also times COPY into a table
# with a BEFORE ROW trigger that does nothing (bench/noop_trigger.c, compiled here): the part of
# the overhead that PostgreSQL's row-trigger path costs whatever the trigger does.
# Usage: bash bench/trigger_copy.sh [rows]
# Installs the extension (release build) first; run under the shared lock on shared machines:
#   flock /tmp/lead_scoring_pg.lock bash bench/trigger_copy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
ROWS=${1:-100000}
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
BIN=$($PG_CONFIG --bindir)
PORT=${LEAD_SCORING_BENCH_PORT:-28862}
COLUMNS="id, visits, minutes_on_site, source, occupation, opted_in, converted"

as_pg() { if [ "$(id -u)" -eq 0 ]; then sudo -u postgres "$@"; else "$@"; fi; }

echo "== installing the extension (release build)"
if [ "$(id -u)" -eq 0 ]; then
  cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null
else
  cargo pgrx install --release --sudo --pg-config "$PG_CONFIG" >/dev/null
fi

scratch=$(mktemp -d /tmp/lead_scoring_bench.XXXXXX)
chmod 755 "$scratch"
[ "$(id -u)" -eq 0 ] && chown postgres: "$scratch"
cleanup() {
  as_pg "$BIN/pg_ctl" -D "$scratch/pgdata" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

as_pg "$BIN/initdb" -D "$scratch/pgdata" -A trust -U postgres --no-sync >/dev/null
as_pg "$BIN/pg_ctl" -D "$scratch/pgdata" -l "$scratch/server.log" -w \
  -o "-p $PORT -k $scratch -c listen_addresses='' -c fsync=off -c synchronous_commit=off" start >/dev/null
psql_() { as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$scratch" -p "$PORT" -U postgres "$@"; }
psql_ -c "CREATE DATABASE bench" postgres

gcc -O2 -fPIC -shared -I"$($PG_CONFIG --includedir-server)" -o "$scratch/noop_trigger.so" bench/noop_trigger.c
chmod 755 "$scratch/noop_trigger.so"

psql_ bench <<SQL
CREATE EXTENSION lead_scoring;
CREATE FUNCTION noop_trigger() RETURNS trigger AS '$scratch/noop_trigger.so', 'noop_trigger' LANGUAGE c;
SELECT setseed(0.1);
CREATE TABLE history AS
SELECT i AS id, floor(random() * 12)::int AS visits, round((random() * 30)::numeric, 1) AS minutes_on_site,
       (ARRAY['Google', 'Reference', 'Olark Chat', 'Direct', 'Select'])[1 + floor(random() * 5)::int] AS source,
       (ARRAY['Unemployed', 'Working Professional', 'Student', NULL])[1 + floor(random() * 4)::int] AS occupation,
       random() < 0.5 AS opted_in, false AS converted
  FROM generate_series(1, 20000) i;
UPDATE history SET converted = random() < 1 / (1 + exp(-(-3.5 + 0.3 * visits + 0.05 * minutes_on_site
                                 + CASE source WHEN 'Reference' THEN 1.8 ELSE 0 END)));
SELECT version FROM lead_scoring.train('bench', 'history', 'converted', options => '{"exclude": ["id"]}');
CREATE TABLE scored_leads (LIKE history);
SELECT lead_scoring.attach('scored_leads', 'bench', alerts => false);
-- The same COPY without the trigger: the attached table's columns (lead_score and lead_tier
-- stay NULL), so only the trigger's work differs.
CREATE TABLE plain_leads (LIKE scored_leads);
CREATE TABLE noop_leads (LIKE scored_leads);
CREATE TRIGGER noop BEFORE INSERT OR UPDATE ON noop_leads FOR EACH ROW EXECUTE FUNCTION noop_trigger();
COPY (SELECT i, (i * 7) % 12, ((i * 13) % 300) / 10.0,
             (ARRAY['Google', 'Reference', 'Olark Chat', 'Direct', 'Select'])[1 + i % 5],
             (ARRAY['Unemployed', 'Working Professional', 'Student', NULL])[1 + i % 4], i % 2 = 0, NULL
        FROM generate_series(1, $ROWS) i) TO '$scratch/leads.csv' (FORMAT csv);
SQL

# Each COPY runs nine times in a fresh session (the first COPY into the attached table also
# loads the model into the session's cache), the three tables taking turns so that a burst of
# load elsewhere on the machine hits all of them; the best time of each counts.
copy_ms() { # table: sets LAST_MS to the time of one COPY into it
  local table=$1 ms n
  psql_ bench -c "TRUNCATE $table" >/dev/null
  ms=$(psql_ bench -c '\timing on' -c "COPY $table ($COLUMNS) FROM '$scratch/leads.csv' (FORMAT csv)" | grep -Eo 'Time: [0-9.]+' | grep -Eo '[0-9.]+')
  n=$(psql_ bench -At -c "SELECT count(*) FROM $table")
  [ "$n" = "$ROWS" ] || { echo "FAILED: COPY into $table loaded $n rows, not $ROWS" >&2; exit 1; }
  LAST_MS=$ms
}
min_ms() { awk -v a="$1" -v b="$2" 'BEGIN {print (b == "" || a < b) ? a : b}'; }
plain=""; noop=""; trig=""
for _ in $(seq 9); do
  copy_ms plain_leads; plain=$(min_ms "$LAST_MS" "$plain")
  copy_ms noop_leads; noop=$(min_ms "$LAST_MS" "$noop")
  copy_ms scored_leads; trig=$(min_ms "$LAST_MS" "$trig")
done
scored=$(psql_ bench -At -c "SELECT count(*) FROM scored_leads l WHERE lead_score = lead_scoring.score('bench', l) AND lead_tier IS NOT NULL")
echo "rows scored by the trigger (equal to score()): $scored of $ROWS"
[ "$scored" = "$ROWS" ] || { echo "FAILED: the trigger did not score every row"; exit 1; }
ratio=$(awk -v p="$plain" -v t="$trig" 'BEGIN {printf "%.2f", (t - p) / p}')
noop_ratio=$(awk -v p="$plain" -v t="$noop" 'BEGIN {printf "%.2f", (t - p) / p}')
echo "COPY of $ROWS rows: plain ${plain} ms, with a no-op C row trigger ${noop} ms, with the lead_scoring trigger ${trig} ms"
echo "a row trigger that does nothing adds ${noop_ratio}x the plain COPY time (PostgreSQL's part)"
echo "trigger overhead: ${ratio}x the plain COPY time (target: at most 1.00x)"
awk -v r="$ratio" 'BEGIN {exit !(r <= 1.0)}' || { echo "FAILED: the trigger adds more than 1x the plain COPY time"; exit 1; }
echo "OK"
