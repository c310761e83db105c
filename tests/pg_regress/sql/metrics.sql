-- Metrics: the aggregates an analyst runs over any table of scores and labels (with GROUP BY,
-- in parallel plans), the same curves as reports of a model on a source, evaluate(), and
-- compare() against the rule-based points in use today.

-- Ten scored leads small enough to check by hand (scikit-learn gives the same numbers): 4
-- converted; 20 of the 24 converted/other pairs are ordered right (ROC AUC 0.8333); precision
-- at each converted lead is 1, 1, 3/4, 4/7 (average precision 0.8304). Rows with a NULL score
-- or label are skipped.
CREATE TABLE metric_scores (id int, score float8, converted boolean, region text);
INSERT INTO metric_scores VALUES
  (1, 0.9, true, 'north'), (2, 0.8, true, 'north'), (3, 0.7, false, 'north'), (4, 0.6, true, 'south'),
  (5, 0.55, false, 'south'), (6, 0.4, false, 'south'), (7, 0.3, true, 'north'), (8, 0.2, false, 'south'),
  (9, 0.1, false, 'north'), (10, 0.05, false, 'south'), (11, NULL, true, 'north'), (12, 0.5, NULL, 'south');
SELECT round(lead_scoring.roc_auc(score, converted)::numeric, 4) AS roc_auc,
       round(lead_scoring.pr_auc(score, converted)::numeric, 4) AS pr_auc,
       round(lead_scoring.log_loss(score, converted)::numeric, 4) AS log_loss,
       round(lead_scoring.brier(score, converted)::numeric, 4) AS brier,
       round(lead_scoring.ks_statistic(score, converted)::numeric, 4) AS ks
  FROM metric_scores;
-- Predicted converted at score >= 0.5: 0.9, 0.8, 0.6 right, 0.7 and 0.55 wrong, 0.3 missed.
SELECT lead_scoring.confusion(score, converted, 0.5) FROM metric_scores;
-- Per region, and with 0/1 integer labels.
SELECT region, round(lead_scoring.roc_auc(score, converted)::numeric, 4) AS roc_auc,
       lead_scoring.confusion(score, converted, 0.5) - 'threshold' AS at_050,
       lead_scoring.roc_auc(score, converted::int) = lead_scoring.roc_auc(score, converted) AS int_labels_agree
  FROM metric_scores GROUP BY region ORDER BY region;
-- The top 30% (3 leads) hold 2 conversions; 25% also takes 3 leads (rounded up).
SELECT round(lead_scoring.precision_at_top(score, converted, 0.3)::numeric, 4) AS top_30,
       round(lead_scoring.precision_at_top(score, converted, 0.25)::numeric, 4) AS top_25
  FROM metric_scores;

-- Curves as jsonb: lift by decile (highest scores first), ROC (the first threshold is null,
-- meaning +infinity), precision-recall, calibration in 10 equal-width bins (empty bins left out).
SELECT d->>'decile' AS decile, d->>'leads' AS leads, d->>'conversions' AS conversions, d->>'lift' AS lift,
       d->>'cumulative_share_of_conversions' AS captured
  FROM jsonb_array_elements((SELECT lead_scoring.lift(score, converted) FROM metric_scores)) d
 WHERE (d->>'decile')::int <= 4;
SELECT p->>'threshold' AS threshold, round((p->>'fpr')::numeric, 3) AS fpr, p->>'tpr' AS tpr
  FROM jsonb_array_elements((SELECT lead_scoring.roc_curve(score, converted) FROM metric_scores)) p LIMIT 4;
SELECT p->>'threshold' AS threshold, round((p->>'precision')::numeric, 3) AS precision, p->>'recall' AS recall
  FROM jsonb_array_elements((SELECT lead_scoring.pr_curve(score, converted) FROM metric_scores)) p LIMIT 4;
SELECT b->>'bin' AS bin, b->>'leads' AS leads, round((b->>'mean_predicted')::numeric, 3) AS mean_predicted, b->>'observed_rate' AS observed_rate
  FROM jsonb_array_elements((SELECT lead_scoring.calibration_curve(score, converted) FROM metric_scores)) b;

-- Undefined cases are NULL, not errors: one class only, or no rows at all.
SELECT lead_scoring.roc_auc(score, converted) AS roc_auc, lead_scoring.ks_statistic(score, converted) AS ks,
       lead_scoring.pr_auc(score, converted) AS pr_auc
  FROM metric_scores WHERE converted;
SELECT lead_scoring.roc_auc(score, converted) AS roc_auc, lead_scoring.log_loss(score, converted) AS log_loss,
       lead_scoring.lift(score, converted) AS lift, lead_scoring.precision_at_top(score, converted, 0.1) AS top_10,
       lead_scoring.confusion(score, converted, 0.5) AS confusion
  FROM metric_scores WHERE false;

-- A parallel plan (partial aggregates per worker, combined at the end) gives the serial answer:
-- exactly for the pair-based metrics and counts, to 1e-12 for sums such as log loss.
CREATE TABLE metric_many AS
SELECT i, (i % 97) / 97.0 AS score, (i * 7919) % 97 < i % 97 AS converted FROM generate_series(1, 20000) i;
CREATE TABLE metric_serial AS
SELECT lead_scoring.roc_auc(score, converted) AS roc_auc, lead_scoring.pr_auc(score, converted) AS pr_auc,
       lead_scoring.ks_statistic(score, converted) AS ks, lead_scoring.log_loss(score, converted) AS log_loss,
       lead_scoring.confusion(score, converted, 0.5) AS confusion
  FROM metric_many;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT lead_scoring.roc_auc(score, converted) FROM metric_many;
