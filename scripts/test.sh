#!/usr/bin/env bash
# Runs every test: core unit tests and SQL tests against a real PostgreSQL 15 (cargo pgrx test),
# then the SQL regression suite with expected output (scripts/regress.sh, pg_regress). Installs what is
# missing first. Each run uses fresh scratch clusters, so it works as root or as a normal user.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh

scratch=$(mktemp -d /tmp/lead_scoring_test.XXXXXX)
chmod 755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
runas=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: pgrx starts the test cluster as postgres through sudo, in a
  # directory postgres owns.
  chown postgres: "$scratch"
  runas=(--runas postgres)
fi

echo "== cargo fmt --check and cargo clippy -D warnings (both crates)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --features pg_test -- -D warnings

echo "== cargo test -p lead_scoring_core (the ML core's unit tests, no server)"
cargo test -p lead_scoring_core 2>&1 | tee "$scratch/core-test.log"

echo "== cargo pgrx test (SQL tests against a real server)"
cargo pgrx test pg15 "${runas[@]}" --pgdata "$scratch/test-pgdata" 2>&1 | tee "$scratch/pgrx-test.log"

echo "== pg_regress (SQL regression tests with expected output)"
bash scripts/regress.sh 2>&1 | tee "$scratch/regress.log"

echo "== report rendered by headless Chromium (tests/report/render_report.sh)"
LEAD_SCORING_SKIP_INSTALL=1 bash tests/report/render_report.sh 2>&1 | tee "$scratch/report.log"

echo "== server survives hostile statements (tests/crash/server_survives.sh)"
LEAD_SCORING_SKIP_INSTALL=1 bash tests/crash/server_survives.sh 2>&1 | tee "$scratch/crash.log"

echo "== durability (tests/durability): pg_dump/pg_restore, DROP/CREATE EXTENSION, 0.1.0 upgrade"
for t in dump_restore drop_create upgrade; do
  LEAD_SCORING_SKIP_INSTALL=1 bash "tests/durability/$t.sh" 2>&1 | tee -a "$scratch/durability.log"
done

echo "== every SQL function with hostile arguments (tests/reliability/fuzz_matrix.sh)"
LEAD_SCORING_SKIP_INSTALL=1 bash tests/reliability/fuzz_matrix.sh 2>&1 | tee "$scratch/fuzz.log"

echo "== hand-edited catalog rows and cache invalidation across sessions (tests/reliability/hostile_catalog.sh)"
LEAD_SCORING_SKIP_INSTALL=1 bash tests/reliability/hostile_catalog.sh 2>&1 | tee "$scratch/hostile.log"

echo "== concurrency, cancel and memory limits (tests/concurrency/)"
for t in scorers_vs_deploy concurrent_train cancel memory_limits; do
  LEAD_SCORING_SKIP_INSTALL=1 bash "tests/concurrency/$t.sh" 2>&1 | tee -a "$scratch/concurrency.log"
done

echo "== Citus: a coordinator and two workers (tests/citus/run.sh; builds Citus from ../shared/vendor on first use)"
LEAD_SCORING_SKIP_INSTALL=1 bash tests/citus/run.sh 2>&1 | tee "$scratch/citus.log"

# One closing line for both suites (pipefail above already stopped on any failure).
unit=$(cat "$scratch/core-test.log" "$scratch/pgrx-test.log" | grep -Eo 'test result: ok\. [0-9]+ passed'  | grep -Eo '[0-9]+' | awk '{s += $1} END {print s + 0}')
regress=$(grep -Eo 'All [0-9]+ tests passed' "$scratch/regress.log" | grep -Eo '[0-9]+')
report=$(grep -c '^render_report: ok$' "$scratch/report.log" || true)
crash=$(grep -c ': no crash, bystander alive$' "$scratch/crash.log" || true)
durability=$(grep -Ec '^(dump_restore|drop_create|upgrade): ok: ' "$scratch/durability.log" || true)
reliability=$(cat "$scratch/fuzz.log" "$scratch/hostile.log" | grep -Ec '^(fuzz_matrix|hostile_catalog): ok: ' || true)
# Each checked property ("NAME: ok: ...") and each cancelled function ("cancel: FUNCTION: ok").
concurrency=$(grep -cE '^(scorers_vs_deploy|concurrent_train|cancel|memory_limits): (ok: |.+: ok)' "$scratch/concurrency.log" || true)
citus=$(grep -Eo '^citus: ok: [0-9]+ specs' "$scratch/citus.log" | grep -Eo '[0-9]+')
echo "lead_scoring: $((unit + regress + report + crash + durability + reliability + concurrency + citus)) passed, 0 failed"
