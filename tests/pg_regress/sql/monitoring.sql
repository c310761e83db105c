-- Monitoring on the demo CRM: a model trained before the product change of 2026-04-01, drift()
-- and monitor() on a quiet period it never saw and on the leads after the change, the
-- monitoring table, the alert on lead_scoring_alerts, a backtest per quarter, and the errors.
SET TIME ZONE 'UTC';
SELECT lead_scoring.generate_demo(20000, 42) ->> 'leads' AS demo_leads;
-- Ordered views, so the training split does not depend on the join's row order.
CREATE VIEW demo_before AS SELECT * FROM lead_scoring_demo.lead_features WHERE created_at < '2025-10-01' ORDER BY lead_id;
CREATE VIEW demo_quiet  AS SELECT * FROM lead_scoring_demo.lead_features WHERE created_at >= '2025-10-01' AND created_at < '2026-01-01' ORDER BY lead_id;
-- After the change; June 2026 is left out: its leads' 30-day features are cut off by the end of the data.
CREATE VIEW demo_after  AS SELECT * FROM lead_scoring_demo.lead_features WHERE created_at >= '2026-04-01' AND created_at < '2026-06-01' ORDER BY lead_id;
SELECT model_name, version, round((metrics->'test'->>'roc_auc')::numeric, 2) AS test_roc_auc
  FROM lead_scoring.train('demo_watch', 'demo_before', 'converted', options => '{"exclude": ["lead_id"]}');

-- The reference stored at training: deciles of pricing_visits on the training part.
SELECT jsonb_array_length(f->'bins'->'shares') AS pricing_bins, round((f->>'missing_share')::numeric, 2) AS missing_share
  FROM lead_scoring.models, jsonb_array_elements(reference->'features') f
 WHERE name = 'demo_watch' AND f->>'name' = 'pricing_visits';

-- A quarter before the change that training never saw: nothing moved.
SELECT feature, round(psi::numeric, 2) AS psi, status
  FROM lead_scoring.drift('demo_watch', 'demo_quiet') ORDER BY psi DESC, feature LIMIT 5;
SELECT count(*) FILTER (WHERE status <> 'ok') AS not_ok FROM lead_scoring.drift('demo_watch', 'demo_quiet');

-- After the change most page visits go to the new pricing page: pricing_visits alerts, alone.
SELECT feature, round(psi::numeric, 2) AS psi, status
  FROM lead_scoring.drift('demo_watch', 'demo_after') WHERE status <> 'ok' ORDER BY psi DESC;
-- Stricter thresholds flag more.
SELECT count(*) FILTER (WHERE status = 'alert') AS alerts, count(*) FILTER (WHERE status = 'warn') AS warns
  FROM lead_scoring.drift('demo_watch', 'demo_after', warn => 0.02, alert => 0.1);

