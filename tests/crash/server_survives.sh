#!/usr/bin/env bash
# Statements that once killed a backend by a signal (an allocation abort, a segfault on
# an edited artifact), run against a scratch cluster while a bystander session stays connected.
# After each case the server log must show no backend terminated by a signal and the bystander
# must still answer from the same backend: PostgreSQL restarts every session when one crashes.
# Prints "server_survives: ok" at the end; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster.sh
PORT=${LEAD_SCORING_CRASH_PORT:-28820}
FUZZ_ROUNDS=${LEAD_SCORING_FUZZ_ROUNDS:-150}

[ "${LEAD_SCORING_SKIP_INSTALL:-}" = 1 ] || install_extension
scratch_cluster_start lead_scoring_crash "$PORT"
as_pg "$BIN/createdb" -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres crash
db() { scratch_psql -d crash "$@"; }
db -c "CREATE EXTENSION lead_scoring"

# The bystander: one psql kept open for the whole run, asked for its backend's pid after each case.
coproc BYSTANDER { as_pg "$BIN/psql" -X -q -At -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres -d crash 2>&1; }
bystander_pid() {
  echo "SELECT pg_backend_pid();" >&"${BYSTANDER[1]}"
  local pid
  read -r -t 20 pid <&"${BYSTANDER[0]}" || { echo "server_survives: the bystander session did not answer" >&2; exit 1; }
  echo "$pid"
}
first_pid=$(bystander_pid)

fail() { echo "server_survives: $*" >&2; tail -20 "$SCRATCH_DIR/server.log" >&2; exit 1; }
survived() {
  if grep -E "terminated by signal|was terminated|memory allocation of .* failed" "$SCRATCH_DIR/server.log"; then
    fail "$1: a backend was killed"
  fi
  [ "$(bystander_pid)" = "$first_pid" ] || fail "$1: the bystander session was restarted"
  echo "server_survives: $1: no crash, bystander alive"
}
# expect_error CASE SQL NEEDLE: the statement fails with an ERROR containing NEEDLE.
expect_error() {
  local out
  if out=$(db -c "$2" 2>&1); then fail "$1: expected an ERROR containing '$3', got: $out"; fi
  grep -qF -- "$3" <<<"$out" || fail "$1: expected an ERROR containing '$3', got: $out"
  survived "$1"
}

# 1. A text column of 20,000 levels, each frequent enough to keep: once a 51 GB dense one-hot
#    matrix and an abort; now capped by max_levels, stored sparse, and trained. (The original
#    reproduction wrote g * 7919, which overflows integer past g = 271,000: bigint here.)
db -c "CREATE TABLE hc AS SELECT g AS id, 'lvl' || (g % 20000) AS lv, (g % 7) AS n,
         ((g::bigint * 7919) % 10 < 3)::int AS y FROM generate_series(1, 400000) g"
out=$(db -c "SELECT version FROM lead_scoring.train('hc', 'hc', 'y', options => '{\"exclude\":[\"id\"], \"leakage\":\"ignore\"}')" 2>&1) \
  || fail "high-cardinality training failed: $out"
grep -qF 'kept the 1000 most frequent (options.max_levels)' <<<"$out" || fail "no NOTICE about the capped levels: $out"
survived "20,000-level text column"
# The same column for boosted trees is one input of level codes (LightGBM's categorical
# feature): it trains within 512 MB (it was a dense one-hot matrix, refused past the limit), and
# under 8 MB it is refused with an ERROR naming the limit.
out=$(db -c "SELECT version FROM lead_scoring.train('hcg', 'hc', 'y', algorithm => 'gbm', options => '{\"exclude\":[\"id\"], \"leakage\":\"ignore\", \"max_memory\": \"512MB\", \"trees\": 50}')" 2>&1) \
  || fail "gbm on the 20,000-level column failed: $out"
survived "gbm on a 20,000-level text column within 512 MB"
expect_error "gbm past max_memory" \
  "SELECT lead_scoring.train('hcg', 'hc', 'y', algorithm => 'gbm', options => '{\"exclude\":[\"id\"], \"leakage\":\"ignore\", \"max_memory\": \"8MB\"}')" \
  'more than the memory limit of 8.0 MB (the limit is options.max_memory)'
db -c "SET lead_scoring.max_memory = '16MB'" -c "SELECT lead_scoring.train('hc64', 'hc', 'y', options => '{\"exclude\":[\"id\"], \"leakage\":\"ignore\"}')" >/dev/null 2>&1 \
  && fail "training within 16MB should have been refused"
survived "lead_scoring.max_memory"

