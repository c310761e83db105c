#!/usr/bin/env bash
# Hostile catalog state (hostile_catalog.py) against a scratch cluster: hand edits of
# lead_scoring.models, then the server log is checked for a killed backend or a PANIC.
# Prints "hostile_catalog: N calls, M errors, 0 crashes" and "ok" lines; non-zero on a failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
run_checks hostile_catalog hostile "${LEAD_SCORING_HOSTILE_PORT:-28840}" tests/reliability/hostile_catalog.py