-- A second session listens on lead_scoring_alerts (dblink shows the payload, not the PID).
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('monitor_listener', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
                                                 split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('monitor_listener', 'LISTEN lead_scoring_alerts');

SELECT model_name, version, source, rows, positives, status, recommendation
  FROM lead_scoring.monitor('demo_watch', 'demo_quiet');
SELECT model_name, version, source, rows, positives, status, recommendation
  FROM lead_scoring.monitor('demo_watch', 'demo_after');

SELECT pg_sleep(0.3);
-- One alert, for the second check only: the payload names the monitoring row it wrote.
SELECT notify_name, extra::jsonb - 'monitoring_id' AS payload,
       (extra::jsonb->>'monitoring_id')::bigint = (SELECT max(id) FROM lead_scoring.monitoring WHERE model_name = 'demo_watch') AS row_id
  FROM dblink_get_notify('monitor_listener');
SELECT dblink_disconnect('monitor_listener');

-- The history: each check next to the test baseline, and conversion per tier.
SELECT row_number() OVER (ORDER BY id) AS check, status, round((metrics->>'roc_auc')::numeric, 2) AS roc_auc, round((baseline->>'roc_auc')::numeric, 2) AS test_roc_auc,
       round((metrics->>'precision')::numeric, 2) AS precision, round((baseline->>'precision')::numeric, 2) AS test_precision,
       round((metrics->>'calibration_error')::numeric, 3) AS calibration_error,
       round((baseline->>'calibration_error')::numeric, 3) AS test_calibration_error, checked_by
  FROM lead_scoring.monitoring WHERE model_name = 'demo_watch' ORDER BY id;
SELECT m.source, t->>'tier' AS tier, (t->>'leads')::int AS leads, round((t->>'conversion_rate')::numeric, 2) AS conversion_rate
  FROM lead_scoring.monitoring m, jsonb_array_elements(m.metrics->'tiers') WITH ORDINALITY AS x(t, n)
 WHERE m.model_name = 'demo_watch' ORDER BY m.id, n;
-- Each compared metric next to its test value, with the noise test behind "degraded".
SELECT v->>'metric' AS metric, round((v->>'value')::numeric, 3) AS value, round((v->>'baseline')::numeric, 3) AS baseline,
       round((v->>'z')::numeric, 1) AS z, v->>'degraded' AS degraded
  FROM lead_scoring.monitoring m, jsonb_array_elements(m.metrics->'vs_baseline') v
 WHERE m.model_name = 'demo_watch' AND m.source = 'demo_after' ORDER BY 1;

-- Backtest per quarter over the whole history: the last quarter (the change) decays.
SELECT to_char(period_start, 'YYYY-MM-DD') AS period_start, leads, conversions, round(roc_auc::numeric, 2) AS roc_auc,
       round(precision::numeric, 2) AS precision, round(recall::numeric, 2) AS recall,
       round(calibration_error::numeric, 2) AS calibration_error
  FROM lead_scoring.backtest('demo_watch', 'lead_scoring_demo.lead_features', 'created_at', '3 months');

-- Why calibration error is reported but not alerted on: month to month it moves around its test
-- value with nothing changed (before 2026-04), up to about twice it, so a 5% rule would alert on quiet months.
SELECT to_char(period_start, 'YYYY-MM') AS month, leads, round(calibration_error::numeric, 3) AS calibration_error
  FROM lead_scoring.backtest('demo_watch', 'SELECT * FROM lead_scoring_demo.lead_features WHERE created_at < ''2026-06-01''',
                             'created_at', '1 month');

-- Errors.
SELECT * FROM lead_scoring.drift('no_such_model', 'demo_after');
SELECT * FROM lead_scoring.monitor('demo_watch', 'SELECT lead_id, pricing_visits FROM demo_after');
SELECT * FROM lead_scoring.monitor('demo_watch', 'SELECT * FROM demo_after WHERE created_at < ''2026-01-01''');
SELECT * FROM lead_scoring.backtest('demo_watch', 'demo_after', 'created_at', '0 days');
SELECT * FROM lead_scoring.drift('demo_watch', 'demo_after', warn => 0.3);
SELECT * FROM lead_scoring.drift('demo_watch', 'demo_after', warn => NULL);
SELECT * FROM lead_scoring.drift('demo_watch', 'demo_after', warn => 0, alert => 0.2);
SELECT * FROM lead_scoring.drift('demo_watch', 'SELECT * FROM demo_after WHERE false');
SELECT * FROM lead_scoring.drift('demo_watch', 'SELECT lead_id, seniority FROM demo_after');
SELECT * FROM lead_scoring.monitor('no_such_model', 'demo_after');
SELECT * FROM lead_scoring.backtest('demo_watch', 'demo_after', 'lead_source', '1 month');
SELECT * FROM lead_scoring.backtest('demo_watch', 'demo_after', 'created_at', '1 minute');
SELECT count(*) AS failed_checks_wrote_nothing FROM lead_scoring.monitoring WHERE model_name = 'demo_watch';
