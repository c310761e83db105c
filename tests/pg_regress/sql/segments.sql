-- Segments: when leads of one region (or lead source) behave differently, options.segment_by
-- fits one model per value of that column next to the global model, under one name and
-- version. Each lead is scored, tiered and explained by its segment's model; values with too
-- few leads, NULLs and values never seen in training use the global model.
SELECT setseed(0.6);
CREATE TABLE seg_leads AS
SELECT id, region, visits, discount,
       random() < 1 / (1 + exp(-(CASE region WHEN 'emea' THEN -3 + 0.8 * visits
                                             WHEN 'amer' THEN 1 - 0.5 * visits
                                             ELSE -1 + 0.1 * visits END))) AS converted
  FROM (SELECT id, CASE WHEN id % 50 = 0 THEN NULL WHEN id % 200 = 1 THEN 'latam' WHEN id % 2 = 0 THEN 'emea' ELSE 'amer' END AS region,
               floor(random() * 8)::int AS visits, round(random()::numeric, 2) AS discount
          FROM generate_series(1, 3000) id) s;
-- In EMEA visits raise the chance to convert, in AMER they lower it: one global model cannot
-- say both.
SELECT region, count(*) AS leads, sum(converted::int) AS conversions FROM seg_leads GROUP BY 1 ORDER BY 1;

SELECT version FROM lead_scoring.train('by_region', 'seg_leads', 'converted', ARRAY['region', 'visits', 'discount'],
                                       options => '{"segment_by": "region"}');
SELECT version FROM lead_scoring.train('one_for_all', 'seg_leads', 'converted', ARRAY['region', 'visits', 'discount']);

-- training.segments lists each value with its rows, and its validation ROC AUC next to the
-- global model's on the same rows, to judge whether a segment model helps. LATAM has fewer
-- than min_class_rows (10) converted training leads, so it keeps the global model.
SELECT s->>'segment' AS segment, s->>'model' AS model, (s->>'training_rows')::int AS training_rows,
       (s->>'training_positives')::int AS training_positives,
       round((s->>'validation_roc_auc')::numeric, 2) AS segment_auc,
       round((s->>'global_validation_roc_auc')::numeric, 2) AS global_auc
  FROM lead_scoring.models, jsonb_array_elements(training->'segments'->'segments') s
 WHERE name = 'by_region' ORDER BY 1;
SELECT training->'segments'->>'column' AS segment_column FROM lead_scoring.models WHERE name = 'by_region';

-- The version's metrics are those of the routed models, better than one model for all.
SELECT name, round((metrics->'test'->>'roc_auc')::numeric, 2) AS test_roc_auc
  FROM lead_scoring.models WHERE name IN ('by_region', 'one_for_all') ORDER BY name;

-- Scoring routes each lead: more visits raise an EMEA lead's score and lower an AMER lead's.
-- NULL, unseen values and LATAM get the global model's score.
SELECT r AS region, round(lead_scoring.score('by_region', jsonb_build_object('region', r, 'visits', 1, 'discount', 0.5))::numeric, 3) AS one_visit,
       round(lead_scoring.score('by_region', jsonb_build_object('region', r, 'visits', 7, 'discount', 0.5))::numeric, 3) AS seven_visits,
       lead_scoring.score('by_region', jsonb_build_object('region', r, 'visits', 7, 'discount', 0.5))
         = lead_scoring.score('one_for_all', jsonb_build_object('region', r, 'visits', 7, 'discount', 0.5)) AS global_score
  FROM unnest(ARRAY['amer', 'emea', 'latam', NULL, 'apac']) r;
-- Row scoring, tiers and triggers route the same way as a jsonb lead.
SELECT count(*) AS leads,
       count(*) FILTER (WHERE lead_scoring.score('by_region', l) = lead_scoring.score('by_region', to_jsonb(l))) AS same_score,
       count(*) FILTER (WHERE lead_scoring.tier('by_region', l) = lead_scoring.tier('by_region', to_jsonb(l))) AS same_tier
  FROM seg_leads l;

-- explain() explains a lead by the model that scored it: its rows add up to that score.
SELECT r AS region, round(((SELECT sum(contribution) FROM lead_scoring.explain('by_region', lead))
                           - ln(p / (1 - p)))::numeric, 6) AS gap,
       (SELECT round(contribution::numeric, 2) FROM lead_scoring.explain('by_region', lead) WHERE feature = 'visits') AS visits_contribution
  FROM unnest(ARRAY['amer', 'emea']) r,
       LATERAL (SELECT jsonb_build_object('region', r, 'visits', 7, 'discount', 0.5) AS lead) l,
       LATERAL (SELECT lead_scoring.score('by_region', l.lead) AS p) s;
-- feature_importance() gives the global model's coefficients.
SELECT a.feature, round(a.coefficient::numeric, 6) = round(b.coefficient::numeric, 6) AS global_coefficient
  FROM lead_scoring.feature_importance('by_region') a JOIN lead_scoring.feature_importance('one_for_all') b USING (feature)
 WHERE a.coefficient IS NOT NULL ORDER BY a.feature;

-- Segment models have no SQL formula yet; the model card lists the segments.
SELECT lead_scoring.model_sql('by_region');
SELECT line FROM regexp_split_to_table(split_part(split_part(lead_scoring.model_card('by_region'), '## Segments', 2), '## ', 1), E'\n')
       WITH ORDINALITY t(line, n)
 WHERE line LIKE '|%' ORDER BY n;

-- Mistakes: the segment column must be one of the model's features.
SELECT * FROM lead_scoring.train('by_region_bad', 'seg_leads', 'converted', ARRAY['visits', 'discount'],
                                 options => '{"segment_by": "region"}');
SELECT * FROM lead_scoring.train('by_region_bad', 'seg_leads', 'converted', ARRAY['visits', 'region'],
                                 options => '{"segment_by": "territory"}');
SELECT * FROM lead_scoring.train('by_region_bad', 'seg_leads', 'converted', ARRAY['visits', 'region'],
                                 options => '{"segment_by": ["region"]}');
