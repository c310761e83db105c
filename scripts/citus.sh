# A Citus cluster on this machine, for the scale-out tests and benchmark: Citus 13.2.2 built from
# the vendored source (../shared/vendor, once per PostgreSQL installation: it is installed into
# PostgreSQL's own directories, so nothing is cached beside them) and a coordinator with two
# workers on loopback TCP ports, lead_scoring installed on every node, removed on exit.
# Source it after scripts/cluster.sh; it defines the functions below.
CITUS_VENDOR=${CITUS_VENDOR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/vendor}

# citus_build: builds and installs Citus into $PG_CONFIG's PostgreSQL unless it is there.
citus_build() {
  if [ -f "$($PG_CONFIG --pkglibdir)/citus.so" ] && [ -f "$($PG_CONFIG --sharedir)/extension/citus.control" ]; then
    return 0
  fi
  [ -f "$CITUS_VENDOR/citus-13.2.2.tar.gz" ] || { echo "citus: $CITUS_VENDOR/citus-13.2.2.tar.gz is missing" >&2; return 1; }
  echo "citus: building Citus 13.2.2 from $CITUS_VENDOR (a few minutes)" >&2
  local started=$SECONDS
  PG_CONFIG="$PG_CONFIG" CITUS_BUILD_DIR="$(mktemp -d /tmp/citus-build.XXXXXX)" bash "$CITUS_VENDOR/build_citus.sh" >&2
  echo "citus: built in $((SECONDS - started)) s" >&2
}

# citus_cluster_start PORT: a coordinator on PORT and workers on PORT+1 and PORT+2 (127.0.0.1),
# each with citus and lead_scoring, the workers added to the coordinator. Extra server options
# after PORT go to every node. Sets CITUS_DIR and CITUS_PORT (the coordinator's).
citus_cluster_start() {
  CITUS_PORT=$1
  shift
  CITUS_DIR=$(mktemp -d /tmp/lead_scoring_citus.XXXXXX)
  chmod 755 "$CITUS_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$CITUS_DIR"; fi
  # LEAD_SCORING_CITUS_KEEP=1 leaves the cluster running for a look (stop it with pg_ctl).
  [ "${LEAD_SCORING_CITUS_KEEP:-0}" = 1 ] || trap citus_cluster_stop EXIT
  local i port
  for i in 0 1 2; do
    port=$((CITUS_PORT + i))
    as_pg "$BIN/initdb" -D "$CITUS_DIR/node$i" -A trust -U postgres --no-sync >/dev/null
    as_pg "$BIN/pg_ctl" -D "$CITUS_DIR/node$i" -l "$CITUS_DIR/node$i.log" -w \
      -o "-p $port -k $CITUS_DIR -c listen_addresses=127.0.0.1 -c shared_preload_libraries=citus -c max_prepared_transactions=100 $*" \
      start >/dev/null
    as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres \
      -c "CREATE EXTENSION citus" -c "CREATE EXTENSION lead_scoring" >/dev/null
  done
  citus_psql -c "SELECT citus_set_coordinator_host('127.0.0.1', $CITUS_PORT)" \
    -c "SELECT citus_add_node('127.0.0.1', $((CITUS_PORT + 1)))" \
    -c "SELECT citus_add_node('127.0.0.1', $((CITUS_PORT + 2)))" >/dev/null
}

citus_cluster_stop() {
  if [ -n "${CITUS_DIR:-}" ] && [ -d "$CITUS_DIR" ]; then
    local i
    for i in 0 1 2; do
      as_pg "$BIN/pg_ctl" -D "$CITUS_DIR/node$i" stop -m immediate >/dev/null 2>&1 || true
    done
    rm -rf "$CITUS_DIR"
  fi
}

# psql on the coordinator as postgres, stopping at the first error.
citus_psql() { as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$CITUS_PORT" -U postgres "$@"; }
