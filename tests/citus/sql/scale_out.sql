-- lead_scoring on Citus: a coordinator and two workers (scripts/citus.sh), lead_scoring and
-- citus installed on every node. Everything below runs on the coordinator.

-- 1. The catalog on every node: its tables become reference tables.
SELECT lead_scoring.distribute_catalog();
SELECT logicalrelid::text, partmethod FROM pg_dist_partition
 WHERE logicalrelid::text LIKE 'lead_scoring.%' ORDER BY 1;
-- Calling it again changes nothing.
SELECT lead_scoring.distribute_catalog();

-- 2. The same leads twice: a distributed table (32 shards on the two workers) and a local copy.
SELECT (lead_scoring.generate_demo(20000, 42))->>'leads' AS leads;
CREATE TABLE local_leads AS
SELECT *, CASE WHEN lead_id % 5 = 0 THEN 'test' WHEN lead_id % 5 = 1 THEN 'validation' ELSE 'train' END AS part
  FROM lead_scoring_demo.lead_features;
CREATE TABLE leads (LIKE local_leads);
SELECT create_distributed_table('leads', 'lead_id');
INSERT INTO leads SELECT * FROM local_leads;
SELECT count(*) FROM leads;

-- 3. Training by aggregate passes: each Newton pass is one aggregate, computed per shard on the
-- workers and combined on the coordinator.
EXPLAIN (COSTS OFF)
SELECT lead_scoring.logistic_irls_pass(ARRAY[0], ARRAY[pricing_visits::float8], converted, 1.0::float8, ARRAY[0, 0]::float8[])
  FROM leads WHERE part = 'train';
-- The coordinator reads a sample of 5,000 of the 20,000 leads (options.sample_rows, chosen by
-- a hash of each row); the preprocessing, the counts and every part's metrics are aggregates
-- over all rows.
SELECT version, round((metrics->'test'->>'roc_auc')::numeric, 4) AS test_auc
  FROM lead_scoring.train('dist', 'leads', 'converted', options => '{"engine": "aggregate", "sample_rows": 5000,
       "split": {"method": "column", "column": "part"}, "exclude": ["lead_id", "created_at"]}');
SELECT version, round((metrics->'test'->>'roc_auc')::numeric, 4) AS test_auc
  FROM lead_scoring.train('local', 'local_leads', 'converted', options => '{"engine": "aggregate", "sample_rows": 5000,
       "split": {"method": "column", "column": "part"}, "exclude": ["lead_id", "created_at"]}');
-- The memory engine on the local copy reads every row.
SELECT version, round((metrics->'test'->>'roc_auc')::numeric, 4) AS test_auc
  FROM lead_scoring.train('local_memory', 'local_leads', 'converted', options => '{"engine": "memory",
       "split": {"method": "column", "column": "part"}, "exclude": ["lead_id", "created_at"]}');
SELECT name, training->>'engine' AS engine, training->'rows' AS rows, training->'sample'->'rows_sampled' AS rows_sampled,
       training->'sample'->'rows_total' AS rows_total
  FROM lead_scoring.models ORDER BY name;
-- The same coefficients as on the local copy, and as the memory engine's.
SELECT count(*) AS features, max(abs(d.coefficient - l.coefficient)) < 1e-6 AS same_coefficients
  FROM lead_scoring.feature_importance('dist') d JOIN lead_scoring.feature_importance('local') l USING (feature);
SELECT count(*) AS features, max(abs(d.coefficient - m.coefficient)) < 1e-6 AS same_as_memory_engine
  FROM lead_scoring.feature_importance('dist') d JOIN lead_scoring.feature_importance('local_memory') m USING (feature);
-- The stored test metrics are those of all test leads: equal to the metric aggregates over
-- score() of the distributed table's test part, and to the memory engine's.
WITH all_test AS MATERIALIZED (
  SELECT count(*) AS rows, lead_scoring.roc_auc(s, y) AS roc_auc, lead_scoring.pr_auc(s, y) AS pr_auc,
         lead_scoring.log_loss(s, y) AS log_loss, lead_scoring.brier(s, y) AS brier
    FROM (SELECT lead_scoring.score('dist', l) AS s, converted AS y FROM leads l WHERE part = 'test') x)
SELECT (d.metrics->'test'->>'rows')::int8 = a.rows AS same_rows,
       abs((d.metrics->'test'->>'roc_auc')::float8 - a.roc_auc) < 1e-12 AS roc_auc_of_all_rows,
       abs((d.metrics->'test'->>'pr_auc')::float8 - a.pr_auc) < 1e-12 AS pr_auc_of_all_rows,
       abs((d.metrics->'test'->>'log_loss')::float8 - a.log_loss) < 1e-12 AS log_loss_of_all_rows,
       abs((d.metrics->'test'->>'brier')::float8 - a.brier) < 1e-12 AS brier_of_all_rows,
       abs((d.metrics->'test'->>'roc_auc')::float8 - (m.metrics->'test'->>'roc_auc')::float8) < 1e-6
         AND abs((d.metrics->'test'->>'log_loss')::float8 - (m.metrics->'test'->>'log_loss')::float8) < 1e-6
         AND abs((d.metrics->'test'->>'brier')::float8 - (m.metrics->'test'->>'brier')::float8) < 1e-6 AS memory_engine_metrics
  FROM all_test a, lead_scoring.models d, lead_scoring.models m
 WHERE d.name = 'dist' AND d.version = 1 AND m.name = 'local_memory';

