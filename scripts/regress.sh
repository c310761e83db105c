#!/usr/bin/env bash
# SQL regression tests with expected output, run by Postgres' own pg_regress against the
# installed extension in a scratch cluster, like `make installcheck`. The tests are discovered:
# every tests/pg_regress/sql/NAME.sql, compared with tests/pg_regress/expected/NAME.out; setup
# (it creates the extension) runs first, then the others in name order (C collation), all in one
# database, so each file creates its own tables and models under names no other file uses.
# A file without an expected output still runs and fails the suite.
# Works as root (the cluster runs as postgres) and as a normal user. `--accept` copies the
# actual output over the expected files after a run (review the diff first!).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh
PG_REGRESS=$($PG_CONFIG --pkglibdir)/pgxs/src/test/regress/pg_regress
PORT=${LEAD_SCORING_REGRESS_PORT:-28817}
ACCEPT=0
case "${1:-}" in
  --accept) ACCEPT=1 ;;
  "") ;;
  *) echo "usage: $0 [--accept]" >&2; exit 2 ;;
esac

SPECS=tests/pg_regress
[ -f "$SPECS/sql/setup.sql" ] || { echo "regress: $SPECS/sql/setup.sql is missing" >&2; exit 1; }
TESTS=(setup)
while IFS= read -r file; do
  t=$(basename "$file" .sql)
  [ "$t" = setup ] || TESTS+=("$t")
done < <(find "$SPECS/sql" -maxdepth 1 -name '*.sql' -type f | LC_ALL=C sort)

# An expected file without its test is a leftover of a rename or removal: an error too.
problems=()
shopt -s nullglob
for file in "$SPECS"/expected/*.out; do
  t=$(basename "$file" .out)
  [ -f "$SPECS/sql/$t.sql" ] || [ -f "$SPECS/sql/${t%_[0-9]}.sql" ] ||
    problems+=("$file has no $SPECS/sql/$t.sql")
done
missing=()
for t in "${TESTS[@]}"; do
  [ -f "$SPECS/expected/$t.out" ] || missing+=("$t")
done
if [ ${#problems[@]} -gt 0 ]; then
  printf 'regress: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "== ${#TESTS[@]} tests: ${TESTS[*]}"

echo "== installing the extension (debug build)"
install_extension

# pg_cron (Debian's postgresql-15-cron, installed by scripts/setup.sh) for the scheduling
# test: jobs run as background workers, so they need no TCP connection or password.
# client_min_messages=warning keeps NOTICEs out of the expected output, as cargo pgrx regress does.
# The C locale (UTF8) and English server messages make sorting and errors the same on every
# machine, whatever the environment's locale.
scratch_cluster_start lead_scoring_regress "$PORT" -c client_min_messages=warning -c lc_messages=C \
  -c shared_preload_libraries=pg_cron -c cron.database_name=lead_scoring_regress -c cron.use_background_workers=on
scratch=$SCRATCH_DIR
as_pg "$BIN/createdb" -h "$scratch" -p "$PORT" -U postgres --template=template0 --encoding=UTF8 --locale=C \
  lead_scoring_regress

# pg_regress reads a copy of the specs, in which a missing expected file is an empty one: the
# test runs and fails with its whole output as the difference.
mkdir -p "$scratch/in" "$scratch/out"
cp -r "$SPECS/sql" "$SPECS/expected" "$scratch/in/"
for t in "${missing[@]}"; do : > "$scratch/in/expected/$t.out"; done
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$scratch/in" "$scratch/out"
status=0
started=$SECONDS
as_pg "$PG_REGRESS" --use-existing --host="$scratch" --port="$PORT" --user=postgres \
  --dbname=lead_scoring_regress --inputdir="$scratch/in" --outputdir="$scratch/out" \
  "${TESTS[@]}" || status=$?
echo "regress: pg_regress took $((SECONDS - started)) s"
if [ $ACCEPT -eq 1 ]; then
  for t in "${TESTS[@]}"; do cp "$scratch/out/results/$t.out" "$SPECS/expected/$t.out"; done
  echo "regress: copied actual output to $SPECS/expected/ (review git diff and new files)"
else
  [ $status -ne 0 ] && { cat "$scratch/out/regression.diffs" || true; }
  if [ ${#missing[@]} -gt 0 ]; then
    for t in "${missing[@]}"; do
      echo "regress: FAILED: $SPECS/sql/$t.sql has no expected output $SPECS/expected/$t.out;" \
        "run with --accept and review what it wrote" >&2
    done
    status=1
  fi
fi
exit $status
