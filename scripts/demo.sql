-- The main job, as an analyst would type it in psql: load the X Education leads, train a
-- logistic model without the columns that leak the outcome, score and tier every lead; then
-- generate the demo CRM, build features from its events and train, score and tier on it.
-- Run by scripts/run_demo.sh as: psql -f scripts/demo.sql < x_education_leads.csv (\copy reads pstdin).
\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS lead_scoring;

\i scripts/x_education.sql
\copy x_education.leads ("Prospect ID", "Lead Number", "Lead Origin", "Lead Source", "Do Not Email", "Do Not Call", "Converted", "TotalVisits", "Total Time Spent on Website", "Page Views Per Visit", "Last Activity", "Country", "Specialization", "How did you hear about X Education", "What is your current occupation", "What matters most to you in choosing a course", "Search", "Magazine", "Newspaper Article", "X Education Forums", "Newspaper", "Digital Advertisement", "Through Recommendations", "Receive More Updates About Our Courses", "Tags", "Lead Quality", "Update me on Supply Chain Content", "Get updates on DM Content", "Lead Profile", "City", "Asymmetrique Activity Index", "Asymmetrique Profile Index", "Asymmetrique Activity Score", "Asymmetrique Profile Score", "I agree to pay the amount through cheque", "A free copy of Mastering The Interview", "Last Notable Activity") FROM pstdin WITH (FORMAT csv, HEADER true)
SELECT count(*) AS leads_loaded, sum("Converted") AS converted FROM x_education.leads;

\echo
\echo '== Training model "x_education" (logistic; leaking columns excluded; README split)'
SELECT model_name, version, algorithm, deployed
  FROM lead_scoring.train(
         'x_education',
         'x_education.leads_split',
         'Converted',
         options => '{"split": {"method": "column", "column": "part"},
                      "exclude": ["Tags", "Lead Quality", "Lead Profile", "Asymmetrique Activity Index", "Asymmetrique Profile Index", "Asymmetrique Activity Score", "Asymmetrique Profile Score", "Last Activity", "Last Notable Activity", "Prospect ID", "Lead Number", "file_row"]}')
\gset trained_
SELECT lead_scoring.deploy('x_education', :trained_version, 'demo run: newest version')
 WHERE NOT :'trained_deployed'::boolean \g /dev/null
SELECT name AS model, version, algorithm, deployed, training_rows,
       round(test_roc_auc::numeric, 4) AS test_roc_auc, round(test_pr_auc::numeric, 4) AS test_pr_auc
  FROM lead_scoring.model_overview WHERE name = 'x_education' ORDER BY version;

\echo '== Test metrics of the deployed version (rows the model never saw)'
SELECT m.key AS metric,
       CASE WHEN m.key IN ('rows', 'positives') THEN m.value ELSE round(m.value::numeric, 4)::text END AS value
  FROM lead_scoring.models,
       jsonb_each_text(metrics->'test') AS m
 WHERE name = 'x_education' AND deployed
   AND jsonb_typeof(metrics->'test'->m.key) = 'number'
 ORDER BY array_position(ARRAY['roc_auc','pr_auc','log_loss','brier','base_rate','threshold',
                               'precision','recall','f1','accuracy','rows','positives'], m.key);

\echo '== Tiers over all leads (rule: hot at or above the F1 threshold, warm down to the base rate)'
WITH scored AS (
  SELECT lead_scoring.score('x_education', l) AS score, lead_scoring.tier('x_education', l) AS tier, "Converted"
    FROM x_education.leads l)
SELECT tier, count(*) AS leads, round(min(score)::numeric, 3) AS min_score,
       round(avg("Converted"), 3) AS actual_conversion_rate
  FROM scored GROUP BY tier ORDER BY min(score) DESC;

\echo '== The ten hottest leads'
SELECT "Lead Number", "Lead Origin", "Lead Source", "What is your current occupation" AS occupation,
       "Total Time Spent on Website" AS seconds_on_site,
       round(lead_scoring.score('x_education', l)::numeric, 4) AS score,
       lead_scoring.tier('x_education', l) AS tier,
       "Converted" AS converted
  FROM x_education.leads l
 ORDER BY lead_scoring.score('x_education', l) DESC, "Lead Number"
 LIMIT 10;

\echo
\echo '== Demo CRM: 20,000 leads, companies and 18 months of events (lead_scoring.generate_demo)'
SELECT lead_scoring.generate_demo(20000, 42) AS demo_crm;

\echo '== Audit of the feature view built from events with decayed_count / engagement_velocity'
SELECT column_name, data_type, nulls, distinct_values, round(univariate_auc::numeric, 3) AS univariate_auc, leakage_suspect
  FROM lead_scoring.audit('lead_scoring_demo.lead_features', 'converted')
 ORDER BY univariate_auc DESC NULLS LAST;

\echo '== Training model "demo_crm" on lead_scoring_demo.lead_features'
SELECT model_name, version, round((metrics->'test'->>'roc_auc')::numeric, 4) AS test_roc_auc,
       round((metrics->'test'->>'pr_auc')::numeric, 4) AS test_pr_auc
  FROM lead_scoring.train('demo_crm', 'lead_scoring_demo.lead_features', 'converted',
                          options => '{"exclude": ["lead_id"]}');

\echo '== Demo CRM tiers (deployed version)'
WITH scored AS (
  SELECT lead_scoring.score('demo_crm', f) AS score, lead_scoring.tier('demo_crm', f) AS tier, converted
    FROM lead_scoring_demo.lead_features f)
SELECT tier, count(*) AS leads, round(min(score)::numeric, 3) AS min_score,
       round(avg(converted::int), 3) AS actual_conversion_rate
  FROM scored GROUP BY tier ORDER BY min(score) DESC;
