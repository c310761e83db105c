-- train(): which columns become features, which labels it accepts, the algorithms, what it
-- records about a fit in models.training, the memory and size limits, and the errors a user
-- meets. Splits are in training_splits, class weights, calibration, resampling, cross-validation
-- and search in training_tuning.
SELECT setseed(0.31);
CREATE TABLE train_leads AS
SELECT id, 'lead' || id || '@example.com' AS email, md5(id::text)::uuid AS uid, visits, channel,
       'company ' || (id % 60) AS company, date '2025-01-01' + id / 4 AS created_at, jsonb_build_object('id', id) AS extra,
       converted, converted::int AS converted_int,
       CASE WHEN converted THEN 'Closed Won' ELSE (ARRAY['Closed Lost', 'Open'])[1 + id % 2] END AS stage,
       CASE WHEN id % 10 = 0 THEN NULL ELSE converted END AS converted_gaps
  FROM (SELECT id, visits, channel,
               random() < 1 / (1 + exp(-(-2.5 + 0.5 * visits + CASE channel WHEN 'partner' THEN 1.2 ELSE 0 END))) AS converted
          FROM (SELECT id, floor(random() * 8)::int AS visits, (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel
                  FROM generate_series(1, 2000) id) s) t;
CREATE FUNCTION trained(model text) RETURNS SETOF lead_scoring.models LANGUAGE sql AS $$
  SELECT * FROM lead_scoring.models WHERE name = model ORDER BY version DESC LIMIT 1
$$;

-- Without a feature list every column but the label is a feature, except the ones listed in
-- options.exclude, uuid columns and text with a different value in every row (row ids), dates
-- (used only when named) and types that are no feature (jsonb). NOTICEs say so.
SELECT model_name, version, algorithm, deployed
  FROM lead_scoring.train('trained_all', 'train_leads', 'converted',
                          options => '{"exclude": ["id", "converted_int", "stage", "converted_gaps"]}');
SELECT f->>'name' AS feature, f->>'kind' AS kind FROM trained('trained_all'), jsonb_array_elements(features) f;
-- Named features are used as given, a date too.
SELECT version FROM lead_scoring.train('trained_named', 'train_leads', 'converted', ARRAY['visits', 'created_at']);
SELECT f->>'name' AS feature, f->>'kind' AS kind FROM trained('trained_named'), jsonb_array_elements(features) f;

-- Labels: a boolean, a 0/1 integer, or any column with options.positive_label. Rows with a NULL
-- label are skipped. Same rows, same split, same model whatever the label's type.
SELECT version FROM lead_scoring.train('label_int', 'train_leads', 'converted_int', ARRAY['visits', 'channel']);
SELECT version FROM lead_scoring.train('label_text', 'train_leads', 'stage', ARRAY['visits', 'channel'],
                                       options => '{"positive_label": "Closed Won"}');
SELECT version FROM lead_scoring.train('label_bool', 'train_leads', 'converted', ARRAY['visits', 'channel']);
SELECT version FROM lead_scoring.train('label_gaps', 'train_leads', 'converted_gaps', ARRAY['visits', 'channel']);
SELECT name, label, positive_label, training->'rows' AS rows, round((metrics->'test'->>'roc_auc')::numeric, 4) AS test_roc_auc
  FROM lead_scoring.models WHERE name LIKE 'label\_%' ORDER BY name;

-- Algorithms: logistic (the default), gbm (gradient boosted trees, options in training.gbm), and
-- auto, which fits both and keeps logistic unless gbm's validation ROC AUC is higher by more
-- than options.min_gain.
SELECT version, algorithm FROM lead_scoring.train('trees', 'train_leads', 'converted', ARRAY['visits', 'channel'], algorithm => 'gbm',
       options => '{"trees": 40, "learning_rate": 0.1, "max_depth": 3, "max_leaves": 8, "subsample": 0.8, "l2": 2,
                    "min_child_weight": 2, "early_stopping_rounds": 5}');
SELECT training->'gbm' AS gbm FROM trained('trees');
SELECT algorithm FROM lead_scoring.train('either', 'train_leads', 'converted', ARRAY['visits', 'channel'], algorithm => 'auto',
                                         options => '{"trees": 40}');
SELECT training->'auto'->>'chosen' AS chosen, training->'auto'->>'min_gain' AS min_gain,
       regexp_replace(training->'auto'->>'reason', '[0-9]\.[0-9]+', 'x', 'g') AS reason
  FROM trained('either');
-- When conversion peaks at 3 to 4 visits, a straight line cannot follow it and the trees win.
CREATE TABLE bumpy_leads AS
SELECT id, visits, channel, random() < CASE WHEN visits BETWEEN 3 AND 4 THEN 0.7 ELSE 0.15 END AS converted FROM train_leads;
SELECT algorithm FROM lead_scoring.train('either_bumpy', 'bumpy_leads', 'converted', ARRAY['visits', 'channel'], algorithm => 'auto',
                                         options => '{"trees": 40}');
SELECT training->'auto'->>'chosen' AS chosen,
       (training->'auto'->>'gbm_validation_roc_auc')::float8 > (training->'auto'->>'logistic_validation_roc_auc')::float8 + 0.01 AS gbm_better
  FROM trained('either_bumpy');

-- models.training records the fit: rows per part, the fit's iterations and convergence, the
-- options in force, and seconds per phase (not printed: they vary).
SELECT array_agg(k ORDER BY k) AS keys FROM trained('trained_all'), jsonb_object_keys(training) k;
SELECT training->'parts' AS parts, training->>'rows' AS rows, training->>'iterations' AS iterations,
       training->>'converged' AS converged, training->>'engine' AS engine
  FROM trained('trained_all');
SELECT array_agg(k ORDER BY k) AS effective_options, array_agg(k ORDER BY k) FILTER (WHERE k IN ('alpha', 'max_iter')) AS shown
  FROM trained('trained_all'), jsonb_object_keys(training->'effective_options') k;
SELECT array_agg(k ORDER BY k) AS phases FROM trained('trained_all'), jsonb_object_keys(training->'seconds') k;
-- A fit that stops early says so.
SELECT version FROM lead_scoring.train('stopped', 'train_leads', 'converted', ARRAY['visits', 'channel'], options => '{"max_iter": 1}');
SELECT training->>'converged' AS converged FROM trained('stopped');

-- Limits: a text column keeps its max_levels most frequent levels (the rest pool into (other));
-- a fit that would need more than max_memory stops before it allocates, saying how much and why.
SELECT version FROM lead_scoring.train('capped', 'train_leads', 'converted', ARRAY['visits', 'company'],
                                       options => '{"max_levels": 5, "min_level_count": 1}');
SELECT training->'capped_levels' AS capped_levels FROM trained('capped');
CREATE TABLE wide_leads AS
SELECT i AS id, 'co' || (i % 3000) AS company, 'city' || (i % 2500) AS city, i % 7 AS visits, i % 3 = 0 AS converted
  FROM generate_series(1, 9000) i;
SELECT * FROM lead_scoring.train('wide', 'wide_leads', 'converted', ARRAY['company', 'city', 'visits'],
                                 options => '{"max_memory": "8MB", "min_level_count": 1, "leakage": "ignore"}');
SET lead_scoring.max_memory = '8MB';
-- Boosted trees read each text column as one input of level codes: their memory is mostly the
-- histograms of the leaves open at once, here up to 4,096.
SELECT * FROM lead_scoring.train('wide', 'wide_leads', 'converted', ARRAY['company', 'city', 'visits'], algorithm => 'gbm',
                                 options => '{"min_level_count": 1, "leakage": "ignore", "max_leaves": 4096, "max_depth": 12}');
SELECT version FROM lead_scoring.train('wide', 'wide_leads', 'converted', ARRAY['company', 'city', 'visits'],
                                       options => '{"min_level_count": 1, "max_levels": 20, "leakage": "ignore"}');
SELECT training->'effective_options'->>'max_memory' AS max_memory FROM trained('wide');
RESET lead_scoring.max_memory;

-- Mistakes: NULL arguments, a bad model name, sources, labels and features that do not work,
-- options of the wrong type or past their bounds. A failed train() leaves nothing behind.
SELECT * FROM lead_scoring.train(NULL, 'train_leads', 'converted');
SELECT * FROM lead_scoring.train('bad', NULL, 'converted');
SELECT * FROM lead_scoring.train('bad', 'train_leads', NULL);
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', algorithm => NULL);
SELECT * FROM lead_scoring.train('bad@2', 'train_leads', 'converted');
SELECT * FROM lead_scoring.train('bad', 'SELECT * FROM train_leads WHERE false', 'converted');
SELECT * FROM lead_scoring.train('bad', 'SELECT visits, true AS won FROM train_leads', 'won');
SELECT * FROM lead_scoring.train('bad', 'SELECT visits, NULL::boolean AS won FROM train_leads', 'won');
SELECT * FROM lead_scoring.train('bad', 'SELECT visits, visits % 3 AS won FROM train_leads', 'won');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'stage', ARRAY['visits']);
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'stage', ARRAY['visits'], options => '{"positive_label": "Won"}');
SELECT * FROM lead_scoring.train('bad', 'SELECT visits, converted FROM train_leads WHERE id <= 25', 'converted');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', ARRAY['visits', 'extra']);
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', ARRAY['visits', 'converted']);
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', ARRAY['visits', 'Visits']);
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', ARRAY[]::text[]);
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"exclude": ["nope"]}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', algorithm => 'svm');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '[{"alpha": 1}]');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"alpah": 1}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"alpha": "1"}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"alpha": -1}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"max_iter": 100000}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"trees": 0}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"max_depth": 100}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"min_class_rows": 0}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', ARRAY['visits'], options => '{"min_class_rows": 900}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"max_levels": 0}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"max_memory": "100kB"}');
SELECT * FROM lead_scoring.train('bad', 'train_leads', 'converted', options => '{"max_memory": "lots"}');
SET lead_scoring.max_memory = -5;
SELECT count(*) AS models_after_errors FROM lead_scoring.models WHERE name = 'bad';
