#!/usr/bin/env bash
# Runs every test: core unit tests and SQL tests against a real PostgreSQL 15 (cargo pgrx test),
# then the SQL regression suite with expected output (cargo pgrx regress). Installs what is
# missing first. Each run uses fresh scratch clusters, so it works as root or as a normal user.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh

scratch=$(mktemp -d /tmp/lead_scoring_test.XXXXXX)
chmod 755 "$scratch"
trap 'rm -rf "$scratch" 2>/dev/null || sudo rm -rf "$scratch"' EXIT
runas=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: pgrx starts the test clusters as postgres through sudo.
  runas=(--runas postgres)
fi

echo "== cargo pgrx test (unit tests + SQL tests)"
cargo pgrx test pg15 "${runas[@]}" --pgdata "$scratch/test-pgdata"

echo "== cargo pgrx regress (SQL regression tests with expected output)"
cargo pgrx regress pg15 "${runas[@]}" --pgdata "$scratch/regress-pgdata" --resetdb
