#!/usr/bin/env bash
# The fuzz matrix (fuzz_matrix.py) against a scratch cluster: every SQL function with hostile
# arguments, then the server log is checked for a backend killed by a signal or a PANIC.
# Prints "fuzz_matrix: N calls, M errors, 0 crashes" and "ok" lines; exits non-zero on a failure.
# LEAD_SCORING_FUZZ_FULL=1: the 1,000-column and 100,000-level tables (CI: 300 and 20,000).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
run_checks fuzz_matrix fuzz "${LEAD_SCORING_FUZZ_PORT:-28830}" tests/reliability/fuzz_matrix.py
