-- Preprocessing: how train() turns columns into model inputs, fitted on the training part and
-- stored in the model so scoring applies the same transform. The options as an analyst types
-- them: log scaling, quantile bins, interaction terms, a date feature with a fixed as-of time,
-- placeholders and rare levels.
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

-- Text columns: placeholders a web form leaves ("" and "Select", or options.missing_values)
-- are the level (missing); levels seen fewer than options.min_level_count times in training
-- share the level (other) with levels never seen.
CREATE TABLE form_leads AS
SELECT i AS id, CASE WHEN i % 10 = 0 THEN 'n/a' WHEN i % 10 = 1 THEN 'Select' WHEN i % 97 = 0 THEN 'Fax'
                     WHEN i % 3 = 0 THEN 'Webinar' ELSE 'Search' END AS channel,
       (i % 3 = 0 AND i % 2 = 0) OR i % 7 = 0 AS converted
  FROM generate_series(1, 1000) i;
SELECT version FROM lead_scoring.train('form_levels', 'form_leads', 'converted', ARRAY['channel'],
                                       options => '{"missing_values": ["n/a", "Select"], "min_level_count": 20}');
SELECT f->'levels' AS levels, f->>'other_level' AS other_level
  FROM lead_scoring.models, jsonb_array_elements(features) f WHERE name = 'form_levels';
SELECT v AS channel, round(lead_scoring.score('form_levels', jsonb_build_object('channel', v))::numeric, 3) AS score
  FROM unnest(ARRAY['Webinar', 'Search', 'n/a', 'Select', NULL, 'Fax', 'Carrier pigeon']) v;

-- Errors name the option and the column.
SELECT * FROM lead_scoring.train('bad', 'shaped_leads', 'converted', ARRAY['visits', 'channel'],
                                 options => '{"bins": {"channel": 4}}');
SELECT * FROM lead_scoring.train('bad', 'shaped_leads', 'converted', ARRAY['visits'],
                                 options => '{"interactions": [["visits", "revenue"]]}');
SELECT * FROM lead_scoring.train('bad', 'shaped_leads', 'converted', ARRAY['visits', 'created_at'],
                                 options => '{"as_of": "next week"}');
SELECT * FROM lead_scoring.train('bad', 'shaped_leads', 'converted', ARRAY['visits', 'revenue'],
                                 options => '{"log": "revenue"}');
SELECT * FROM lead_scoring.train('bad', 'shaped_leads', 'converted', ARRAY['visits', 'employees'],
                                 options => '{"bins": {"employees": 500}}');
-- NaN or Infinity in a feature is an error, in training and in scoring (also an 'infinity' date).
SELECT * FROM lead_scoring.train('bad', 'SELECT visits, ''NaN''::float8 AS revenue, converted FROM shaped_leads', 'converted');
SELECT lead_scoring.score('shaped', jsonb_build_object('employees', 5, 'visits', 1, 'channel', 'Webinar', 'revenue', 10,
                                                       'created_at', 'infinity'));
