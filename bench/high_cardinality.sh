#!/usr/bin/env bash
# Many text levels: train() on a table with a text column of 20,000 levels each seen 20 times
# (400,000 leads by default; LEAD_SCORING_HC_ROWS changes it). Prints the backend's peak memory
# growth during train() (VmHWM after minus before, from /proc) next to what a design matrix of
# the table's nonzeros takes, the Newton system (independent of the rows) and the dense matrix
# the table once needed, with the ratios. Release build, scratch cluster (bench/lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROWS=${LEAD_SCORING_HC_ROWS:-400000}
bench_start

bench_psql -c "CREATE TABLE hc AS SELECT g AS id, 'lvl' || (g % 20000) AS lv, (g % 7) AS n,
                 ((g::bigint * 7919) % 10 < 3)::int AS y FROM generate_series(1, $ROWS) g" >/dev/null
# One session: its pid, its peak memory before (extension loaded), train(), its peak after.
out=$(bench_psql -At <<'SQL' 2>&1
SELECT lead_scoring.is_personal_email('a@example.com');  -- loads the library
SELECT pg_backend_pid();
SELECT split_part(regexp_replace(pg_read_file('/proc/' || pg_backend_pid() || '/status'), '.*VmHWM:\s+(\d+) kB.*', '\1', 's'), ' ', 1);
\timing on
SELECT version FROM lead_scoring.train('hc', 'hc', 'y', options => '{"exclude": ["id"], "leakage": "ignore"}');
\timing off
SELECT split_part(regexp_replace(pg_read_file('/proc/' || pg_backend_pid() || '/status'), '.*VmHWM:\s+(\d+) kB.*', '\1', 's'), ' ', 1);
SELECT (training->'parts'->'train'->>'rows')::bigint, (training->>'inputs')::bigint FROM lead_scoring.models WHERE name = 'hc';
SQL
)
before=$(sed -n 3p <<<"$out"); after=$(tail -2 <<<"$out" | head -1)
seconds=$(grep -Eo 'Time: [0-9.]+ ms' <<<"$out" | grep -Eo '[0-9.]+' | awk '{printf "%.1f", $1 / 1000}')
IFS='|' read -r train_rows inputs <<<"$(tail -1 <<<"$out")"
growth_mb=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
# Nonzeros: one level and the number per row (n has no missing values, so no indicator).
sparse_mb=$(awk -v r="$train_rows" 'BEGIN { printf "%.1f", ((r + 1) * 8 + r * 2 * 12) / 1048576 }')
newton_mb=$(awk -v p="$inputs" 'BEGIN { printf "%.1f", 48 * (p + 1) ^ 2 / 1048576 }')
dense_mb=$(awk -v r="$train_rows" 'BEGIN { printf "%.0f", r * 20001 * 8 / 1048576 }')
echo "high_cardinality: $ROWS leads ($train_rows training rows), 20,000 levels kept to $((inputs - 2)) + (other): $inputs inputs; train() ${seconds} s"
echo "high_cardinality: backend peak memory growth during train(): $growth_mb MB"
echo "high_cardinality: design matrix of the nonzeros (sparse, 2 per row): $sparse_mb MB; Newton system (48 (inputs+1)^2 bytes): $newton_mb MB; dense one-hot of all 20,000 levels: $dense_mb MB"
echo "high_cardinality: growth / (nonzero design matrix + Newton system) = $(ratio "$growth_mb" "$(awk -v a="$sparse_mb" -v b="$newton_mb" 'BEGIN { print a + b }')")x; growth / dense one-hot = $(awk -v a="$growth_mb" -v b="$dense_mb" 'BEGIN { printf "%.4f", a / b }')x"
