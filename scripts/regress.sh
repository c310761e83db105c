#!/usr/bin/env bash
# SQL regression tests with expected output (tests/pg_regress/{sql,expected}), run by Postgres'
# own pg_regress against the installed extension in a scratch cluster, like `make installcheck`.
# Works as root (the cluster runs as postgres) and as a normal user. `--accept` copies the
# actual output over the expected files after a run (review the diff first!).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
BIN=$($PG_CONFIG --bindir)
PG_REGRESS=$($PG_CONFIG --pkglibdir)/pgxs/src/test/regress/pg_regress
PORT=${LEAD_SCORING_REGRESS_PORT:-28817}
TESTS=(setup quickstart evaluation cache_invalidation features workflow preprocessing monitoring model_sql)
# schedule.sql needs pg_cron preloaded (below) and waits for a job to run (up to a minute).
TESTS+=(schedule)

as_pg() { if [ "$(id -u)" -eq 0 ]; then sudo -u postgres "$@"; else "$@"; fi; }

echo "== installing the extension (debug build)"
if [ "$(id -u)" -eq 0 ]; then
  cargo pgrx install --pg-config "$PG_CONFIG" >/dev/null
else
  cargo pgrx install --sudo --pg-config "$PG_CONFIG" >/dev/null
fi

scratch=$(mktemp -d /tmp/lead_scoring_regress.XXXXXX)
chmod 755 "$scratch"
[ "$(id -u)" -eq 0 ] && chown postgres: "$scratch"
cleanup() {
  as_pg "$BIN/pg_ctl" -D "$scratch/pgdata" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# pg_cron (Debian's postgresql-15-cron, installed by scripts/setup.sh) for the scheduling
# test: jobs run as background workers, so they need no TCP connection or password.
CRON_OPTS="-c shared_preload_libraries=pg_cron -c cron.database_name=lead_scoring_regress -c cron.use_background_workers=on"
as_pg "$BIN/initdb" -D "$scratch/pgdata" -A trust -U postgres --no-sync >/dev/null
# client_min_messages=warning keeps NOTICEs out of the expected output, as cargo pgrx regress does.
as_pg "$BIN/pg_ctl" -D "$scratch/pgdata" -l "$scratch/server.log" -w \
  -o "-p $PORT -k $scratch -c listen_addresses='' -c client_min_messages=warning $CRON_OPTS" start >/dev/null
as_pg "$BIN/createdb" -h "$scratch" -p "$PORT" -U postgres lead_scoring_regress

mkdir -p "$scratch/out"
[ "$(id -u)" -eq 0 ] && chown postgres: "$scratch/out"
status=0
as_pg "$PG_REGRESS" --use-existing --host="$scratch" --port="$PORT" --user=postgres \
  --dbname=lead_scoring_regress --inputdir=tests/pg_regress --outputdir="$scratch/out" \
  "${TESTS[@]}" || status=$?
if [ "${1:-}" = "--accept" ]; then
  for t in "${TESTS[@]}"; do cp "$scratch/out/results/$t.out" "tests/pg_regress/expected/$t.out"; done
  echo "regress: copied actual output to tests/pg_regress/expected/"
elif [ $status -ne 0 ]; then
  cat "$scratch/out/regression.diffs" || true
fi
exit $status
