#!/usr/bin/env bash
# How long generate_demo() takes for 100,000 and 1,000,000 leads, against a named baseline
# measured in the same run: writing the same number of rows (leads + events) with a plain
# INSERT ... SELECT generate_series into an ordinary table. Target:
# 1,000,000 leads "in minutes, not hours": fails when it takes more than 15 minutes.
# Usage: bash bench/demo_scale.sh [n_leads ...]   (default: 100000 1000000)
source "$(dirname "$0")/lib.sh"
export PGOPTIONS="-c client_min_messages=warning"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100000 1000000)
bench_start
status=0
printf '%-10s %10s %12s %12s %12s %8s\n' leads events demo_s baseline_s rows_per_s ratio
for n in "${sizes[@]}"; do
  t0=$(date +%s%N)
  bench_psql -c "SELECT lead_scoring.generate_demo($n, 42)" >/dev/null
  t1=$(date +%s%N)
  demo=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  rows=$(bench_psql -At -c "SELECT (SELECT count(*) FROM lead_scoring_demo.leads) + (SELECT count(*) FROM lead_scoring_demo.lead_events) + (SELECT count(*) FROM lead_scoring_demo.companies)")
  events=$(bench_psql -At -c "SELECT count(*) FROM lead_scoring_demo.lead_events")
  bench_psql -c "DROP TABLE IF EXISTS plain_rows" >/dev/null
  t0=$(date +%s%N)
  bench_psql -c "CREATE TABLE plain_rows AS SELECT g AS id, g % 97 AS a, now() - g * interval '1 second' AS ts, md5(g::text) AS t FROM generate_series(1, $rows) g" >/dev/null
  t1=$(date +%s%N)
  base=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  printf '%-10s %10s %12s %12s %12.0f %8s\n' "$n" "$events" "$demo" "$base" "$(awk -v r="$rows" -v s="$demo" 'BEGIN { print r / s }')" "$(ratio "$demo" "$base")"
  if [ "$n" -ge 1000000 ] && awk -v s="$demo" 'BEGIN { exit !(s > 900) }'; then
    echo "MISSED: generate_demo($n) took ${demo}s, more than 15 minutes" >&2
    status=1
  fi
done
exit $status
