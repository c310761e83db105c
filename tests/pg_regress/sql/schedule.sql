-- Scheduling: pg_cron jobs that retrain or monitor a model on a schedule, and they really run:
-- the scratch cluster preloads pg_cron (scripts/regress.sh, cron.database_name = this
-- database). The model name is hostile on purpose: the jobs' SQL must quote it. pg_cron 1.4
-- schedules by the minute, so both jobs are scheduled in one statement (one transaction: they
-- run in the same minute) and the wait is up to about a minute.
CREATE EXTENSION pg_cron;
SELECT setseed(0.5);
CREATE TABLE sched_leads AS
SELECT id, floor(random() * 10)::int AS visits,
       (ARRAY['Google', 'Reference', 'Chat'])[1 + floor(random() * 3)::int] AS source,
       false AS converted
  FROM generate_series(1, 600) id;
UPDATE sched_leads SET converted = random() < 1 / (1 + exp(-(-3 + 0.5 * visits + CASE source WHEN 'Reference' THEN 1.2 ELSE 0 END)));
SELECT version, deployed FROM lead_scoring.train(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', 'converted',
                                                  options => '{"exclude": ["id"]}');

-- Every minute; the jobs run train() and monitor() as this role, in this database.
SELECT lead_scoring.schedule_retraining(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', 'converted', '* * * * *',
                                        options => '{"exclude": ["id"], "deploy": "if_better"}') > 0
       AND lead_scoring.schedule_monitoring(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', '* * * * *') > 0 AS scheduled;
SELECT jobname, schedule, command FROM cron.job ORDER BY jobname;

-- Wait (committed data, so the cron worker sees the jobs) until pg_cron reports a finished run
-- of each job; its train() or monitor() committed before that.
CREATE FUNCTION wait_for_first_runs(seconds int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. seconds LOOP
        IF (SELECT count(DISTINCT jobid) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')) = 2 THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(1);
    END LOOP;
    RETURN false;
END $$;
SELECT wait_for_first_runs(150) AS jobs_ran;
SELECT version, deployed FROM lead_scoring.models WHERE name = E'sched''); DROP TABLE sched_leads; --\\' AND version <= 2 ORDER BY version;
SELECT j.jobname, d.status, d.return_message
  FROM cron.job_run_details d JOIN cron.job j USING (jobid)
 WHERE d.runid IN (SELECT min(runid) FROM cron.job_run_details GROUP BY jobid) ORDER BY j.jobname;
-- The monitoring job's first run wrote its row. Which version it checked depends on whether the
-- retraining of the same minute had deployed version 2 yet; both were trained on the same rows
-- and measure the same, so the row does not.
SELECT count(DISTINCT metrics->'test') AS distinct_test_metrics FROM lead_scoring.models
 WHERE name = E'sched''); DROP TABLE sched_leads; --\\' AND version <= 2;
SELECT model_name, source, rows, positives, status, recommendation, checked_by FROM lead_scoring.monitoring
 WHERE model_name = E'sched''); DROP TABLE sched_leads; --\\' ORDER BY id LIMIT 1;
SELECT count(*) AS leads_still_there FROM sched_leads;
SELECT event, detail->>'kind' AS kind, detail->>'schedule' AS schedule FROM lead_scoring.model_events
 WHERE model_name = E'sched''); DROP TABLE sched_leads; --\\' AND event IN ('scheduled', 'deploy_decision') AND coalesce(version, 0) <= 2
 ORDER BY id;

-- Unscheduling (without a kind: both jobs) removes the jobs and logs it.
SELECT job_name, schedule FROM lead_scoring.unschedule(E'sched''); DROP TABLE sched_leads; --\\') ORDER BY job_name;
SELECT count(*) AS jobs_left FROM cron.job;
SELECT event, detail->>'kind' AS kind FROM lead_scoring.model_events WHERE event = 'unscheduled' ORDER BY id;

-- Scheduling again replaces the schedule: one job per model and kind (February 31st never comes).
SELECT lead_scoring.schedule_monitoring(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', '0 6 31 2 *') > 0
       AND lead_scoring.schedule_monitoring(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', '0 7 31 2 *') > 0 AS scheduled_twice;
SELECT jobname, schedule FROM cron.job ORDER BY jobname;
SELECT job_name, schedule FROM lead_scoring.unschedule(E'sched''); DROP TABLE sched_leads; --\\', 'monitoring');

-- Mistakes are caught when scheduling, not when the job runs: the model, source, label,
-- algorithm, options and schedule are all checked; unscheduling needs a job to remove.
SELECT lead_scoring.schedule_monitoring('no_such_model', 'sched_leads', '0 6 * * 1');
SELECT lead_scoring.schedule_monitoring(E'sched''); DROP TABLE sched_leads; --\\', 'no_such_table', '0 6 * * 1');
SELECT lead_scoring.schedule_monitoring(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', 'every tuesday');
SELECT lead_scoring.schedule_monitoring(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', NULL);
SELECT lead_scoring.schedule_retraining(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', 'won', '0 3 * * 0');
SELECT lead_scoring.schedule_retraining(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', 'converted', '0 3 * * 0',
                                        algorithm => 'svm');
SELECT lead_scoring.schedule_retraining(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', 'converted', '0 3 * * 0',
                                        options => '{"alpha": "strong"}');
SELECT * FROM lead_scoring.unschedule(E'sched''); DROP TABLE sched_leads; --\\');
SELECT * FROM lead_scoring.unschedule(E'sched''); DROP TABLE sched_leads; --\\', 'scoring');
SELECT count(*) AS jobs_left FROM cron.job;
