-- model_sql(): the deployed logistic model as a plain SQL expression that gives score() on
-- every row; and options.engine = 'aggregate' (the logistic fit as iterated aggregate
-- passes).
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

-- score() on a table row is planned as score_fields() with the row's columns, so no whole row
-- is formed; on the nullable side of an outer join the row stays whole (it can be NULL).
EXPLAIN (VERBOSE, COSTS OFF) SELECT lead_scoring.score('portable', l) FROM portable_leads l;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT g, lead_scoring.tier('portable', l) FROM generate_series(3001, 3003) g LEFT JOIN portable_leads l ON l.id = g;
SELECT g, lead_scoring.tier('portable', l) FROM generate_series(3001, 3003) g LEFT JOIN portable_leads l ON l.id = g;
-- Both plans give the same scores, tiers and 0-100 scores on every row.
SELECT count(*) AS rows, count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differing
  FROM (SELECT id, (lead_scoring.score('portable', l), lead_scoring.tier('portable', l), lead_scoring.score_100('portable', l)) AS a
          FROM portable_leads l) x
  JOIN (SELECT id, (lead_scoring.score('portable', l), lead_scoring.tier('portable', l), lead_scoring.score_100('portable', l)) AS b
          FROM (SELECT * FROM portable_leads OFFSET 0) l) y USING (id);
-- score_fields() checks the columns it is given against the row type.
SELECT lead_scoring.score_fields('portable', 'portable_leads', id, visits, opted_in) FROM portable_leads LIMIT 1;

-- Errors: unknown model; gbm models have no SQL form.
SELECT lead_scoring.model_sql('no_such_model');
SELECT model_name FROM lead_scoring.train('portable_trees', 'portable_leads', 'converted', algorithm => 'gbm',
                                          options => '{"exclude": ["id"], "trees": 5}');
SELECT lead_scoring.model_sql('portable_trees');
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
                                          options => '{"exclude": ["id"], "engine": "gpu"}');
