# Shared by the scripts that run PostgreSQL 15 themselves (run_demo.sh, regress.sh, bench/):
# installing the extension and a throwaway cluster that is removed on exit. Works as root (the
# cluster runs as postgres, as initdb requires) and as a normal user (with sudo for installing).
# Source it; it defines PG_CONFIG, BIN and the functions below.
# Debian's PostgreSQL 15 (scripts/setup.sh installs it; nothing here runs before that), or the
# private copy LEAD_SCORING_PG_CONFIG names (scripts/private_pg.sh).
PG_CONFIG=${LEAD_SCORING_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BIN=$($PG_CONFIG --bindir)
export PATH="$HOME/.cargo/bin:$PATH"

# Runs a command as postgres when we are root (initdb and the server refuse root).
as_pg() { if [ "$(id -u)" -eq 0 ]; then sudo -u postgres "$@"; else "$@"; fi; }

# Builds and installs the extension into PostgreSQL 15: `install_extension` (debug build) or
# `install_extension --release`.
install_extension() {
  local sudo=()
  if [ "$(id -u)" -eq 0 ]; then
    cargo pgrx install "$@" --pg-config "$PG_CONFIG" >/dev/null
  else
    cargo pgrx install "$@" --sudo --pg-config "$PG_CONFIG" >/dev/null
    sudo=(sudo)
  fi
  # pgrx writes the current version's install script and copies the update scripts
  # (sql/lead_scoring--A--B.sql); the install scripts of earlier releases, frozen in sql/, are
  # copied here, so CREATE EXTENSION lead_scoring VERSION '0.1.0' works (tests/durability/upgrade.sh).
  local script
  for script in "$(dirname "${BASH_SOURCE[0]}")"/../sql/lead_scoring--*.sql; do
    [ -e "$script" ] || continue
    case "$(basename "$script")" in
      lead_scoring--*--*.sql) ;;
      lead_scoring--*.sql) "${sudo[@]}" install -m 644 "$script" "$($PG_CONFIG --sharedir)/extension/" ;;
    esac
  done
}

# scratch_cluster_start NAME PORT [server option...]: initdb and start a cluster in a new
# directory /tmp/NAME.XXXXXX (socket there, no TCP), stopped and removed when the script exits.
# Sets SCRATCH_DIR and SCRATCH_PORT.
scratch_cluster_start() {
  local name=$1
  SCRATCH_PORT=$2
  shift 2
  SCRATCH_DIR=$(mktemp -d "/tmp/$name.XXXXXX")
  chmod 755 "$SCRATCH_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$SCRATCH_DIR"; fi
  trap scratch_cluster_stop EXIT
  as_pg "$BIN/initdb" -D "$SCRATCH_DIR/pgdata" -A trust -U postgres --no-sync >/dev/null
  as_pg "$BIN/pg_ctl" -D "$SCRATCH_DIR/pgdata" -l "$SCRATCH_DIR/server.log" -w \
    -o "-p $SCRATCH_PORT -k $SCRATCH_DIR -c listen_addresses='' $*" start >/dev/null
}

scratch_cluster_stop() {
  if [ -n "${SCRATCH_DIR:-}" ] && [ -d "$SCRATCH_DIR" ]; then
    as_pg "$BIN/pg_ctl" -D "$SCRATCH_DIR/pgdata" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$SCRATCH_DIR"
  fi
}

# psql on the scratch cluster as postgres, stopping at the first error.
scratch_psql() { as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres "$@"; }
