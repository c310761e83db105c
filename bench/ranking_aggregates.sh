#!/usr/bin/env bash
# roc_auc, pr_auc and ks_statistic over 1,000,000 (score, label) rows (LEAD_SCORING_RANKING_ROWS
# changes it): the score_counts state (counts per distinct score, appended in place, mergeable
# per shard) against the 0.1.0 aggregates that kept every pair in an internal state, rebuilt in
# the bench database from the library's 0.1.0 final functions. Two tables: distinct scores
# (random()) and scores with ties (1,000 values). Prints the best of 5 wall times of each (the
# two run in turn, so a change of the machine's load hits both), the ratio new / old, and fails
# unless both give the same values. Release build, scratch cluster.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROWS=${LEAD_SCORING_RANKING_ROWS:-1000000}
bench_start

bench_psql >/dev/null <<SQL
CREATE FUNCTION pairs_roc_auc_final(internal) RETURNS float8 AS 'lead_scoring', 'roc_auc_final_wrapper' LANGUAGE C;
CREATE FUNCTION pairs_pr_auc_final(internal) RETURNS float8 AS 'lead_scoring', 'pr_auc_final_wrapper' LANGUAGE C;
CREATE FUNCTION pairs_ks_final(internal) RETURNS float8 AS 'lead_scoring', 'ks_statistic_final_wrapper' LANGUAGE C;
CREATE AGGREGATE pairs_roc_auc(float8, boolean) (SFUNC = lead_scoring.metric_pairs_accum, STYPE = internal, FINALFUNC = pairs_roc_auc_final);
CREATE AGGREGATE pairs_pr_auc(float8, boolean) (SFUNC = lead_scoring.metric_pairs_accum, STYPE = internal, FINALFUNC = pairs_pr_auc_final);
CREATE AGGREGATE pairs_ks(float8, boolean) (SFUNC = lead_scoring.metric_pairs_accum, STYPE = internal, FINALFUNC = pairs_ks_final);
SELECT setseed(0.42);
CREATE TABLE distinct_scores AS SELECT random() AS p, random() < 0.3 AS y FROM generate_series(1, $ROWS);
CREATE TABLE tied_scores AS SELECT round(p::numeric, 3)::float8 AS p, y FROM distinct_scores;
VACUUM ANALYZE distinct_scores; VACUUM ANALYZE tied_scores;
SQL

echo "ranking aggregates over $ROWS rows (best of 5, seconds): score_counts state vs 0.1.0 pairs"
for table in distinct_scores tied_scores; do
  for metric in roc_auc:pairs_roc_auc pr_auc:pairs_pr_auc ks_statistic:pairs_ks; do
    new=${metric%%:*} old=${metric##*:}
    same=$(bench_psql -At -c "SELECT lead_scoring.$new(p, y) = $old(p, y) FROM $table")
    [ "$same" = t ] || { echo "ranking: $new on $table differs from the 0.1.0 aggregate" >&2; exit 1; }
    t_new="" t_old=""
    for _ in 1 2 3 4 5; do
      t_new=$(best_of "$t_new" "$(best_seconds "SELECT lead_scoring.$new(p, y) FROM $table" 1)")
      t_old=$(best_of "$t_old" "$(best_seconds "SELECT $old(p, y) FROM $table" 1)")
    done
    printf '%-16s %-13s new %6.3f  0.1.0 %6.3f  ratio %s  (equal values)\n' "$table" "$new" "$t_new" "$t_old" "$(ratio "$t_new" "$t_old")"
  done
done
