#!/usr/bin/env bash
# Where the training backend's memory goes: train() with options.engine 'aggregate' on N leads
# (default 1,000,000) of one node, then the backend's peak resident memory growth (VmHWM) and,
# after training, its private (RssAnon) and shared-buffer (RssShmem) pages from /proc. VmHWM
# counts the shared buffers a backend touched, so the split says how much is its own memory.
# Usage: bash bench/train_memory.sh [ROWS] [SHARED_BUFFERS]   (release build, installed first)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh
rows=${1:-1000000}; sb=${2:-1GB}
install_extension --release
scratch_cluster_start memexp 28931 -c shared_buffers=$sb -c work_mem=256MB -c max_parallel_workers_per_gather=0 -c jit=off
P() { scratch_psql -d postgres "$@"; }
P -c "CREATE EXTENSION lead_scoring" >/dev/null
python3 bench/make_leads.py "$rows" 7 | P -f bench/load_leads.sql >/dev/null
P -c "VACUUM ANALYZE bench_leads" >/dev/null
P -c "SELECT pg_size_pretty(pg_total_relation_size('bench_leads'))"
opts='{"split": {"method": "column", "column": "part"}, "exclude": ["id"], "engine": "aggregate"}'
st="regexp_replace(pg_read_file('/proc/' || pg_backend_pid() || '/status'), '.*KEY:\s+(\d+) kB.*', '\1', 's')"
P -At <<SQL
SELECT lead_scoring.is_personal_email('a@example.com');
SELECT 'hwm0 ' || ${st//KEY/VmHWM};
SELECT version FROM lead_scoring.train('m', 'bench_leads', 'converted', options => '$opts');
SELECT 'hwm1 ' || ${st//KEY/VmHWM};
SELECT 'anon ' || ${st//KEY/RssAnon};
SELECT 'shmem ' || ${st//KEY/RssShmem};
SELECT training->'sample' FROM lead_scoring.models WHERE name='m';
SQL
