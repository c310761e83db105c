-- Outcomes, label maturity and a data cut-off: training on a CRM table whose label is a stage
-- and whose newest leads are too young to have an outcome.
--
-- A small CRM table: each lead has a stage ('won', 'SQL', 'lost', 'in_pipeline') and the
-- date it was created (January to June 2025). Leads from the last weeks are mostly still
-- 'in_pipeline' or not yet won.
SELECT setseed(0.57);
CREATE TABLE stage_leads AS
SELECT id, visits, channel, date '2025-01-01' + id / 10 AS created_on,
       CASE WHEN converted THEN (ARRAY['won', 'won', 'SQL'])[1 + id % 3]
            WHEN id > 1500 AND id % 3 = 0 THEN 'in_pipeline'
            WHEN id % 11 = 0 THEN 'in_pipeline'
            ELSE 'lost' END AS stage
  FROM (SELECT id, visits, channel,
               random() < 1 / (1 + exp(-(-2.5 + 0.5 * visits + CASE channel WHEN 'partner' THEN 1.2 ELSE 0 END))) AS converted
          FROM (SELECT id, floor(random() * 8)::int AS visits, (ARRAY['web', 'partner', 'event'])[1 + floor(random() * 3)::int] AS channel
                  FROM generate_series(1, 1800) id) s) t;
SELECT stage, count(*) FROM stage_leads GROUP BY stage ORDER BY stage;

-- With options.outcomes the label's values are mapped to classes: 'won' and 'SQL' are
-- converted, 'lost' is not, 'in_pipeline' leads are open and left out of training. A NOTICE
-- gives the rows per class; the same counts are stored in the version's training record.
SET client_min_messages = notice;
SELECT version FROM lead_scoring.train('crm_stage', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"]}}');
RESET client_min_messages;
SELECT training->'rows' AS rows, training->'outcomes' AS outcomes FROM lead_scoring.models WHERE name = 'crm_stage';

-- A value in no list is an ERROR naming it and its rows (nothing is silently a negative) ...
SELECT version FROM lead_scoring.train('crm_strict', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won"], "not_converted": ["lost"]}}');
-- ... unless options.outcomes.unlisted says what such values are.
SELECT version FROM lead_scoring.train('crm_unlisted', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won"], "not_converted": ["lost"], "unlisted": "open"}}');
SELECT training->'outcomes'->'open' AS open FROM lead_scoring.models WHERE name = 'crm_unlisted';
-- A value in two lists, and outcomes with positive_label, are ERRORs.
SELECT version FROM lead_scoring.train('crm_twice', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost", "SQL"]}}');
SELECT version FROM lead_scoring.train('crm_both', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won"], "not_converted": ["lost"]}, "positive_label": "won"}');

-- Label maturity: a lead created in the last 30 days before as_of that is not converted yet
-- may still convert; options.mature_after leaves such leads out (converted ones stay).
-- options.created_column says when each lead was created; as_of defaults to now().
SET client_min_messages = notice;
SELECT version FROM lead_scoring.train('crm_mature', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"]},
               "created_column": "created_on", "mature_after": "30 days", "as_of": "2025-06-30"}');
RESET client_min_messages;
SELECT training->'outcomes'->'immature' AS immature, training->'outcomes'->'immature_after' AS immature_after
  FROM lead_scoring.models WHERE name = 'crm_mature';
-- The same count in plain SQL: not converted, created after 2025-05-31.
SELECT count(*) AS immature FROM stage_leads WHERE stage = 'lost' AND created_on > date '2025-05-31';
-- When every not-converted lead is too young there is nothing to learn from: an ERROR.
SELECT version FROM lead_scoring.train('crm_young', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"]},
               "created_column": "created_on", "mature_after": "1 year", "as_of": "2025-06-30"}');
SELECT version FROM lead_scoring.train('crm_nocol', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"]}, "mature_after": "30 days"}');

-- A data cut-off: options.since drops the leads created before it (an old process, another
-- market). The model card shows the data window.
SET client_min_messages = notice;
SELECT version FROM lead_scoring.train('crm_recent', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"]},
               "created_column": "created_on", "since": "2025-03-01"}');
RESET client_min_messages;
SELECT line FROM regexp_split_to_table(lead_scoring.model_card('crm_recent'), E'\n') AS line
 WHERE line LIKE '- outcomes%' OR line LIKE '- data window%';
-- A cut-off after the newest lead leaves nothing: an ERROR.
SELECT version FROM lead_scoring.train('crm_future', 'stage_leads', 'stage', ARRAY['visits', 'channel'],
  options => '{"outcomes": {"converted": ["won", "SQL"], "not_converted": ["lost"], "open": ["in_pipeline"]},
               "created_column": "created_on", "since": "2030-01-01"}');

-- evaluate() reads labels the way the model was trained: open leads are left out and 'SQL'
-- counts as converted, so its rows and positives are the training's converted and
-- not-converted leads.
SELECT (e->>'rows')::int AS rows, (e->>'positives')::int AS positives
  FROM lead_scoring.evaluate('crm_stage', 'stage_leads') e;
SELECT count(*) FILTER (WHERE stage <> 'in_pipeline') AS rows, count(*) FILTER (WHERE stage IN ('won', 'SQL')) AS positives
  FROM stage_leads;
