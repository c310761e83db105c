-- Thresholds and tiers: where to draw the line between leads a rep calls and leads marketing
-- nurtures. optimal_threshold() picks a threshold by F1, by the economics of a deal or by a
-- precision target; set_tiers() replaces a model's tiers; tier() and score_100() read them.
SELECT setseed(0.23);
CREATE TABLE thr_leads AS
SELECT id, channel, visits,
       random() < 1 / (1 + exp(-(-3 + 0.6 * visits + CASE channel WHEN 'partner' THEN 1.2 ELSE 0 END))) AS converted
  FROM (SELECT id,
               (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel,
               floor(random() * 8)::int AS visits
          FROM generate_series(1, 3000) id) s;
SELECT model_name, version FROM lead_scoring.train('thr', 'thr_leads', 'converted', ARRAY['channel', 'visits']);

-- The default tiers: hot from the model's threshold (max F1 on validation), warm from the
-- training base rate (more likely than average to convert) up to it, cold below. Here the F1
-- threshold sits below the base rate, so warm runs from half the threshold instead.
CREATE FUNCTION thr_default_tiers(model text)
RETURNS TABLE (tier text, min_score numeric, threshold numeric, base_rate numeric) LANGUAGE sql AS $$
  SELECT t->>'name', round((t->>'min_score')::numeric, 3), round(m.threshold::numeric, 3),
         round((m.training->'parts'->'train'->>'positives')::numeric / (m.training->'parts'->'train'->>'rows')::numeric, 3)
    FROM lead_scoring.models m, jsonb_array_elements(m.tiers) t WHERE m.name = model AND m.deployed
$$;
SELECT * FROM thr_default_tiers('thr');
-- A fixed threshold (options.threshold) above the base rate: warm starts at the base rate.
SELECT version FROM lead_scoring.train('thr_fixed', 'thr_leads', 'converted', ARRAY['channel', 'visits'],
                                       options => '{"threshold": 0.6}');
SELECT * FROM thr_default_tiers('thr_fixed');
-- options.tiers sets them at training instead.
SELECT version FROM lead_scoring.train('thr_graded', 'thr_leads', 'converted', ARRAY['channel', 'visits'],
                                       options => '{"tiers": {"gold": 0.6, "silver": 0.3, "bronze": 0}}');
SELECT tier, min_score FROM thr_default_tiers('thr_graded');

-- F1: the threshold train() chose, with its precision, recall and the share of leads pursued.
SELECT model, method, round(threshold::numeric, 3) AS threshold, round(precision::numeric, 3) AS precision,
       round(recall::numeric, 3) AS recall, round(f1::numeric, 3) AS f1, round(share_pursued::numeric, 3) AS share_pursued,
       threshold = (SELECT threshold FROM lead_scoring.models WHERE name = 'thr') AS same_as_training
  FROM lead_scoring.optimal_threshold('thr', 'f1');

-- Expected value: a deal is worth 2000 and a call costs 300, so a lead is worth pursuing from
-- p = 300 / 2000 = 0.15. Expected profit uses the probabilities, realized profit the outcomes.
SELECT method, round(threshold::numeric, 3) AS threshold, round(share_pursued::numeric, 3) AS share_pursued,
       expected_profit_per_1000 > 0 AS expected_profitable, realized_profit_per_1000 > 0 AS realized_profitable
  FROM lead_scoring.optimal_threshold('thr', 'expected_value', deal_value => 2000, cost_per_lead => 300);
-- A dearer call raises the bar and pursues fewer leads.
SELECT round(threshold::numeric, 3) AS threshold, round(share_pursued::numeric, 3) AS share_pursued
  FROM lead_scoring.optimal_threshold('thr', 'expected_value', deal_value => 2000, cost_per_lead => 1200);

-- Precision target: the lowest threshold whose precision reaches 0.7 (the most recall it allows);
-- a stricter target costs recall.
SELECT method, precision >= 0.7 AS precise_enough, round(threshold::numeric, 3) AS threshold, round(recall::numeric, 3) AS recall
  FROM lead_scoring.optimal_threshold('thr', 'precision', precision_at_least => 0.7);
SELECT precision >= 0.8 AS precise_enough,
       recall < (SELECT recall FROM lead_scoring.optimal_threshold('thr', 'precision', precision_at_least => 0.7)) AS less_recall
  FROM lead_scoring.optimal_threshold('thr', 'precision', precision_at_least => 0.8);

-- set_tiers: letter grades for the SDR queue, as an object or as a list; the change is logged
-- with the old and new tiers, and tier() uses the new ones at once.
SELECT lead_scoring.set_tiers('thr', '{"A": 0.7, "B": 0.4, "C": 0.15, "D": 0}', 'grades for the SDR queue');
SELECT lead_scoring.tier('thr', l) AS grade, count(*) AS leads,
       round(min(lead_scoring.score('thr', l))::numeric, 3) >= CASE lead_scoring.tier('thr', l)
         WHEN 'A' THEN 0.7 WHEN 'B' THEN 0.4 WHEN 'C' THEN 0.15 ELSE 0 END AS within_band
  FROM thr_leads l GROUP BY 1 ORDER BY 1;
SELECT lead_scoring.set_tiers('thr', '[{"name": "call now", "min_score": 0.5}, {"name": "nurture", "min_score": 0.2}]');
-- Without a tier from 0, the lowest tier takes everything below.
SELECT lead_scoring.tier('thr', '{"channel": "web", "visits": 0}'::jsonb) AS tier,
       round(lead_scoring.score('thr', '{"channel": "web", "visits": 0}'::jsonb)::numeric, 3) AS score;
SELECT version, jsonb_array_length(detail->'from') AS tiers_before, detail->'to'->0->>'name' AS new_top_tier, reason
  FROM lead_scoring.model_events WHERE model_name = 'thr' AND event = 'tiers_changed' ORDER BY id;
-- 'name@version' changes a version that is not deployed too.
SELECT lead_scoring.set_tiers('thr@1', '{"hot": 0.6, "cold": 0}') ->> 0 AS top_tier;

-- score_100: the probability in percent, rounded, consistent with score().
SELECT visits, lead_scoring.score_100('thr', jsonb_build_object('channel', 'partner', 'visits', visits)) AS score_100,
       round(100 * lead_scoring.score('thr', jsonb_build_object('channel', 'partner', 'visits', visits))::numeric) AS percent
  FROM generate_series(0, 7, 7) visits;

-- Mistakes: unknown method, economics given halfway or that make no sense, a precision target
-- no threshold reaches, tiers that cannot be ordered.
SELECT * FROM lead_scoring.optimal_threshold('thr', 'cost');
SELECT * FROM lead_scoring.optimal_threshold('thr', NULL);
SELECT * FROM lead_scoring.optimal_threshold('no_such_model', 'f1');
SELECT * FROM lead_scoring.optimal_threshold('thr', 'expected_value');
SELECT * FROM lead_scoring.optimal_threshold('thr', 'expected_value', deal_value => 2000);
SELECT * FROM lead_scoring.optimal_threshold('thr', 'expected_value', deal_value => -1, cost_per_lead => 1);
SELECT * FROM lead_scoring.optimal_threshold('thr', 'expected_value', deal_value => 100, cost_per_lead => -5);
SELECT * FROM lead_scoring.optimal_threshold('thr', 'expected_value', deal_value => 100, cost_per_lead => 100);
SELECT * FROM lead_scoring.optimal_threshold('thr', 'precision');
SELECT * FROM lead_scoring.optimal_threshold('thr', 'precision', precision_at_least => 1);
SELECT * FROM lead_scoring.optimal_threshold('thr', 'precision', precision_at_least => 0.999);
SELECT lead_scoring.set_tiers('thr', '{"A": 1.5}');
SELECT lead_scoring.set_tiers('thr', '{"A": 0.5, "B": 0.5}');
SELECT lead_scoring.set_tiers('thr', '{"A": "high"}');
SELECT lead_scoring.set_tiers('thr', '[{"name": "A"}]');
SELECT lead_scoring.set_tiers('thr', '{}');
SELECT lead_scoring.set_tiers('thr', '"hot"');
SELECT lead_scoring.set_tiers('thr', NULL);
SELECT lead_scoring.set_tiers('no_such_model', '{"A": 0}');
SELECT lead_scoring.tier('no_such_model', '{"channel": "web", "visits": 0}'::jsonb);