# 2. Absurd option sizes, each refused before any work.
db -c "SELECT g AS id, (g % 13)::float8 AS visits, CASE g % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'ads' ELSE 'call' END AS src,
         (g % 13 + g % 5 > 9) AS converted INTO small FROM generate_series(1, 3000) g" >/dev/null
small() { expect_error "$1" "SELECT lead_scoring.train('s', 'small', 'converted', algorithm => '${3:-logistic}', options => '{\"exclude\":[\"id\"], $2}')" "$4"; }
small "max_iter 1e9" '"max_iter": 1000000000, "tol": 1e-300, "alpha": 0' logistic '"max_iter" must be at most 10000'
small "trees 1e9" '"trees": 1000000000' gbm '"trees" must be at most 100000'
small "max_leaves 1e9" '"max_leaves": 1000000000' gbm '"max_leaves" must be at most 65536'
small "max_depth 1e9" '"max_depth": 1000000000' gbm '"max_depth" must be at most 64'
small "bins 1e9" '"bins": {"visits": 1000000000}' logistic 'must be a whole number from 2 to 100'
small "cv folds" '"cv": 1000000' logistic 'number of folds from 2 to 20'
small "search n_iter" '"search": {"method": "random", "n_iter": 100000000, "alpha": {"min": 0.01, "max": 1}}' logistic '"search.n_iter" must be at most 1000'
small "smote k" '"resample": {"method": "smote", "k": 1000000000}' logistic '"resample.k" must be at most 100'
small "max_levels" '"max_levels": 1000000000' logistic '"max_levels" must be a whole number from 1 to 100000'
small "early stopping" '"early_stopping_rounds": 1000000000' gbm '"early_stopping_rounds" must be at most'
small "max_memory" '"max_memory": "1kB"' logistic '"max_memory" must be at least 1MB'
# A huge max_leaves within its bound still meets the memory limit before LightGBM allocates.
small "gbm histograms" '"max_leaves": 65536, "max_depth": 64, "max_memory": "16MB"' gbm 'more than the memory limit of 16.0 MB'

# The shared X Education leads, where large options once aborted at 120 GB: bounds hold, and
# sizes within them train within the memory limit (LightGBM's histograms are counted first).
DATA=${LEAD_SCORING_DATA:-../shared/data/x_education_leads.csv}
db -f scripts/x_education.sql >/dev/null 2>&1
db -c "$(grep '^\\copy x_education.leads' scripts/demo.sql)" < "$DATA" >/dev/null
x_opts='"exclude": ["Prospect ID", "Lead Number", "file_row"], "leakage": "ignore"'
expect_error "shared leads, max_iter 1e9" \
  "SELECT lead_scoring.train('x', 'x_education.leads', 'Converted', options => '{$x_opts, \"max_iter\": 1000000000, \"tol\": 1e-300, \"alpha\": 0}')" \
  '"max_iter" must be at most 10000'
out=$(db -c "SELECT lead_scoring.train('x', 'x_education.leads', 'Converted', options => '{$x_opts, \"max_iter\": 10000, \"tol\": 1e-300, \"alpha\": 0}')" 2>&1) \
  || fail "shared leads, tol 1e-300: $out"
grep -qF 'the objective no longer improves' <<<"$out" || fail "no WARNING about the stalled fit: $out"
survived "shared leads, tol 1e-300 (stops once the objective stalls)"
db -c "SELECT lead_scoring.train('xg', 'x_education.leads', 'Converted', algorithm => 'gbm', options => '{$x_opts, \"max_leaves\": 65536, \"max_depth\": 64, \"trees\": 5}')" >/dev/null \
  || fail "shared leads, gbm with max_leaves 65536 failed"
survived "shared leads, gbm max_leaves 65536 max_depth 64"

# 3. A gbm artifact edited with its checksum recomputed: an ERROR or a score, never a crash.
db -c "CREATE TABLE fuzz_leads AS SELECT * FROM small" -c "SELECT lead_scoring.train('fuzz', 'fuzz_leads', 'converted', algorithm => 'gbm', options => '{\"exclude\":[\"id\"], \"trees\": 20, \"leakage\": \"ignore\"}')" >/dev/null
runas=(); [ "$(id -u)" -eq 0 ] && runas=(sudo -u postgres)
python3 tests/crash/edit_artifacts.py "$FUZZ_ROUNDS" -- "${runas[@]}" "$BIN/psql" -X -q -h "$SCRATCH_DIR" -p "$SCRATCH_PORT" -U postgres -d crash \
  || fail "the artifact fuzz failed"
survived "edited gbm artifacts"

echo "SELECT 1;" >&"${BYSTANDER[1]}"
echo "server_survives: ok"