-- 4. Scoring in queries over the distributed table runs on the workers, which read the model
-- from their replica of the catalog; the values equal scoring the local copy.
EXPLAIN (COSTS OFF) SELECT lead_scoring.score('dist', l) FROM leads l;
CREATE TEMP TABLE scored_on_workers AS
SELECT lead_id, lead_scoring.score('dist', x) AS score, lead_scoring.tier('dist', x) AS tier,
       CASE WHEN lead_id % 50 = 0 THEN lead_scoring.top_reasons('dist', x) END AS reasons
  FROM leads x;
CREATE TEMP TABLE scored_here AS
SELECT lead_id, lead_scoring.score('dist', x) AS score, lead_scoring.tier('dist', x) AS tier,
       CASE WHEN lead_id % 50 = 0 THEN lead_scoring.top_reasons('dist', x) END AS reasons
  FROM local_leads x;
SELECT count(*) AS leads,
       count(*) FILTER (WHERE w.score IS DISTINCT FROM h.score) AS different_scores,
       count(*) FILTER (WHERE w.tier IS DISTINCT FROM h.tier) AS different_tiers,
       count(*) FILTER (WHERE w.reasons::text IS DISTINCT FROM h.reasons::text) AS different_reasons
  FROM scored_on_workers w JOIN scored_here h USING (lead_id);
-- explain() of one lead: the query goes to the worker that holds lead 7.
CREATE TEMP TABLE explained_on_worker AS
SELECT e.* FROM leads x, LATERAL lead_scoring.explain('dist', x) e WHERE x.lead_id = 7;
CREATE TEMP TABLE explained_here AS
SELECT e.* FROM local_leads x, LATERAL lead_scoring.explain('dist', x) e WHERE x.lead_id = 7;
SELECT count(*) AS contributions, count(*) FILTER (WHERE w.contribution IS DISTINCT FROM h.contribution) AS different
  FROM explained_on_worker w JOIN explained_here h USING (feature);

-- 5. A deploy reaches the workers: version 2 trained without deploying, deployed, rolled back.
-- Each mean over the distributed table (scored on the workers) is compared with the mean of
-- the named version over the local copy (scored here).
SELECT version FROM lead_scoring.train('dist', 'leads', 'converted', options => '{"engine": "aggregate", "alpha": 50,
       "deploy": "never", "split": {"method": "column", "column": "part"}, "exclude": ["lead_id", "created_at"]}');
CREATE TEMP TABLE means_here AS
SELECT avg(lead_scoring.score('dist@1', l)) AS v1, avg(lead_scoring.score('dist@2', l)) AS v2 FROM local_leads l;
SELECT v1 <> v2 AS versions_differ FROM means_here;
WITH w AS MATERIALIZED (SELECT avg(lead_scoring.score('dist', l)) AS mean FROM leads l)
SELECT abs(w.mean - h.v1) < 1e-12 AS workers_score_v1 FROM w, means_here h;
SELECT lead_scoring.deploy('dist', 2, 'stronger regularization')->>'deployed_version' AS deployed_version;
WITH w AS MATERIALIZED (SELECT avg(lead_scoring.score('dist', l)) AS mean FROM leads l)
SELECT abs(w.mean - h.v2) < 1e-12 AS workers_score_v2 FROM w, means_here h;
SELECT lead_scoring.rollback('dist', 'back to v1')->>'deployed_version' AS deployed_version;
WITH w AS MATERIALIZED (SELECT avg(lead_scoring.score('dist', l)) AS mean FROM leads l)
SELECT abs(w.mean - h.v1) < 1e-12 AS workers_score_v1_again FROM w, means_here h;

-- 6. Metrics over the distributed table: the same numbers as over the local copy.
CREATE TEMP TABLE metrics_here AS
SELECT lead_scoring.roc_auc(lead_scoring.score('dist', l), converted) AS roc_auc,
       lead_scoring.pr_auc(lead_scoring.score('dist', l), converted) AS pr_auc,
       lead_scoring.ks_statistic(lead_scoring.score('dist', l), converted) AS ks,
       lead_scoring.log_loss(lead_scoring.score('dist', l), converted) AS log_loss,
       lead_scoring.brier(lead_scoring.score('dist', l), converted) AS brier,
       lead_scoring.confusion(lead_scoring.score('dist', l), converted, 0.2) AS confusion
  FROM local_leads l;
