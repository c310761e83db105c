-- Splits: how train() divides the rows into a training part (to fit), a validation part (to
-- choose the threshold and calibrate) and a test part (measured once), and how an analyst picks
-- the split that matches how the model will be used: random within each class, plain random,
-- by time, by group, or from a column that reproduces an outside split.
SELECT setseed(0.33);
CREATE TABLE split_leads AS
SELECT id, visits, channel, date '2025-01-01' + id / 4 AS created_at, 'account ' || (id % 40) AS account,
       (ARRAY['train', 'train', 'train', 'validation', 'test'])[1 + id % 5] AS part,
       random() < 1 / (1 + exp(-(-2 + 0.5 * visits + CASE channel WHEN 'partner' THEN 1.2 ELSE 0 END - id / 1000.0))) AS converted
  FROM (SELECT id, floor(random() * 8)::int AS visits, (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel
          FROM generate_series(1, 2000) id) s;
CREATE FUNCTION split_of(model text) RETURNS TABLE (split jsonb, train text, validation text, test text) LANGUAGE sql AS $$
  SELECT split - 'seed' - 'train' - 'validation' || jsonb_build_object('fractions', array[split->'train', split->'validation']),
         format('%s rows, %s converted', p->'train'->'rows', p->'train'->'positives'),
         format('%s rows, %s converted', p->'validation'->'rows', p->'validation'->'positives'),
         format('%s rows, %s converted', p->'test'->'rows', p->'test'->'positives')
    FROM (SELECT split, training->'parts' AS p FROM lead_scoring.models WHERE name = model ORDER BY version DESC LIMIT 1) m
$$;

-- The default, stratified: random within each class, 80/10/10, so each part keeps the base rate.
SELECT version FROM lead_scoring.train('split_stratified', 'split_leads', 'converted', ARRAY['visits', 'channel']);
SELECT * FROM split_of('split_stratified');
-- Plain random, and other fractions with another seed.
SELECT version FROM lead_scoring.train('split_random', 'split_leads', 'converted', ARRAY['visits', 'channel'],
                                       options => '{"split": "random"}');
SELECT * FROM split_of('split_random');
SELECT version FROM lead_scoring.train('split_random', 'split_leads', 'converted', ARRAY['visits', 'channel'],
                                       options => '{"split": {"method": "random", "train": 0.6, "validation": 0.2, "seed": 7}}');
SELECT * FROM split_of('split_random');
-- The same seed gives the same split and the same model, whatever order the rows come in.
SELECT version FROM lead_scoring.train('split_shuffled', 'SELECT * FROM split_leads ORDER BY md5(id::text)', 'converted',
                                       ARRAY['visits', 'channel']);
SELECT a.training->'parts' = b.training->'parts' AS same_parts, a.metrics = b.metrics AS same_metrics
  FROM lead_scoring.models a, lead_scoring.models b WHERE a.name = 'split_stratified' AND b.name = 'split_shuffled';

-- By time: the oldest 80% train, the next 10% validate, the newest 10% test, as the model will
-- meet future leads. Conversion falls over time here, so the test part converts least.
SELECT version FROM lead_scoring.train('split_time', 'split_leads', 'converted', ARRAY['visits', 'channel'],
                                       options => '{"split": {"method": "time", "column": "created_at"}}');
SELECT * FROM split_of('split_time');
-- By group: all leads of one account in the same part, so no account is both learned and tested
-- (40 accounts of 50 leads: 32, 4 and 4 accounts).
SELECT version FROM lead_scoring.train('split_group', 'split_leads', 'converted', ARRAY['visits', 'channel'],
                                       options => '{"split": {"method": "group", "column": "account"}}');
SELECT * FROM split_of('split_group');
-- From a column saying train, validation or test per row, to reproduce an outside split.
SELECT version FROM lead_scoring.train('split_column', 'split_leads', 'converted', ARRAY['visits', 'channel'],
                                       options => '{"split": {"method": "column", "column": "part"}}');
SELECT * FROM split_of('split_column');
SELECT part, count(*), sum(converted::int) AS converted FROM split_leads GROUP BY part ORDER BY part;
-- The split column is never a feature.
SELECT f->>'name' AS feature FROM lead_scoring.models, jsonb_array_elements(features) f WHERE name = 'split_column';
SELECT version FROM lead_scoring.train('split_time_all', 'split_leads', 'converted',
                                       options => '{"exclude": ["id", "part"], "split": {"method": "time", "column": "created_at"}}');
SELECT array_agg(f->>'name') AS features FROM lead_scoring.models, jsonb_array_elements(features) f WHERE name = 'split_time_all';

-- Mistakes.
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"split": {"method": "bogus"}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"split": 5}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"split": {"method": "time"}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"split": {"method": "group"}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"split": {"method": "time", "column": "closed_at"}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', ARRAY['visits'],
                                 options => '{"split": {"method": "time", "column": "channel"}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', ARRAY['visits'],
                                 options => '{"split": {"method": "column", "column": "channel"}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', ARRAY['visits'],
                                 options => '{"split": {"method": "group", "column": "channel"}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', ARRAY['visits', 'created_at'],
                                 options => '{"split": {"method": "time", "column": "created_at"}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"split": {"method": "random", "train": 1.2}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"split": {"method": "random", "train": 0.8, "validation": 0.3}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"split": {"method": "random", "sed": 7}}');
SELECT * FROM lead_scoring.train('split_bad', 'split_leads', 'converted', options => '{"seed": -1}');
