-- Readable reasons and segment fallback on the demo CRM. top_reasons() says why a lead scored
-- what it did in words a rep reads: numbers with three significant digits (integers as
-- integers), binned numbers by their range, text levels by their value, and "is missing".
-- A segmented model (options.segment_by) keeps a segment's own model only where it ranks that
-- segment's validation leads at least as well as the global model; the others fall back to the
-- global model, with a NOTICE.
SET TIME ZONE 'UTC';
SELECT lead_scoring.generate_demo(3000, 11) ->> 'leads' AS demo_leads;

-- A model with email opens cut into quantile bins.
SELECT version FROM lead_scoring.train('reasons', 'lead_scoring_demo.lead_features', 'converted',
  options => '{"key": "lead_id", "exclude": ["created_at"], "bins": {"email_opens": 4}}');

-- The reasons of three leads: the raw value and contribution stay next to the readable condition.
SELECT f.lead_id, r.side, r.n, x ->> 'condition' AS condition, x ->> 'value' AS value,
       round((x ->> 'contribution')::numeric, 2) AS contribution
  FROM lead_scoring_demo.lead_features f,
       LATERAL (VALUES ('raises', lead_scoring.top_reasons('reasons', f, 3) -> 'positive'),
                       ('lowers', lead_scoring.top_reasons('reasons', f, 3) -> 'negative')) AS s(side, reasons),
       LATERAL jsonb_array_elements(s.reasons) WITH ORDINALITY AS r0(x, n),
       LATERAL (SELECT s.side, r0.n) AS r
 WHERE f.lead_id IN (2, 3, 5)
 ORDER BY f.lead_id, r.side DESC, r.n;

-- One sentence per reason, as a CRM field would show them.
SELECT lead_id, string_agg(x ->> 'reason', '; ' ORDER BY n) AS why_hot
  FROM lead_scoring_demo.lead_features f,
       LATERAL jsonb_array_elements(lead_scoring.top_reasons('reasons', f, 2) -> 'positive') WITH ORDINALITY AS r(x, n)
 WHERE lead_id IN (2, 3, 5) GROUP BY lead_id ORDER BY lead_id;

-- Every condition of one lead, both ways (k large enough for all 13 features): the binned
-- email opens read as their bin's range.
SELECT x ->> 'condition' AS condition, x ->> 'value' AS value
  FROM lead_scoring_demo.lead_features f,
       LATERAL jsonb_array_elements((lead_scoring.top_reasons('reasons', f, 20) -> 'positive')
                                    || (lead_scoring.top_reasons('reasons', f, 20) -> 'negative')) AS x
 WHERE f.lead_id = 2 ORDER BY 1;

-- A jsonb lead with missing values and long fractions.
SELECT x ->> 'reason' AS reason
  FROM jsonb_array_elements(lead_scoring.top_reasons('reasons',
         '{"lead_source": "Referral", "seniority": "VP", "industry": null, "company_size": null, "funding_stage": "Series B",
           "country": "Germany", "personal_email": false, "pricing_visits": 2.71828, "demo_requests": 1.41421,
           "webinars": 0, "content_downloads": 0.333333, "email_opens": 7, "engagement_velocity": 0.123456}'::jsonb, 20)
         -> 'positive') AS x;

-- Segments by lead source. The NOTICE names the sources whose own model ranked their
-- validation leads worse than the global model; training.segments records both numbers.
SET client_min_messages = notice;
SELECT version FROM lead_scoring.train('reasons_by_source', 'lead_scoring_demo.lead_features', 'converted',
  options => '{"key": "lead_id", "exclude": ["created_at"], "segment_by": "lead_source"}');
RESET client_min_messages;
SELECT s ->> 'segment' AS segment, s ->> 'model' AS model, coalesce(s ->> 'fell_back', 'false') AS fell_back,
       round((s ->> 'validation_roc_auc')::numeric, 3) AS segment_auc,
       round((s ->> 'global_validation_roc_auc')::numeric, 3) AS global_auc
  FROM lead_scoring.models, jsonb_array_elements(training -> 'segments' -> 'segments') s
 WHERE name = 'reasons_by_source' ORDER BY 1;

