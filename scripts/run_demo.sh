#!/usr/bin/env bash
# The main job, end to end, from a bare machine: install what is missing, build and install the
# extension, start a local PostgreSQL 15 cluster, load the X Education leads, train, score, tier,
# and print the test metrics, the tier counts and the ten hottest leads. Safe to run again: each
# run rebuilds the demo database from scratch (so it also picks up a newly built extension).
#
# Environment: LEAD_SCORING_DATA (CSV path), LEAD_SCORING_PORT (default 28816),
# LEAD_SCORING_DIR (cluster directory, default /tmp/lead_scoring_demo). `--stop` stops the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/cluster.sh
PORT=${LEAD_SCORING_PORT:-28816}
DIR=${LEAD_SCORING_DIR:-/tmp/lead_scoring_demo}
DATA=${LEAD_SCORING_DATA:-$ROOT/../shared/data/x_education_leads.csv}

if [ "${1:-}" = "--stop" ]; then
  as_pg "$BIN/pg_ctl" -D "$DIR/pgdata" stop -m fast
  exit 0
fi
[ -r "$DATA" ] || { echo "run_demo: data file $DATA not found (set LEAD_SCORING_DATA)" >&2; exit 1; }

bash scripts/setup.sh

echo "== Building and installing the extension into PostgreSQL 15 (release build)"
install_extension --release

if [ ! -f "$DIR/pgdata/PG_VERSION" ]; then
  echo "== Creating a local cluster in $DIR/pgdata"
  mkdir -p "$DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
  as_pg "$BIN/initdb" -D "$DIR/pgdata" -A trust -U postgres --no-sync >/dev/null
fi
if ! as_pg "$BIN/pg_ctl" -D "$DIR/pgdata" status >/dev/null 2>&1; then
  echo "== Starting PostgreSQL on port $PORT (socket in $DIR)"
  as_pg "$BIN/pg_ctl" -D "$DIR/pgdata" -l "$DIR/server.log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=''" start >/dev/null
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS lead_scoring_demo" -c "CREATE DATABASE lead_scoring_demo"
"${PSQL[@]}" -d lead_scoring_demo -f scripts/demo.sql < "$DATA"
echo
echo "Connect with: psql -h $DIR -p $PORT -U postgres lead_scoring_demo    (stop: bash scripts/run_demo.sh --stop)"
