-- train()'s preprocessing options as an analyst types them: log scaling, quantile bins,
-- interaction terms, a date feature with a fixed as-of time, and segment models.
SELECT setseed(0.21);
CREATE TABLE shaped_leads AS
SELECT *, random() < 1 / (1 + exp(-(-2.0 + CASE WHEN employees BETWEEN 40 AND 60 THEN 2.0 ELSE 0 END
                                    + CASE WHEN channel = 'Webinar' THEN 0.8 * (visits - 5) ELSE 0 END
                                    - CASE WHEN extract(isodow FROM created_at) >= 6 THEN 2.0 ELSE 0 END))) AS converted
  FROM (SELECT i AS id, floor(random() * 100)::int AS employees, floor(random() * 10)::int AS visits,
               (ARRAY['Webinar', 'Outbound'])[1 + floor(random() * 2)::int] AS channel,
               floor(exp(random() * 8))::numeric AS revenue,
               timestamptz '2025-01-01 09:00+00' + floor(random() * 365) * interval '1 day' AS created_at
          FROM generate_series(1, 4000) i) s;

SELECT version, round((metrics->'test'->>'roc_auc')::numeric, 2) > 0.8 AS good_test_auc
  FROM lead_scoring.train('shaped', 'shaped_leads', 'converted',
         features => ARRAY['employees', 'visits', 'channel', 'revenue', 'created_at'],
         options  => '{"bins": {"employees": 5}, "log": ["revenue"],
                       "interactions": [["visits", "channel"]], "as_of": "2026-01-01"}');

-- What was fitted, per column.
SELECT f->>'name' AS feature, f->>'kind' AS kind, f->'bins' AS bins, f->>'log' AS log, f->>'as_of' AS as_of
  FROM lead_scoring.models, jsonb_array_elements(features) f WHERE name = 'shaped';

-- The interaction has its own row in an explanation; contributions still add up to the log-odds.
SELECT feature, value, round(contribution::numeric, 2) AS contribution
  FROM lead_scoring.explain('shaped', (SELECT l FROM shaped_leads l WHERE id = 1))
 ORDER BY feature;
SELECT round(max(abs(e.total - ln(p / (1 - p))))::numeric, 9) AS additivity_gap
  FROM (SELECT lead_scoring.score('shaped', l) AS p,
               (SELECT sum(contribution) FROM lead_scoring.explain('shaped', l)) AS total
          FROM shaped_leads l WHERE id <= 50) e;

-- A jsonb lead gives its date as ISO text, as to_jsonb() writes it.
SELECT round(lead_scoring.score('shaped', to_jsonb(l))::numeric, 6) = round(lead_scoring.score('shaped', l)::numeric, 6) AS same
  FROM shaped_leads l WHERE id = 2;

-- Segments: one model per channel under one name.
SELECT version FROM lead_scoring.train('by_channel', 'shaped_leads', 'converted',
         features => ARRAY['employees', 'visits', 'channel'], options => '{"segment_by": "channel"}');
SELECT s->>'segment' AS segment, s->>'model' AS model, (s->>'training_rows')::int AS training_rows,
       round((s->>'validation_roc_auc')::numeric, 2) AS segment_auc,
       round((s->>'global_validation_roc_auc')::numeric, 2) AS global_auc
  FROM lead_scoring.models, jsonb_array_elements(training->'segments'->'segments') s
 WHERE name = 'by_channel' ORDER BY 1;

-- Errors name the option and the column.
SELECT * FROM lead_scoring.train('bad', 'shaped_leads', 'converted', ARRAY['visits', 'channel'],
                                 options => '{"bins": {"channel": 4}}');
SELECT * FROM lead_scoring.train('bad', 'shaped_leads', 'converted', ARRAY['visits'],
                                 options => '{"interactions": [["visits", "revenue"]]}');
SELECT * FROM lead_scoring.train('bad', 'shaped_leads', 'converted', ARRAY['visits', 'created_at'],
                                 options => '{"as_of": "next week"}');
