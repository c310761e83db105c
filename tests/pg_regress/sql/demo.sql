-- The demo CRM: generate_demo() builds schema lead_scoring_demo, a B2B software company's leads,
-- companies and web events over 18 months with a known ground truth and a product change on
-- 2026-04-01, so the rest of the extension can be tried on realistic data. Deterministic for a
-- seed.
SET TIME ZONE 'UTC';
SELECT lead_scoring.generate_demo(1000, 3);
SELECT event_type, count(*) FROM lead_scoring_demo.lead_events GROUP BY 1 ORDER BY 1;
SELECT lead_id, lead_source, seniority, personal_email, round(pricing_visits::numeric, 3) AS pricing,
       round(demo_requests::numeric, 3) AS demos, engagement_velocity, converted
  FROM lead_scoring_demo.lead_features ORDER BY lead_id LIMIT 5;

-- What it creates: three tables and the feature view a model trains on.
SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'lead_scoring_demo' ORDER BY 1;
SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) AS feature_view_columns
  FROM information_schema.columns WHERE table_schema = 'lead_scoring_demo' AND table_name = 'lead_features';

-- The same seed gives the same rows; another seed other rows; calling it again replaces the schema.
CREATE TABLE demo_fingerprint AS
SELECT (SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) FROM lead_scoring_demo.leads l) AS leads,
       (SELECT md5(string_agg(e::text, ',' ORDER BY event_id)) FROM lead_scoring_demo.lead_events e) AS events;
SELECT lead_scoring.generate_demo(1000, 4) ->> 'leads' AS leads;
SELECT (SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) FROM lead_scoring_demo.leads l) = leads AS same_leads
  FROM demo_fingerprint;
SELECT lead_scoring.generate_demo(1000, 3) ->> 'lead_events' AS lead_events;
SELECT (SELECT md5(string_agg(l::text, ',' ORDER BY lead_id)) FROM lead_scoring_demo.leads l) = leads AS same_leads,
       (SELECT md5(string_agg(e::text, ',' ORDER BY event_id)) FROM lead_scoring_demo.lead_events e) = events AS same_events
  FROM demo_fingerprint;

-- The shape of the data: 18 months of leads, one company per 5 leads, a converted lead converts
-- 30 to 120 days after creation, events fall within 45 days of it and never after 2026-07-01,
-- 2 to 20 per lead (leads of the last 45 days are cut off by the end of the data).
SELECT lead_scoring.generate_demo(3000, 5) ->> 'conversion_rate' AS conversion_rate;
SELECT to_char(min(created_at), 'YYYY-MM') AS first_month, to_char(max(created_at), 'YYYY-MM') AS last_month,
       count(*) / (SELECT count(*) FROM lead_scoring_demo.companies) AS leads_per_company,
       bool_and(converted = (converted_at IS NOT NULL)) AS converted_at_iff_converted,
       min(converted_at - created_at) >= '30 days' AND max(converted_at - created_at) <= '120 days' AS converts_in_30_to_120_days
  FROM lead_scoring_demo.leads;
SELECT max(e.occurred_at - l.created_at) < '45 days' AS within_45_days, max(e.occurred_at) <= '2026-07-01' AS before_the_end
  FROM lead_scoring_demo.lead_events e JOIN lead_scoring_demo.leads l USING (lead_id);
SELECT min(n) AS fewest_events, max(n) AS most_events
  FROM (SELECT count(e.event_id) AS n FROM lead_scoring_demo.leads l LEFT JOIN lead_scoring_demo.lead_events e USING (lead_id)
         WHERE l.created_at < '2026-05-15' GROUP BY l.lead_id) s;

-- The ground truth: a base rate of about 7%, demo requests the strongest signal, free-mail
-- addresses about 30% and a weaker one; after 2026-04-01 pricing visits are about twice as
-- frequent (leads of April and May, whose 30-day features are complete).
SELECT avg(converted::int) BETWEEN 0.05 AND 0.09 AS base_rate_about_7pct,
       avg(converted::int) FILTER (WHERE demo_requests > 0) > 5 * avg(converted::int) FILTER (WHERE demo_requests = 0) AS demos_matter,
       avg(personal_email::int) BETWEEN 0.25 AND 0.35 AS free_mail_30pct,
       avg(converted::int) FILTER (WHERE personal_email) < avg(converted::int) FILTER (WHERE NOT personal_email) AS free_mail_lowers
  FROM lead_scoring_demo.lead_features;
SELECT avg(pricing_visits) FILTER (WHERE created_at >= '2026-04-01' AND created_at < '2026-06-01')
       / avg(pricing_visits) FILTER (WHERE created_at < '2026-04-01') BETWEEN 1.5 AND 2.5 AS pricing_visits_doubled
  FROM lead_scoring_demo.lead_features;
-- A model on the demo finds the signals the generator made strongest.
SELECT model_name, round((metrics->'test'->>'roc_auc')::numeric, 2) >= 0.85 AS good_test_auc
  FROM lead_scoring.train('demo_signals', 'lead_scoring_demo.lead_features', 'converted', options => '{"exclude": ["lead_id"]}');
SELECT feature FROM lead_scoring.feature_importance('demo_signals') ORDER BY importance DESC LIMIT 1;
SELECT feature, coefficient > 0 AS raises_the_score FROM lead_scoring.feature_importance('demo_signals')
 WHERE feature IN ('demo_requests', 'pricing_visits') ORDER BY feature;

-- Mistakes: too few or too many leads, NULL arguments.
SELECT lead_scoring.generate_demo(10);
SELECT lead_scoring.generate_demo(20000000);
SELECT lead_scoring.generate_demo(NULL, 3);
SELECT lead_scoring.generate_demo(1000, NULL);
