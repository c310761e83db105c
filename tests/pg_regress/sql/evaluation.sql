-- Evaluating models in SQL: aggregates with GROUP BY, reports, thresholds tied to economics,
-- tiers, calibration, cross-validation and search, and comparing with rule-based points.
SELECT setseed(0.23);
CREATE TABLE eval_leads AS
SELECT id, channel, visits, rule_points,
       random() < 1 / (1 + exp(-(-3 + 0.6 * visits + CASE channel WHEN 'partner' THEN 1.2 ELSE 0 END))) AS converted
  FROM (SELECT id,
               (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel,
               floor(random() * 8)::int AS visits,
               floor(random() * 30)::int AS rule_points
          FROM generate_series(1, 3000) id) s;

SELECT model_name, version FROM lead_scoring.train('eval', 'eval_leads', 'converted', ARRAY['channel', 'visits'],
       options => '{"cv": 3}');
SELECT (metrics->'cv'->>'folds')::int AS cv_folds,
       round((metrics->'cv'->'roc_auc'->>'mean')::numeric, 2) > 0.7 AS cv_auc_ok
  FROM lead_scoring.models WHERE name = 'eval';

-- Metric aggregates on any scored table, grouped however you like.
CREATE TABLE eval_scored AS SELECT l.*, lead_scoring.score('eval', l) AS p FROM eval_leads l;
SELECT channel,
       count(*) AS leads,
       round(lead_scoring.roc_auc(p, converted)::numeric, 3) > 0.6 AS auc_ok,
       round(lead_scoring.log_loss(p, converted)::numeric, 1) AS log_loss,
       round(lead_scoring.brier(p, converted)::numeric, 2) AS brier
  FROM eval_scored GROUP BY channel ORDER BY channel;
SELECT lead_scoring.confusion(p, converted, 0.5) ? 'f1' AS has_f1,
       (lead_scoring.confusion(p, converted, 0.5)->>'tp')::int
         + (lead_scoring.confusion(p, converted, 0.5)->>'fn')::int = sum(converted::int) AS counts_add_up
  FROM eval_scored;
SELECT lead_scoring.roc_auc(p, converted::int) = lead_scoring.roc_auc(p, converted) AS int_labels_work
  FROM eval_scored;

-- Lift by decile, as an aggregate and as a report.
SELECT jsonb_array_length(lead_scoring.lift(p, converted)) AS deciles FROM eval_scored;
SELECT decile, leads, round(lift::numeric, 1) >= 1 AS above_average
  FROM lead_scoring.lift('eval', 'eval_leads') WHERE decile IN (1, 10) ORDER BY decile;
SELECT count(*) > 5 AS roc_points FROM lead_scoring.roc_curve('eval', 'eval_leads');

-- Thresholds tied to economics, and tiers from them.
SELECT method, round(threshold::numeric, 3) AS threshold, expected_profit_per_1000 > 0 AS profitable
  FROM lead_scoring.optimal_threshold('eval', 'expected_value', deal_value => 2000, cost_per_lead => 300);
SELECT method, precision >= 0.7 AS precise_enough
  FROM lead_scoring.optimal_threshold('eval', 'precision', precision_at_least => 0.7);
SELECT lead_scoring.set_tiers('eval', '{"A": 0.7, "B": 0.4, "C": 0.15, "D": 0}', 'grades');
SELECT lead_scoring.tier('eval', l) AS grade, count(*) > 0 AS present
  FROM eval_leads l GROUP BY 1 ORDER BY 1;
SELECT lead_scoring.score_100('eval', '{"channel": "partner", "visits": 7}'::jsonb) BETWEEN 0 AND 100 AS score_100_ok;

-- The model against today's rule-based points.
SELECT metric, round(score_a::numeric, 2) > round(score_b::numeric, 2) AS model_better, p_value < 0.05 AS significant
  FROM lead_scoring.compare('eval_leads', 'converted', 'lead_scoring.score(''eval'', src)', 'src.rule_points')
 WHERE metric IN ('roc_auc', 'precision_top_10%');

-- Mistakes.
SELECT * FROM lead_scoring.optimal_threshold('eval', 'expected_value', deal_value => -1, cost_per_lead => 1);
SELECT * FROM lead_scoring.optimal_threshold('eval', 'cost');
SELECT lead_scoring.set_tiers('eval', '{"A": 1.5}');
SELECT lead_scoring.confusion(p, converted, NULL) FROM eval_scored;
SELECT * FROM lead_scoring.train('x', 'eval_leads', 'converted', options => '{"resample": "oversample"}');