SELECT p.roc_auc = s.roc_auc AS roc_auc, p.pr_auc = s.pr_auc AS pr_auc, p.ks = s.ks AS ks,
       abs(p.log_loss - s.log_loss) < 1e-12 AS log_loss, p.confusion = s.confusion AS confusion
  FROM (SELECT lead_scoring.roc_auc(score, converted) AS roc_auc, lead_scoring.pr_auc(score, converted) AS pr_auc,
               lead_scoring.ks_statistic(score, converted) AS ks, lead_scoring.log_loss(score, converted) AS log_loss,
               lead_scoring.confusion(score, converted, 0.5) AS confusion
          FROM metric_many) p, metric_serial s;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Reports of a model on any labelled table, view or query: the same curves as rows.
SELECT setseed(0.23);
CREATE TABLE metric_leads AS
SELECT id, channel, visits, rule_points,
       random() < 1 / (1 + exp(-(-3 + 0.6 * visits + CASE channel WHEN 'partner' THEN 1.2 ELSE 0 END))) AS converted
  FROM (SELECT id, (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel,
               floor(random() * 8)::int AS visits, floor(random() * 30)::int AS rule_points
          FROM generate_series(1, 3000) id) s;
SELECT model_name, version FROM lead_scoring.train('metric', 'metric_leads', 'converted', ARRAY['channel', 'visits']);
CREATE TABLE metric_scored AS SELECT l.*, lead_scoring.score('metric', l) AS p FROM metric_leads l;
SELECT decile, leads, conversions, round(lift::numeric, 2) AS lift, round(cumulative_share_of_conversions::numeric, 3) AS captured
  FROM lead_scoring.lift('metric', 'metric_leads') ORDER BY decile;
-- The report and the aggregate over the scored rows agree.
SELECT (SELECT jsonb_agg(conversions ORDER BY decile) FROM lead_scoring.lift('metric', 'metric_leads'))
     = (SELECT jsonb_agg(d->'conversions') FROM jsonb_array_elements((SELECT lead_scoring.lift(p, converted) FROM metric_scored)) d)
       AS lift_agrees;
SELECT count(*) > 5 AS roc_points, min(fpr) = 0 AND max(tpr) = 1 AS from_0_to_1 FROM lead_scoring.roc_curve('metric', 'metric_leads');
SELECT count(*) > 5 AS pr_points, max(recall) = 1 AS full_recall FROM lead_scoring.pr_curve('metric', 'metric_leads');
SELECT bin, lower, upper, leads, abs(mean_predicted - observed_rate) < 0.05 AS calibrated
  FROM lead_scoring.calibration_curve('metric', 'metric_leads', bins => 4);
SELECT round(lead_scoring.precision_at_top('metric', 'metric_leads', 0.1)::numeric, 3)
     = round((SELECT lead_scoring.precision_at_top(p, converted, 0.1) FROM metric_scored)::numeric, 3) AS precision_at_top_agrees;

-- evaluate(): the metrics train() stores per part, on any labelled rows, plus the curves.
SELECT array_agg(k ORDER BY k) AS keys FROM jsonb_object_keys(lead_scoring.evaluate('metric', 'metric_leads')) k;
SELECT e->>'rows' AS rows, e->'precision_at_top' ? '10%' AS has_top_10, jsonb_array_length(e->'lift') AS deciles,
       round((e->>'roc_auc')::numeric, 4) = round((SELECT lead_scoring.roc_auc(p, converted) FROM metric_scored)::numeric, 4) AS roc_auc_agrees
  FROM lead_scoring.evaluate('metric', 'metric_leads') e;

-- The model against today's rule-based points, on the same leads: DeLong's test for ROC AUC.
SELECT metric, round(score_a::numeric, 2) > round(score_b::numeric, 2) AS model_better, p_value < 0.05 AS significant,
       ci_low < difference AND difference < ci_high AS in_interval
  FROM lead_scoring.compare('metric_leads', 'converted', 'lead_scoring.score(''metric'', src)', 'src.rule_points');
-- A score compared with itself differs by nothing.
SELECT metric, difference, p_value FROM lead_scoring.compare('metric_leads', 'converted', 'src.visits', 'src.visits', 0.99)
 WHERE metric = 'roc_auc';

-- Mistakes.
SELECT lead_scoring.log_loss(score * 2, converted) FROM metric_scores;
SELECT lead_scoring.brier(score - 1, converted) FROM metric_scores;
SELECT lead_scoring.roc_auc(score, id::bigint) FROM metric_scores;
SELECT lead_scoring.roc_auc('NaN', converted) FROM metric_scores;
SELECT lead_scoring.confusion(score, converted, NULL) FROM metric_scores;
SELECT lead_scoring.precision_at_top(score, converted, 0) FROM metric_scores;
SELECT * FROM lead_scoring.calibration_curve('metric', 'metric_leads', bins => 1);
SELECT * FROM lead_scoring.lift('no_such_model', 'metric_leads');
SELECT * FROM lead_scoring.lift('metric', 'SELECT id, visits FROM metric_leads');
SELECT * FROM lead_scoring.roc_curve('metric', 'SELECT * FROM metric_leads WHERE false');
SELECT lead_scoring.evaluate('metric', 'no_such_table');
SELECT * FROM lead_scoring.compare('metric_leads', 'converted', 'src.visits', 'src.channel');
SELECT * FROM lead_scoring.compare('metric_leads', 'channel', 'src.visits', 'src.rule_points');
SELECT * FROM lead_scoring.compare('metric_leads', 'converted', 'src.visits', 'src.rule_points', confidence => 1.5);