WITH w AS MATERIALIZED (
  SELECT lead_scoring.roc_auc(lead_scoring.score('dist', l), converted) AS roc_auc,
         lead_scoring.pr_auc(lead_scoring.score('dist', l), converted) AS pr_auc,
         lead_scoring.ks_statistic(lead_scoring.score('dist', l), converted) AS ks,
         lead_scoring.log_loss(lead_scoring.score('dist', l), converted) AS log_loss,
         lead_scoring.brier(lead_scoring.score('dist', l), converted) AS brier,
         lead_scoring.confusion(lead_scoring.score('dist', l), converted, 0.2) AS confusion
    FROM leads l)
SELECT w.roc_auc = h.roc_auc AS same_roc_auc, w.pr_auc = h.pr_auc AS same_pr_auc, w.ks = h.ks AS same_ks,
       abs(w.log_loss - h.log_loss) < 1e-12 AS same_log_loss,
       abs(w.brier - h.brier) < 1e-12 AS same_brier, w.confusion = h.confusion AS same_confusion
  FROM w, metrics_here h;
-- Citus splits each into per-shard partial aggregates (an Aggregate in every task), since each
-- has a combine function and a state type that is not a pseudo-type: log_loss and brier send
-- float8[] sums, confusion int8[] counts, and roc_auc, pr_auc and ks_statistic a score_counts
-- value (positives and negatives per distinct score, exact), merged on the coordinator.
EXPLAIN (COSTS OFF) SELECT lead_scoring.log_loss(lead_scoring.score('dist', l), converted) FROM leads l;
EXPLAIN (COSTS OFF)
SELECT lead_scoring.roc_auc(lead_scoring.score('dist', l), converted),
       lead_scoring.pr_auc(lead_scoring.score('dist', l), converted),
       lead_scoring.ks_statistic(lead_scoring.score('dist', l), converted)
  FROM leads l;
SELECT abs((lead_scoring.evaluate('dist', 'leads')->>'roc_auc')::float8
         - (lead_scoring.evaluate('dist', 'local_leads')->>'roc_auc')::float8) < 1e-12 AS evaluate_agrees;

-- 7. attach() on the distributed table: the trigger runs on the shards and scores rows inserted
-- through the coordinator. Alerts (NOTIFY) cannot be sent from the workers.
SELECT lead_scoring.attach('leads', 'dist');
SELECT lead_scoring.attach('leads', 'dist', alerts => false);
INSERT INTO leads (lead_id, created_at, lead_source, seniority, industry, company_size, funding_stage, country,
                   personal_email, pricing_visits, demo_requests, webinars, content_downloads, email_opens,
                   engagement_velocity, converted, part)
SELECT lead_id + 100000, created_at, lead_source, seniority, industry, company_size, funding_stage, country,
       personal_email, pricing_visits, demo_requests, webinars, content_downloads, email_opens,
       engagement_velocity, converted, part
  FROM local_leads WHERE lead_id <= 200;
CREATE TEMP TABLE inserted AS SELECT lead_id - 100000 AS lead_id, lead_score, lead_tier FROM leads WHERE lead_id > 100000;
SELECT count(*) AS inserted, count(*) FILTER (WHERE i.lead_score IS DISTINCT FROM h.score) AS different_scores,
       count(*) FILTER (WHERE i.lead_tier IS DISTINCT FROM h.tier) AS different_tiers
  FROM inserted i JOIN scored_here h USING (lead_id);
DELETE FROM leads WHERE lead_id > 100000;
-- An experiment's assigning trigger would have to write the experiment tables from the shards:
-- start_experiment() refuses a Citus table.
SELECT lead_scoring.start_experiment('on_workers', 'dist', 'leads', options => '{"key": "lead_id"}');

-- 8. drift(), monitor() and backtest() read the distributed table as they read a local one.
CREATE TEMP TABLE drift_here AS SELECT * FROM lead_scoring.drift('dist', 'local_leads');
SELECT count(*) AS features, count(*) FILTER (WHERE abs(w.psi - h.psi) > 1e-12 OR w.status <> h.status) AS different
  FROM lead_scoring.drift('dist', 'leads') w JOIN drift_here h USING (feature);
SELECT status FROM lead_scoring.monitor('dist', 'leads');
CREATE TEMP TABLE backtest_here AS SELECT * FROM lead_scoring.backtest('dist', 'local_leads', 'created_at', interval '3 months');
SELECT count(*) AS periods,
       count(*) FILTER (WHERE w.leads <> h.leads OR abs(w.roc_auc - h.roc_auc) > 1e-12) AS different
  FROM lead_scoring.backtest('dist', 'leads', 'created_at', interval '3 months') w JOIN backtest_here h USING (period_start);
