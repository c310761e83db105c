-- Feature building blocks, the audit and the demo CRM, as an analyst uses them.
CREATE TABLE web_events (lead_id int, at timestamptz, url text, minutes float8);
INSERT INTO web_events VALUES
  (1, '2026-05-31 12:00+00', '/pricing', 3),
  (1, '2026-05-25 12:00+00', '/pricing', 1),
  (1, '2026-05-10 12:00+00', '/docs', 10),
  (1, '2026-06-05 12:00+00', '/pricing', 7),   -- after as_of: ignored
  (2, '2026-04-20 12:00+00', '/blog', 2),
  (2, NULL, '/blog', 1);

-- An event at as_of counts 1, one half-life earlier 0.5; later events count 0.
SELECT lead_id,
       round(lead_scoring.decayed_count(at, '2026-06-01 12:00+00', '7 days')::numeric, 4) AS decayed_visits,
       round((lead_scoring.decayed_count(at, '2026-06-01 12:00+00', '7 days') FILTER (WHERE url = '/pricing'))::numeric, 4) AS pricing,
       round(lead_scoring.decayed_sum(minutes, at, '2026-06-01 12:00+00', '7 days')::numeric, 4) AS decayed_minutes,
       lead_scoring.engagement_velocity(at, '2026-06-01 12:00+00', '14 days') AS velocity
  FROM web_events GROUP BY lead_id ORDER BY lead_id;

SELECT lead_scoring.intent_flags('Can we see PRICING and book a demo?', ARRAY['pricing', 'demo', 'api']) AS flags,
       cardinality(lead_scoring.intent_flags('nothing here', ARRAY['pricing'])) AS none,
       lead_scoring.is_personal_email('jane@gmail.com') AS gmail,
       lead_scoring.is_personal_email('jane@acme.io') AS company,
       lead_scoring.score_decay(50, '2026-01-01', '2026-03-02', 10) AS decayed_points,
       round(lead_scoring.log_scale(99)::numeric, 6) AS log_99;

-- Errors.
SELECT lead_scoring.decayed_count(at, '2026-06-01', '-1 day') FROM web_events;
SELECT lead_scoring.decayed_count(at, NULL, '1 day') FROM web_events;
SELECT lead_scoring.engagement_velocity(at, '2026-06-01', '0 seconds') FROM web_events;
SELECT lead_scoring.intent_flags('pricing', ARRAY[]::text[]);

-- The audit of a small CRM table: placeholders, outliers, a duplicated row (so id is no id), and a field
-- filled in by sales only for converted leads.
CREATE TABLE crm_audit AS
SELECT i AS id, CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 13) END AS visits,
       CASE i % 4 WHEN 0 THEN 'Select' WHEN 1 THEN '' ELSE 'Web' END AS source,
       CASE WHEN i % 3 = 0 AND i % 2 = 0 THEN 'Hot' END AS rep_rating,
       i % 3 = 0 AS converted
  FROM generate_series(1, 200) i;
INSERT INTO crm_audit SELECT 0, 500, 'Web', NULL, false;
INSERT INTO crm_audit SELECT 0, 500, 'Web', NULL, false;
SELECT column_name, data_type, rows, nulls, placeholders, distinct_values, duplicate_rows, outliers,
       min, max, round(mean::numeric, 3) AS mean, id_like, round(univariate_auc::numeric, 3) AS auc,
       leakage_suspect, reason
  FROM lead_scoring.audit('crm_audit', 'converted');
SELECT conversion_by_level FROM lead_scoring.audit('crm_audit', 'converted') WHERE column_name = 'source';
SELECT * FROM lead_scoring.audit('crm_audit', 'source');

-- train() warns about the suspect by default and refuses it with "leakage": "error".
SELECT model_name, version FROM lead_scoring.train('leaky', 'crm_audit', 'converted', options => '{"exclude": ["id"]}');
SELECT model_name, version FROM lead_scoring.train('leaky', 'crm_audit', 'converted', options => '{"exclude": ["id"], "leakage": "error"}');

-- Correlations and VIF: c is a linear combination of a and b.
CREATE TABLE numeric_features AS
SELECT i::float8 AS a, ((i * 37) % 101)::float8 AS b, 2.0 * i + (i * 37) % 101 AS c, (i % 5)::float8 AS d,
       i % 2 = 0 AS y
  FROM generate_series(1, 200) i;
SELECT feature, round(vif::numeric, 3) AS vif, most_correlated_with, round(correlation::numeric, 3) AS r
  FROM lead_scoring.feature_report('numeric_features', 'y') ORDER BY feature;

-- The demo CRM: deterministic for a seed.
SELECT lead_scoring.generate_demo(1000, 3);
SELECT event_type, count(*) FROM lead_scoring_demo.lead_events GROUP BY 1 ORDER BY 1;
SELECT lead_id, lead_source, seniority, personal_email, round(pricing_visits::numeric, 3) AS pricing,
       round(demo_requests::numeric, 3) AS demos, engagement_velocity, converted
  FROM lead_scoring_demo.lead_features ORDER BY lead_id LIMIT 5;
SELECT lead_scoring.generate_demo(10);
