#!/usr/bin/env bash
# Our logistic fit (Newton / IRLS, the core's fit_logistic) against linfa-logistic 0.8 (L-BFGS)
# on the shared X Education leads, in the same run, no database: the README's reference split,
# the leaking columns and ids dropped, the project's own preprocessing fitted on the training
# part (core/tests/support/x_education.rs), alpha 1 for both (same objective: sum of log losses
# + alpha/2 ||b||^2, intercept unpenalised). Prints best-of-ROUNDS fit times, ours / linfa's,
# both test ROC AUCs, the gradient norm each fit leaves and the largest difference from ours.
# Usage: bash bench/linfa_logistic.sh [ROUNDS]   (default 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
cd "$root"
echo "bench: $(date '+%Y-%m-%d %H:%M'), commit $(git rev-parse --short HEAD), $(nproc) cores, $(rustc --version)" >&2
cargo run --quiet --release -p lead_scoring_core --example linfa_logistic_compare -- "$rounds"
