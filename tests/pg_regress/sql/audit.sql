-- Auditing data before training: audit() is a data-quality scorecard per column (missing values,
-- placeholders, duplicates, outliers, ids, how well each column alone ranks converted leads,
-- and the leakage rule), train() applies the same leakage rule, and feature_report() finds
-- redundant numeric columns (correlations and variance inflation factors).

-- A small CRM table: placeholders, outliers, a duplicated row (so id is no id), and a field
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

-- Without a label the scorecard still describes every column; the label-based columns are empty.
-- A column with a different whole number in every row is flagged as an id.
SELECT column_name, distinct_values, id_like, reason, univariate_auc IS NULL AS no_auc
  FROM lead_scoring.audit('SELECT i AS lead_id, i % 7 AS visits FROM generate_series(1, 50) i');
-- A 0/1 integer label works like a boolean; a column that alone separates the classes
-- (univariate AUC >= 0.85) is a leakage suspect.
SELECT column_name, round(univariate_auc::numeric, 3) AS auc, leakage_suspect, reason
  FROM lead_scoring.audit('SELECT visits, source, (visits > 6)::int AS won FROM crm_audit', 'won');
-- An empty source gives a scorecard of zeros; a label with one class gives no AUCs.
SELECT column_name, rows, nulls FROM lead_scoring.audit('SELECT * FROM crm_audit WHERE false', 'converted');
SELECT column_name, univariate_auc, leakage_suspect
  FROM lead_scoring.audit('SELECT visits, source, true AS converted FROM crm_audit', 'converted');

-- train() warns about the suspect by default, refuses it with "leakage": "error", and stays
-- quiet with "ignore".
SELECT model_name, version FROM lead_scoring.train('leaky', 'crm_audit', 'converted', options => '{"exclude": ["id"]}');
SELECT model_name, version FROM lead_scoring.train('leaky', 'crm_audit', 'converted', options => '{"exclude": ["id"], "leakage": "error"}');
SELECT model_name, version FROM lead_scoring.train('leaky', 'crm_audit', 'converted', options => '{"exclude": ["id"], "leakage": "ignore"}');
-- Excluding the field trains without a warning.
SELECT model_name, version FROM lead_scoring.train('leaky', 'crm_audit', 'converted', options => '{"exclude": ["id", "rep_rating"]}');

-- Correlations and VIF: c is a linear combination of a and b (VIF Infinity), d is unrelated
-- (VIF about 1), k is constant (NULL); the label is left out.
CREATE TABLE numeric_features AS
SELECT i::float8 AS a, ((i * 37) % 101)::float8 AS b, 2.0 * i + (i * 37) % 101 AS c, (i % 5)::float8 AS d,
       7 AS k, i % 2 = 0 AS y
  FROM generate_series(1, 200) i;
SELECT feature, round(vif::numeric, 3) AS vif, most_correlated_with, round(correlation::numeric, 3) AS r
  FROM lead_scoring.feature_report('numeric_features', 'y') ORDER BY feature;
SELECT key AS other, round(value::numeric, 3) AS r
  FROM lead_scoring.feature_report('numeric_features', 'y'), jsonb_each_text(correlations) WHERE feature = 'a' ORDER BY key;
-- Missing values count as the column's median, as train() imputes them.
SELECT feature, round(vif::numeric, 3) AS vif, round(correlation::numeric, 3) AS r
  FROM lead_scoring.feature_report('SELECT a, CASE WHEN a::int % 10 = 0 THEN NULL ELSE a END AS a_gaps FROM numeric_features')
 ORDER BY feature;

-- Mistakes: NULL or unknown sources, a label that does not exist or is not boolean or 0/1, a
-- source without numeric columns.
SELECT * FROM lead_scoring.audit(NULL);
SELECT * FROM lead_scoring.audit('no_such_table');
SELECT * FROM lead_scoring.audit('crm_audit', 'won');
SELECT * FROM lead_scoring.audit('crm_audit', 'source');
SELECT * FROM lead_scoring.audit('SELECT visits, visits AS score FROM crm_audit', 'score');
SELECT * FROM lead_scoring.train('leaky', 'crm_audit', 'converted', options => '{"leakage": "panic"}');
SELECT * FROM lead_scoring.feature_report(NULL);
SELECT * FROM lead_scoring.feature_report('numeric_features', 'z');
SELECT * FROM lead_scoring.feature_report('SELECT source, converted FROM crm_audit', 'converted');
