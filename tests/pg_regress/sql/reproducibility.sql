-- Reproducibility: every trained version records which leads were in its train, validation and
-- test parts (by the lead key: options.key, or the source table's primary key), and for a time
-- split each part's first and last creation time. split_of(model, key) answers the part of one
-- lead, so a score can be checked on leads the model never learned from, and compare() warns
-- when the leads it compares include the model's training leads.
SET TIME ZONE 'UTC';
SELECT lead_scoring.generate_demo(3000, 11) ->> 'leads' AS demo_leads;

-- A model of the demo CRM, split by time: the oldest 80% of leads train, the next 10%
-- validate, the newest 10% test. options.key names the lead key (the feature view has no
-- primary key to default to).
SELECT version FROM lead_scoring.train('repro', 'lead_scoring_demo.lead_features', 'converted',
  options => '{"key": "lead_id", "split": {"method": "time", "column": "created_at"}}');

-- What the version recorded: the key column and its type, the distinct keys per part and the
-- bytes they take (8 per lead, plus 28), and the time range of each part.
SELECT jsonb_pretty(split - 'seed') AS split FROM lead_scoring.models WHERE name = 'repro';

-- split_of() for every lead: each part in creation order, with the recorded rows per part.
SELECT lead_scoring.split_of('repro', lead_id) AS part, count(*) AS leads, to_char(min(created_at), 'YYYY-MM-DD') AS first_created,
       to_char(max(created_at), 'YYYY-MM-DD') AS last_created
  FROM lead_scoring_demo.lead_features GROUP BY 1 ORDER BY min(created_at);

-- It agrees with the split recomputed in plain SQL for every lead.
SELECT count(*) AS leads,
       count(*) FILTER (WHERE lead_scoring.split_of('repro', lead_id) IS DISTINCT FROM
                              CASE WHEN n <= 2400 THEN 'train' WHEN n <= 2700 THEN 'validation' ELSE 'test' END) AS disagreeing
  FROM (SELECT lead_id, row_number() OVER (ORDER BY created_at) AS n FROM lead_scoring_demo.lead_features) s;

-- A key can also be given as text; a lead the version never saw is NULL; a version can be
-- named ('repro@1') or given (version => 1).
SELECT lead_scoring.split_of('repro', '1') AS by_text, lead_scoring.split_of('repro', 1) AS by_integer,
       lead_scoring.split_of('repro@1', 1) AS by_name, lead_scoring.split_of('repro', 1, version => 1) AS by_version,
       lead_scoring.split_of('repro', 100000) AS never_seen, lead_scoring.split_of('repro', NULL::int) AS null_key;

-- Other splits record their parts the same way: by company (every lead of a company in one part) ...
SELECT version FROM lead_scoring.train('repro_by_company',
  'SELECT f.*, l.company_id FROM lead_scoring_demo.lead_features f JOIN lead_scoring_demo.leads l USING (lead_id)', 'converted',
  options => '{"key": "lead_id", "split": {"method": "group", "column": "company_id"}}');
SELECT count(*) AS companies_in_two_parts
  FROM (SELECT l.company_id FROM lead_scoring_demo.leads l
         GROUP BY 1 HAVING count(DISTINCT lead_scoring.split_of('repro_by_company', l.lead_id)) > 1) c;
-- ... and by a column that names the part.
SELECT version FROM lead_scoring.train('repro_by_column',
  $$SELECT f.*, CASE WHEN lead_id % 10 = 0 THEN 'test' WHEN lead_id % 10 = 1 THEN 'validation' ELSE 'train' END AS part
      FROM lead_scoring_demo.lead_features f$$, 'converted',
  options => '{"key": "lead_id", "split": {"method": "column", "column": "part"}}');
SELECT count(*) FILTER (WHERE lead_scoring.split_of('repro_by_column', lead_id) IS DISTINCT FROM
                              CASE WHEN lead_id % 10 = 0 THEN 'test' WHEN lead_id % 10 = 1 THEN 'validation' ELSE 'train' END) AS disagreeing
  FROM lead_scoring_demo.lead_features;

-- compare() against a simple rule (demo requests first, then pricing visits) on all leads:
-- most of them trained the model, so it WARNS that the model's score is optimistic there ...
SELECT metric, round(score_a::numeric, 3) AS model, round(score_b::numeric, 3) AS rule
  FROM lead_scoring.compare('lead_scoring_demo.lead_features', 'converted',
                            'lead_scoring.score(''repro'', src)', 'src.demo_requests * 10 + src.pricing_visits')
 WHERE metric = 'roc_auc';
-- ... and on the test part only it does not.
SELECT metric, round(score_a::numeric, 3) AS model, round(score_b::numeric, 3) AS rule
  FROM lead_scoring.compare($$SELECT * FROM lead_scoring_demo.lead_features WHERE lead_scoring.split_of('repro', lead_id) = 'test'$$,
                            'converted', 'lead_scoring.score(''repro'', src)', 'src.demo_requests * 10 + src.pricing_visits')
 WHERE metric = 'roc_auc';

-- A table's single-column primary key is the lead key when options.key is not set.
CREATE TABLE repro_leads AS SELECT * FROM lead_scoring_demo.lead_features;
ALTER TABLE repro_leads ADD PRIMARY KEY (lead_id);
SELECT version FROM lead_scoring.train('repro_pk', 'repro_leads', 'converted', options => '{"exclude": ["lead_id", "created_at"]}');
SELECT split -> 'lead_keys' ->> 'column' AS lead_key, (split -> 'lead_keys' ->> 'train')::int AS train_leads
  FROM lead_scoring.models WHERE name = 'repro_pk';

-- Errors: an unknown model, a version that does not exist, two different versions, a key of
-- another kind than the lead key, and a version that recorded no keys (trained on a query
-- without options.key).
SELECT lead_scoring.split_of('no_such_model', 1);
SELECT lead_scoring.split_of('repro', 1, version => 9);
SELECT lead_scoring.split_of('repro@1', 1, version => 2);
SELECT lead_scoring.split_of('repro', now());
SELECT version FROM lead_scoring.train('repro_keyless', 'SELECT * FROM lead_scoring_demo.lead_features', 'converted',
  options => '{"exclude": ["lead_id", "created_at"]}');
SELECT lead_scoring.split_of('repro_keyless', 1);
