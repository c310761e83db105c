# Shared helpers for bench/*.sh: a scratch PostgreSQL 15 cluster with the release build of the
# extension installed, run as postgres when invoked as root. Source it; call bench_start first.
set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$BENCH_ROOT/scripts/cluster.sh"
BENCH_PORT=${LEAD_SCORING_BENCH_PORT:-28819}

# Installs the release build and starts the scratch cluster with database `bench` and the
# extension. One backend, no parallel workers unless a benchmark asks for them, enough memory
# for sorts; BENCH_SERVER_OPTIONS adds server options (for example fsync=off).
bench_start() {
  (cd "$BENCH_ROOT" && bash scripts/setup.sh >/dev/null)
  echo "bench: building and installing the release build" >&2
  (cd "$BENCH_ROOT" && install_extension --release 2>/dev/null)
  scratch_cluster_start lead_scoring_bench "$BENCH_PORT" -c shared_buffers=1GB -c work_mem=256MB \
    -c max_parallel_workers_per_gather=0 -c jit=off ${BENCH_SERVER_OPTIONS:-}
  BENCH_DIR=$SCRATCH_DIR
  as_pg "$BIN/createdb" -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres bench
  bench_psql -c "CREATE EXTENSION lead_scoring" >/dev/null
}

bench_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$BENCH_DIR" -p "$BENCH_PORT" -U postgres -d bench "$@"; }

# Best wall time in seconds of running SQL $1, over $2 runs (default 3).
best_seconds() {
  local sql=$1 runs=${2:-3} best="" t0 t1 s
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    bench_psql -c "$sql" >/dev/null
    t1=$(date +%s%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    if [ -z "$best" ] || awk -v x="$s" -v y="$best" 'BEGIN { exit !(x < y) }'; then best=$s; fi
  done
  echo "$best"
}

# The smaller of two times in seconds ($1 may be empty).
best_of() { if [ -z "$1" ] || awk -v x="$2" -v y="$1" 'BEGIN { exit !(x < y) }'; then echo "$2"; else echo "$1"; fi; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# A Python for the baselines (numpy, pandas, scikit-learn, psycopg) in bench/.venv (git-ignored),
# created from PyPI on first use. Sets BENCH_PY.
bench_venv() {
  BENCH_PY="$BENCH_ROOT/bench/.venv/bin/python"
  if ! "$BENCH_PY" -c "import numpy, pandas, sklearn, psycopg" 2>/dev/null; then
    echo "bench: creating bench/.venv (numpy pandas scikit-learn psycopg from PyPI)" >&2
    python3 -m venv "$BENCH_ROOT/bench/.venv"
    "$BENCH_ROOT/bench/.venv/bin/pip" install -q numpy pandas scikit-learn 'psycopg[binary]' >&2
  fi
}

# Connection string for psycopg to the scratch cluster.
bench_dsn() { echo "host=$BENCH_DIR port=$BENCH_PORT user=postgres dbname=bench"; }