-- The same options without segment_by train the same global model (same split, same
-- hyperparameters): leads of a fallen-back segment score exactly as with it, and explain() and
-- top_reasons() use that same model.
SELECT version FROM lead_scoring.train('reasons_global', 'lead_scoring_demo.lead_features', 'converted',
  options => '{"key": "lead_id", "exclude": ["created_at"]}');
SELECT s ->> 'model' AS routed_to, count(*) AS leads,
       count(*) FILTER (WHERE lead_scoring.score('reasons_by_source', f) = lead_scoring.score('reasons_global', f)) AS scored_as_global,
       count(*) FILTER (WHERE lead_scoring.top_reasons('reasons_by_source', f) -> 'positive'
                              = lead_scoring.top_reasons('reasons_global', f) -> 'positive') AS explained_as_global
  FROM lead_scoring_demo.lead_features f
  JOIN (SELECT jsonb_array_elements(training -> 'segments' -> 'segments') s FROM lead_scoring.models
         WHERE name = 'reasons_by_source') m ON m.s ->> 'segment' = f.lead_source
 GROUP BY 1 ORDER BY 1;

-- feature_importance() of the segmented version is the global model's: the same rows as the
-- model trained without segments.
SELECT count(*) AS features,
       count(*) FILTER (WHERE a.importance = b.importance AND a.coefficient IS NOT DISTINCT FROM b.coefficient) AS same_as_global
  FROM lead_scoring.feature_importance('reasons_by_source') a
  JOIN lead_scoring.feature_importance('reasons_global') b USING (feature);
-- Each kept segment's own most important features are in its training.segments entry.
SELECT s ->> 'segment' AS segment, s -> 'importance' -> 0 ->> 'feature' AS most_important
  FROM lead_scoring.models, jsonb_array_elements(training -> 'segments' -> 'segments') s
 WHERE name = 'reasons_by_source' AND s ->> 'model' = 'segment' ORDER BY 1;

-- Per-segment tiers: with segment_tiers each segment model gets its own threshold (max F1 on its
-- validation leads) and hot / warm / cold tiers; tier() tiers each lead by its segment's tiers,
-- and leads of segments scored by the global model by the version's.
SELECT version FROM lead_scoring.train('reasons_tiers', 'lead_scoring_demo.lead_features', 'converted',
  options => '{"key": "lead_id", "exclude": ["created_at"], "segment_by": "lead_source", "segment_tiers": true}');
SELECT s ->> 'segment' AS segment, s ->> 'model' AS model, round((s ->> 'threshold')::numeric, 3) AS hot_from,
       round((s -> 'tiers' -> 1 ->> 'min_score')::numeric, 3) AS warm_from
  FROM lead_scoring.models, jsonb_array_elements(training -> 'segments' -> 'segments') s
 WHERE name = 'reasons_tiers' ORDER BY 1;
SELECT round(threshold::numeric, 3) AS version_hot_from FROM lead_scoring.models WHERE name = 'reasons_tiers';
SELECT lead_source, count(*) FILTER (WHERE lead_scoring.tier('reasons_tiers', f) = 'hot') AS hot,
       count(*) FILTER (WHERE lead_scoring.tier('reasons_tiers', f) = 'warm') AS warm,
       count(*) FILTER (WHERE lead_scoring.tier('reasons_tiers', f) = 'cold') AS cold
  FROM lead_scoring_demo.lead_features f GROUP BY 1 ORDER BY 1;
-- segment_tiers needs segment_by.
SELECT version FROM lead_scoring.train('reasons_tiers', 'lead_scoring_demo.lead_features', 'converted',
  options => '{"segment_tiers": true}');
