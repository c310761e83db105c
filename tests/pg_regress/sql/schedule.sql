-- Scheduled retraining really runs: the scratch cluster preloads pg_cron (scripts/regress.sh,
-- cron.database_name = this database). The model name is hostile on purpose: the job's SQL
-- must quote it. pg_cron 1.4 schedules by the minute, so the wait is up to about a minute.
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

-- Every minute; the job runs train() as this role, in this database.
SELECT lead_scoring.schedule_retraining(E'sched''); DROP TABLE sched_leads; --\\', 'sched_leads', 'converted', '* * * * *',
                                        options => '{"exclude": ["id"], "deploy": "if_better"}') > 0 AS scheduled;
SELECT jobname, schedule, command FROM cron.job;

-- Wait (committed data, so the cron worker sees the job) until pg_cron reports the first run
-- finished; its train() committed before that.
CREATE FUNCTION wait_for_first_run(seconds int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. seconds LOOP
        IF EXISTS (SELECT 1 FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')) THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(1);
    END LOOP;
    RETURN false;
END $$;
SELECT wait_for_first_run(150) AS job_ran;
SELECT version, deployed FROM lead_scoring.models WHERE name = E'sched''); DROP TABLE sched_leads; --\\' AND version <= 2 ORDER BY version;
SELECT status, return_message FROM cron.job_run_details ORDER BY runid LIMIT 1;
SELECT count(*) AS leads_still_there FROM sched_leads;
SELECT event, detail->>'kind' AS kind, detail->>'schedule' AS schedule FROM lead_scoring.model_events
 WHERE model_name = E'sched''); DROP TABLE sched_leads; --\\' AND event IN ('scheduled', 'deploy_decision') AND coalesce(version, 0) <= 2
 ORDER BY id;

-- Unscheduling removes the job and logs it.
SELECT job_name, schedule FROM lead_scoring.unschedule(E'sched''); DROP TABLE sched_leads; --\\');
SELECT count(*) AS jobs_left FROM cron.job;
SELECT event, detail->>'kind' AS kind FROM lead_scoring.model_events WHERE event = 'unscheduled';
