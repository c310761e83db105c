//! Scheduling with pg_cron (the test cluster preloads it, see `pg_test` in lib.rs): the jobs
//! and their exact commands, a hostile model name, rescheduling, unscheduling, the event log,
//! and the errors. That a job really runs on its schedule is tested in
//! tests/pg_regress/sql/schedule.sql, against committed data a cron worker can see.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::fixtures::{make_leads, train_default};

    const HOSTILE: &str = "x'); DROP TABLE lead_scoring.models; --\\";

    fn with_cron() {
        Spi::run("CREATE EXTENSION IF NOT EXISTS pg_cron").unwrap();
    }

    fn job(name: &str) -> (Option<String>, Option<String>) {
        Spi::get_two_with_args::<String, String>(
            "SELECT j.schedule, j.command FROM (SELECT 1) one LEFT JOIN cron.job j ON j.jobname = $1",
            &[name.into()],
        )
        .unwrap()
    }

    #[pg_test(error = "pg_cron is loaded but its extension is not created in database \"pgrx_tests\"")]
    fn without_the_extension_the_error_says_how_to_get_it() {
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.schedule_monitoring('m', 'leads', '0 6 * * *')").unwrap();
    }

    #[pg_test]
    fn retraining_job_runs_train_with_every_value_quoted() {
        with_cron();
        make_leads("leads", 1000);
        Spi::run_with_args(
            "SELECT lead_scoring.train($1, 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')",
            &[HOSTILE.into()],
        )
        .unwrap();
        let id = Spi::get_one_with_args::<i64>(
            "SELECT lead_scoring.schedule_retraining($1, 'leads', 'converted', '0 3 * * 0',
                    features => ARRAY['visits', 'source'], options => '{\"deploy\": \"always\", \"note\": null}'::jsonb - 'note')",
            &[HOSTILE.into()],
        )
        .unwrap()
        .unwrap();
        // The name is too long for pg_cron's 63-byte job names: cut, with a hash of the whole name.
        let name = crate::core::governance::job_name(crate::core::governance::JobKind::Retraining, HOSTILE);
        assert!(name.starts_with("lead_scoring:retraining:x'); DROP TABLE") && name.len() <= 63, "{name}");
        let (schedule, command) = job(&name);
        assert_eq!(schedule.as_deref(), Some("0 3 * * 0"));
        let command = command.unwrap();
        assert_eq!(
            command,
            "SELECT model_name, version, deployed FROM lead_scoring.train(E'x''); DROP TABLE lead_scoring.models; --\\\\', 'public.leads', 'converted', \
             features => ARRAY['visits', 'source']::text[], algorithm => 'logistic', options => '{\"deploy\":\"always\"}'::jsonb)"
        );
        // What the job runs trains version 2 of the same model and deploys it by the policy.
        Spi::run(&command).unwrap();
        let (version, deployed) = Spi::get_two_with_args::<i32, bool>(
            "SELECT version, deployed FROM lead_scoring.models WHERE name = $1 ORDER BY version DESC LIMIT 1",
            &[HOSTILE.into()],
        )
        .unwrap();
        assert_eq!((version, deployed), (Some(2), Some(true)));
        // Scheduling again replaces the job (same id, new schedule); each schedule is logged.
        let again = Spi::get_one_with_args::<i64>(
            "SELECT lead_scoring.schedule_retraining($1, 'leads', 'converted', '30 4 * * *')",
            &[HOSTILE.into()],
        )
        .unwrap()
        .unwrap();
        assert_eq!(again, id);
        assert_eq!(job(&name).0.as_deref(), Some("30 4 * * *"));
        let logged = Spi::get_one_with_args::<i64>(
            "SELECT count(*) FROM lead_scoring.model_events WHERE model_name = $1 AND event = 'scheduled'
                AND detail->>'kind' = 'retraining' AND (detail->>'jobid')::bigint = $2 AND detail->>'job' = $3",
            &[HOSTILE.into(), id.into(), name.as_str().into()],
        )
        .unwrap();
        assert_eq!(logged, Some(2));
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.models").unwrap(), Some(2), "nothing injected");
    }

    #[pg_test]
    fn monitoring_job_and_unschedule() {
        with_cron();
        make_leads("leads", 1000);
        train_default("m", "leads");
        let id = Spi::get_one::<i64>(
            "SELECT lead_scoring.schedule_monitoring('m', 'SELECT * FROM leads WHERE id > 500', '0 6 1 * *')",
        )
        .unwrap()
        .unwrap();
        let (schedule, command) = job("lead_scoring:monitoring:m");
        assert_eq!(schedule.as_deref(), Some("0 6 1 * *"));
        assert_eq!(command.as_deref(), Some("SELECT * FROM lead_scoring.monitor('m', 'SELECT * FROM leads WHERE id > 500')"));
        Spi::run("SELECT lead_scoring.schedule_retraining('m', 'leads', 'converted', '0 5 * * 1', options => '{\"exclude\": [\"id\"]}')").unwrap();
        // Unschedule one kind, then the rest.
        let removed =
            Spi::get_two::<String, i64>("SELECT job_name, jobid FROM lead_scoring.unschedule('m', 'monitoring')").unwrap();
        assert_eq!(removed, (Some("lead_scoring:monitoring:m".into()), Some(id)));
        assert_eq!(job("lead_scoring:monitoring:m").0, None);
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.unschedule('m')").unwrap(), Some(1));
        assert_eq!(Spi::get_one::<i64>("SELECT count(*) FROM cron.job").unwrap(), Some(0));
        let events = Spi::get_one::<String>(
            "SELECT string_agg(event || ':' || (detail->>'kind'), ',' ORDER BY id) FROM lead_scoring.model_events WHERE event IN ('scheduled', 'unscheduled')",
        )
        .unwrap();
        assert_eq!(
            events.as_deref(),
            Some("scheduled:monitoring,scheduled:retraining,unscheduled:monitoring,unscheduled:retraining")
        );
    }

    #[pg_test]
    fn jobs_run_as_the_role_that_scheduled_them() {
        with_cron();
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run(
            "CREATE ROLE ls_scheduler NOSUPERUSER NOLOGIN;
             GRANT USAGE ON SCHEMA cron TO ls_scheduler;
             GRANT SELECT ON leads TO ls_scheduler;
             GRANT INSERT, UPDATE ON lead_scoring.models TO ls_scheduler;
             GRANT INSERT ON lead_scoring.model_events, lead_scoring.monitoring TO ls_scheduler;
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA lead_scoring TO ls_scheduler;
             SET LOCAL ROLE ls_scheduler",
        )
        .unwrap();
        Spi::run("SELECT lead_scoring.schedule_monitoring('m', 'leads', '0 6 * * *')").unwrap();
        // Retraining someone else's model is refused now, not at every run of the job.
        let refused = Spi::get_one::<String>(
            "DO $$ BEGIN
                 PERFORM lead_scoring.schedule_retraining('m', 'leads', 'converted', '0 5 * * 1');
             EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'refused'; END $$;
             SELECT count(*)::text FROM cron.job WHERE jobname = 'lead_scoring:retraining:m'",
        )
        .unwrap();
        assert_eq!(refused.as_deref(), Some("0"));
        // A model of its own: retraining scheduled, also as the caller.
        Spi::run("SELECT lead_scoring.train('own', 'leads', 'converted', options => '{\"exclude\": [\"id\"]}')").unwrap();
        Spi::run("SELECT lead_scoring.schedule_retraining('own', 'leads', 'converted', '0 5 * * 1')").unwrap();
        Spi::run("RESET ROLE").unwrap();
        let users =
            Spi::get_one::<String>("SELECT string_agg(jobname || '=' || username, ',' ORDER BY jobname) FROM cron.job").unwrap();
        assert_eq!(users.as_deref(), Some("lead_scoring:monitoring:m=ls_scheduler,lead_scoring:retraining:own=ls_scheduler"));
    }

    #[pg_test]
    fn skip_unchanged_stores_no_version_for_the_same_rows_and_options() {
        make_leads("leads", 1000);
        let train = |options: &str| {
            Spi::get_one::<i32>(&format!(
                "SELECT version FROM lead_scoring.train('m', 'leads', 'converted', options => '{{\"exclude\": [\"id\"], {options}}}')"
            ))
            .unwrap()
            .unwrap()
        };
        let versions = || Spi::get_one::<i64>("SELECT count(*) FROM lead_scoring.models WHERE name = 'm'").unwrap().unwrap();
        assert_eq!(train(r#""skip_unchanged": true"#), 1);
        // The same rows (in another physical order after the UPDATE) and options: version 1 again.
        Spi::run("UPDATE leads SET noise = noise WHERE id % 2 = 0").unwrap();
        assert_eq!(train(r#""skip_unchanged": true"#), 1);
        assert_eq!(versions(), 1);
        // One new lead, or other options, or another label: a new version.
        Spi::run("INSERT INTO leads SELECT id + 5000, email, visits, source, opted_in, noise, created_at, converted FROM leads WHERE id = 1").unwrap();
        assert_eq!(train(r#""skip_unchanged": true"#), 2);
        assert_eq!(train(r#""skip_unchanged": true, "alpha": 0.5"#), 3);
        assert_eq!(train(r#""skip_unchanged": true, "alpha": 0.5"#), 3);
        // Without the option every call stores a version.
        assert_eq!(train(r#""alpha": 0.5"#), 4);
        assert_eq!(versions(), 4);
        let prints = Spi::get_one::<i64>(
            "SELECT count(DISTINCT training->>'source_fingerprint') FROM lead_scoring.models WHERE name = 'm' AND version IN (2, 3, 4)",
        )
        .unwrap();
        assert_eq!(prints, Some(1), "versions 2-4 read the same rows");
    }

    #[pg_test(error = "model \"m\" has no scheduled monitoring or retraining job")]
    fn unschedule_without_jobs() {
        with_cron();
        Spi::run("SELECT * FROM lead_scoring.unschedule('m')").unwrap();
    }

    #[pg_test(error = "unknown job \"both\"; use 'monitoring' or 'retraining' (or NULL for both)")]
    fn unschedule_unknown_kind() {
        with_cron();
        Spi::run("SELECT * FROM lead_scoring.unschedule('m', 'both')").unwrap();
    }

    #[pg_test(error = "model \"nope\" does not exist")]
    fn schedule_unknown_model() {
        with_cron();
        Spi::run("SELECT lead_scoring.schedule_monitoring('nope', 'x', '0 6 * * *')").unwrap();
    }

    #[pg_test(error = "schedule model \"m\" by its name, without @version: the job always uses the deployed version")]
    fn schedule_by_version() {
        with_cron();
        Spi::run("SELECT lead_scoring.schedule_monitoring('m@1', 'x', '0 6 * * *')").unwrap();
    }

    #[pg_test(error = "source \"missing_table\" does not exist")]
    fn schedule_missing_source() {
        with_cron();
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.schedule_monitoring('m', 'missing_table', '0 6 * * *')").unwrap();
    }

    #[pg_test(error = "label column \"won\" does not exist in leads")]
    fn schedule_retraining_missing_label() {
        with_cron();
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.schedule_retraining('m', 'leads', 'won', '0 6 * * *')").unwrap();
    }

    #[pg_test(error = "option \"deploy\" must be \"always\", \"if_better\", \"never\" or \"approval\", got \"sometimes\"")]
    fn schedule_retraining_bad_options() {
        with_cron();
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.schedule_retraining('m', 'leads', 'converted', '0 6 * * *', options => '{\"deploy\": \"sometimes\"}')").unwrap();
    }

    #[pg_test(error = "unknown algorithm \"forest\"; available: logistic, gbm, auto")]
    fn schedule_retraining_bad_algorithm() {
        with_cron();
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.schedule_retraining('m', 'leads', 'converted', '0 6 * * *', algorithm => 'forest')")
            .unwrap();
    }

    #[pg_test(error = "schedule must not be NULL")]
    fn schedule_null_schedule() {
        with_cron();
        make_leads("leads", 1000);
        train_default("m", "leads");
        Spi::run("SELECT lead_scoring.schedule_monitoring('m', 'leads', NULL)").unwrap();
    }
}
