#!/usr/bin/env bash
# Peak private memory of train() against what README "Memory and size limits" documents: the
# backend's VmHWM minus its shared pages (RssShmem), read from /proc/self/status by the backend
# itself, less what it held before the call (as bench/train_speed.sh measures). On a table
# sized so the design matrix dominates: the memory engine within its documented multiple of the
# design matrix (training rows x inputs x 8 bytes), and a lead_scoring.max_memory below what the
# call needs refused with an ERROR before the backend holds more than 3x that limit.
# Prints "memory_limits: ok" lines; exits non-zero on the first failure.
set -euo pipefail
TEST=memory_limits NAME=lead_scoring_memory PORT=${LEAD_SCORING_MEMORY_PORT:-28833}
source "$(dirname "$0")/common.sh"
ROWS=${LEAD_SCORING_MEMORY_ROWS:-100000}
# The documented bound (README "Memory and size limits"): the columns read (16 bytes per number,
# 4 per text value, every row) plus twice the design matrix.
NUMBERS=27 TEXTS=4

make_leads mem "$ROWS" 24
private_kb="(regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\\s+(\\d+)'))[1]::bigint
            - (regexp_match(pg_read_file('/proc/self/status'), 'RssShmem:\\s+(\\d+)'))[1]::bigint"
opts='{"exclude": ["id", "created_at"], "leakage": "ignore", "engine": "memory", "split": {"method": "column", "column": "part"}}'

# One session: the private memory before, train, the peak after, and the design matrix's size.
read -r before peak design <<<"$(db -At -F' ' <<SQL
SELECT $private_kb AS before \gset
SELECT version FROM lead_scoring.train('mem', 'mem', 'converted', options => '$opts') \gset
SELECT :before, $private_kb, (training->'parts'->'train'->>'rows')::bigint * (training->>'inputs')::bigint * 8
  FROM lead_scoring.models WHERE name = 'mem';
SQL
)"
used_mb=$(awk -v a="$before" -v b="$peak" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
design_mb=$(awk -v d="$design" 'BEGIN { printf "%.1f", d / 1048576 }')
bound_mb=$(awk -v d="$design" -v r="$ROWS" -v n="$NUMBERS" -v t="$TEXTS" 'BEGIN { printf "%.1f", (r * (16 * n + 4 * t) + 2 * d) / 1048576 }')
ratio=$(awk -v a="$before" -v b="$peak" -v d="$design" 'BEGIN { printf "%.2f", (b - a) * 1024 / d }')
awk -v u="$used_mb" -v m="$bound_mb" 'BEGIN { exit !(u <= m) }' \
  || fail "train() on $ROWS rows used $used_mb MB beyond its start, more than the documented $bound_mb MB (columns read + 2x the $design_mb MB design matrix)"
echo "$TEST: ok: train() memory engine on $ROWS rows: peak private memory $used_mb MB beyond the backend's start (${ratio}x the $design_mb MB design matrix), within the documented $bound_mb MB (columns read + 2x the design matrix)"

# A limit below what the call needs: refused with an ERROR naming the limit, and the backend
# never held more than the limit on the way.
limit_mb=$(awk -v d="$design" 'BEGIN { printf "%d", d / 1048576 / 2 }')
out=$(db -At -F' ' <<SQL 2>&1
\set ON_ERROR_STOP 0
SELECT $private_kb AS before \gset
SET lead_scoring.max_memory = '${limit_mb}MB';
SELECT version FROM lead_scoring.train('mem_refused', 'mem', 'converted', options => '$opts');
SELECT 'peak', :before, $private_kb;
SQL
)
grep -qF "the limit is lead_scoring.max_memory" <<<"$out" || grep -qF "memory limit of ${limit_mb}" <<<"$out" \
  || fail "train() within ${limit_mb} MB was not refused by the memory limit: $out"
read -r _ before peak <<<"$(grep '^peak' <<<"$out")"
held_mb=$(awk -v a="$before" -v b="$peak" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
# The read is measured every 16,384 rows and its vectors grow by doubling, so a small limit is
# overshot before the refusal (README "Memory and size limits"): at most 3x the limit.
awk -v h="$held_mb" -v l="$limit_mb" 'BEGIN { exit !(h <= 3 * l) }' \
  || fail "train() refused at lead_scoring.max_memory = ${limit_mb}MB, but the backend held $held_mb MB first (more than 3x)"
[ "$(value "SELECT count(*) FROM lead_scoring.models WHERE name = 'mem_refused'")" = 0 ] || fail "the refused train() stored a model"
echo "$TEST: ok: lead_scoring.max_memory = ${limit_mb}MB refused train() with an ERROR after holding $held_mb MB (within 3x the limit); no model stored"
echo "$TEST: ok"
