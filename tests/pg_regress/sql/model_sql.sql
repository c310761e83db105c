-- model_sql(): the deployed logistic model as one plain SQL expression over the raw columns, for
-- a database or BI tool without the extension; it gives score() on every row. The same
-- expressions of the model inputs let options.engine = 'aggregate' fit a logistic model by
-- aggregate passes over the source instead of a matrix in memory.
SELECT setseed(0.23);
CREATE TABLE portable_leads AS
SELECT id,
       CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 8)::int END AS visits,
       (ARRAY['Google', 'Referral', 'Webinar', 'Select', ''])[1 + floor(random() * 5)::int] AS "Lead Source",
       random() < 0.4 AS opted_in,
       CASE WHEN id % 10 < 7 THEN 'train' WHEN id % 10 < 8 THEN 'validation' ELSE 'test' END AS part
  FROM generate_series(1, 3000) AS id;
ALTER TABLE portable_leads ADD COLUMN converted boolean;
UPDATE portable_leads
   SET converted = random() < 1 / (1 + exp(-(-2.5 + 0.4 * coalesce(visits, 2)
                                            + CASE "Lead Source" WHEN 'Referral' THEN 1.2 ELSE 0 END)));

SELECT model_name, version, algorithm
  FROM lead_scoring.train('portable', 'portable_leads', 'converted',
                          options => '{"exclude": ["id"], "split": {"method": "column", "column": "part"}}');

-- One CASE per column, quoted identifiers, the sigmoid of the clamped log-odds.
SELECT lead_scoring.model_sql('portable') LIKE '(1::float8 / (1::float8 + exp(-least(greatest((%' AS starts_with_sigmoid,
       (SELECT count(*) FROM regexp_matches(lead_scoring.model_sql('portable'), 'CASE WHEN', 'g')) AS cases,
       lead_scoring.model_sql('portable') LIKE '%"Lead Source"::text%' AS quoted;

-- The expression gives score() on every row, including rows with levels never seen in training.
INSERT INTO portable_leads (id, visits, "Lead Source", opted_in, part, converted)
VALUES (3001, NULL, 'Podcast', NULL, 'new', NULL), (3002, 100, NULL, true, 'new', NULL);
DO $$
DECLARE gap float8; n bigint;
BEGIN
  EXECUTE format('SELECT max(abs(lead_scoring.score(''portable'', l) - %s)), count(*) FROM portable_leads l',
                 lead_scoring.model_sql('portable')) INTO gap, n;
  RAISE WARNING 'rows %, largest difference below 1e-9: %', n, gap < 1e-9;
END $$;

-- Calibrated models are written with their calibration (Platt's formula, isotonic steps), log
-- columns as sign(x) * ln(1 + abs(x)); the expression still gives score().
CREATE FUNCTION portable_gap(model text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE gap float8;
BEGIN
  EXECUTE format('SELECT max(abs(lead_scoring.score(%L, l) - %s)) FROM portable_leads l', model, lead_scoring.model_sql(model))
     INTO gap;
  RETURN CASE WHEN gap < 1e-9 THEN 'same as score()' ELSE 'differs by ' || gap END;
END $$;
SELECT version FROM lead_scoring.train('portable_platt', 'portable_leads', 'converted',
                                       options => '{"exclude": ["id", "part"], "class_weight": "balanced", "log": ["visits"]}');
SELECT version FROM lead_scoring.train('portable_isotonic', 'portable_leads', 'converted',
                                       options => '{"exclude": ["id", "part"], "calibration": "isotonic"}');
SELECT m AS model, (SELECT training->>'calibration' FROM lead_scoring.models WHERE name = m) AS calibration,
       lead_scoring.model_sql(m) LIKE '%ln(1::float8 + abs(%' AS log_written, portable_gap(m) AS result
  FROM unnest(ARRAY['portable_platt', 'portable_isotonic']) m;
-- A model of an older version is written by name@version.
SELECT lead_scoring.model_sql('portable@1') = lead_scoring.model_sql('portable') AS same_version;

-- Errors: unknown model; gbm models have no SQL form, nor (yet) bins, dates or interactions.
SELECT lead_scoring.model_sql('no_such_model');
SELECT model_name FROM lead_scoring.train('portable_trees', 'portable_leads', 'converted', algorithm => 'gbm',
                                          options => '{"exclude": ["id"], "trees": 5}');
SELECT lead_scoring.model_sql('portable_trees');
SELECT model_name FROM lead_scoring.train('portable_binned', 'portable_leads', 'converted',
                                          options => '{"exclude": ["id"], "bins": {"visits": 4}}');
SELECT lead_scoring.model_sql('portable_binned');
SELECT lead_scoring.model_sql(NULL) IS NULL AS null_gives_null;

-- The aggregate engine: the same coefficients as the in-memory fit.
SELECT model_name, version
  FROM lead_scoring.train('portable_agg', 'portable_leads', 'converted',
                          options => '{"exclude": ["id"], "split": {"method": "column", "column": "part"}, "engine": "aggregate"}');
SELECT training->>'engine' AS engine, (training->>'engine_passes')::int >= 3 AS several_passes
  FROM lead_scoring.models WHERE name = 'portable_agg';
SELECT round(max(abs(a.coefficient - m.coefficient))::numeric, 6) AS largest_coefficient_difference,
       round(max(abs(a.importance - m.importance))::numeric, 6) AS largest_importance_difference
  FROM lead_scoring.feature_importance('portable') m
  JOIN lead_scoring.feature_importance('portable_agg') a USING (feature);
SELECT model_name FROM lead_scoring.train('portable_agg', 'portable_leads', 'converted',
                                          options => '{"exclude": ["id"], "engine": "aggregate"}');
SELECT model_name FROM lead_scoring.train('portable_agg', 'portable_leads', 'converted',
                                          options => '{"exclude": ["id"], "split": {"method": "column", "column": "part"},
                                                       "engine": "aggregate", "bins": {"visits": 4}}');
SELECT model_name FROM lead_scoring.train('portable_agg', 'portable_leads', 'converted',
                                          options => '{"exclude": ["id"], "engine": "gpu"}');
