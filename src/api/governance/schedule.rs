//! Scheduled monitoring and retraining through pg_cron: `schedule_monitoring`,
//! `schedule_retraining` and `unschedule`. Job names and commands are built in
//! `core::schedule` (every value quoted); here we check pg_cron is usable, validate the
//! arguments now rather than at 3 a.m., call `cron.schedule` and log to `model_events`.

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::json;

use crate::catalog::events::log_event;
use crate::catalog::models::{model_exists, parse_model_spec, require_owner};
use crate::core::data::SourceColumn;
use crate::core::governance::{cron_problem, job_name, monitoring_command, retraining_command, CronFacts, JobKind};
use crate::core::training::{parse_train_options, Algorithm};
use crate::errors::{core_ok, invalid, raise_with_hint, required};
use crate::executor::source::{describe, find_column, resolve_source, Source};

/// Raises an ERROR saying how to get pg_cron when it cannot schedule from this database.
fn require_pg_cron() {
    let facts = Spi::connect(|client| {
        let t = client.select(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_cron'),
                    -- pg_settings shows the setting only to superusers and pg_read_all_settings
                    -- (current_setting() would raise an ERROR); for others assume it is preloaded.
                    coalesce((SELECT 'pg_cron' = ANY (SELECT trim(both ' \"' FROM l) FROM pg_catalog.unnest(pg_catalog.string_to_array(s.setting, ',')) l)
                                FROM pg_catalog.pg_settings s WHERE s.name = 'shared_preload_libraries'), true),
                    EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'),
                    (SELECT s.setting FROM pg_catalog.pg_settings s WHERE s.name = 'cron.database_name'),
                    current_database()::text",
            Some(1),
            &[],
        )?;
        let r = t.first();
        Ok::<_, pgrx::spi::Error>(CronFacts {
            available: r.get(1)?.unwrap_or(false),
            preloaded: r.get(2)?.unwrap_or(false),
            created_here: r.get(3)?.unwrap_or(false),
            cron_database: r.get::<String>(4)?.filter(|s| !s.is_empty()),
            current_database: r.get(5)?.unwrap_or_default(),
        })
    })
    .unwrap_or_else(|e| invalid(format!("cannot check for pg_cron: {e}")));
    if let Some((message, hint)) = cron_problem(&facts) {
        raise_with_hint(PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED, message, hint);
    }
}

/// A model name (not 'name@version': a job follows the model) that has at least one version.
fn scheduled_model(model_name: Option<&str>) -> String {
    let spec = parse_model_spec(required(model_name, "model_name"));
    if spec.version.is_some() {
        invalid(format!(
            "schedule model \"{}\" by its name, without @version: the job always uses the deployed version",
            spec.name
        ));
    }
    let exists = model_exists(&spec.name);
    if !exists {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{}\" does not exist", spec.name),
            "train it once with lead_scoring.train(), then schedule it",
        );
    }
    spec.name
}

/// The source as the job should name it: a table or view schema-qualified (the job's session
/// has its own search_path), a query as given. Also checks it exists and is readable now.
fn job_source(source: &str) -> (String, Source, Vec<SourceColumn>) {
    let resolved = resolve_source(source);
    let text = if resolved.relation.is_none() {
        source.trim().trim_end_matches(';').trim().to_string()
    } else {
        Spi::get_one_with_args::<String>(
            "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass",
            &[resolved.from_sql.as_str().into()],
        )
        .ok()
        .flatten()
        .unwrap_or_else(|| resolved.from_sql.clone())
    };
    let columns = describe(&resolved);
    (text, resolved, columns)
}

/// Schedules (or reschedules: one job per model and kind) `command` and logs `scheduled`.
fn schedule_job(kind: JobKind, model: &str, schedule: &str, command: &str) -> i64 {
    let name = job_name(kind, model);
    if schedule.trim().is_empty() {
        invalid("schedule must not be empty; use cron syntax, e.g. '0 6 * * 1' (Mondays at 06:00)");
    }
    let jobid = Spi::get_one_with_args::<i64>(
        "SELECT cron.schedule($1, $2, $3)",
        &[name.as_str().into(), schedule.into(), command.into()],
    )
    .unwrap_or_else(|e| invalid(format!("pg_cron could not schedule \"{name}\": {e}")))
    .unwrap_or_else(|| invalid(format!("pg_cron returned no job id for \"{name}\"")));
    log_event(
        model,
        None,
        "scheduled",
        json!({"job": name, "jobid": jobid, "kind": kind.word(), "schedule": schedule, "command": command}),
        None,
    );
    jobid
}

/// Schedules `monitor(model_name, source)` with pg_cron on `schedule` (cron syntax, e.g.
/// '0 6 1 * *' for 06:00 on the 1st of each month; the server's time zone). Returns the
/// pg_cron job id; the job is named `lead_scoring:monitoring:<model>`, so scheduling again
/// replaces it. The job runs as the current role in this database.
#[pg_extern(volatile, parallel_unsafe)]
fn schedule_monitoring(model_name: Option<&str>, source: Option<&str>, schedule: Option<&str>) -> i64 {
    let model = scheduled_model(model_name);
    let (source, _, _) = job_source(required(source, "source"));
    let schedule = required(schedule, "schedule");
    require_pg_cron();
    schedule_job(JobKind::Monitoring, &model, schedule, &monitoring_command(&model, &source))
}

/// Schedules retraining with pg_cron: `train(model_name, source, label, features, algorithm,
/// options)` on `schedule`, so each run stores a new version that the deploy policy in
/// `options.deploy` (default `if_better`) deploys or not. Arguments are checked now (source,
/// label column, algorithm, options, and that the caller may train the name: only its owner,
/// the owner's members and superusers). Returns the pg_cron job id; the job is named
/// `lead_scoring:retraining:<model>` and runs as the current role, never as a superuser.
#[pg_extern(volatile, parallel_unsafe)]
fn schedule_retraining(
    model_name: Option<&str>,
    source: Option<&str>,
    label: Option<&str>,
    schedule: Option<&str>,
    features: default!(Option<Vec<Option<String>>>, "NULL"),
    algorithm: default!(Option<&str>, "'logistic'"),
    options: default!(Option<JsonB>, "'{}'"),
) -> i64 {
    let model = scheduled_model(model_name);
    // The job trains as the caller: refuse now what train() would refuse at every run.
    require_owner(&model);
    let (source, resolved, columns) = job_source(required(source, "source"));
    let label = required(label, "label");
    find_column(&columns, label, "label", &resolved);
    let schedule = required(schedule, "schedule");
    let algorithm = required(algorithm, "algorithm");
    core_ok(Algorithm::parse(algorithm));
    let options = options.map(|j| j.0).unwrap_or_else(|| json!({}));
    core_ok(parse_train_options(&options));
    let features: Option<Vec<String>> =
        features.map(|list| list.into_iter().map(|f| f.unwrap_or_else(|| invalid("features must not contain NULL"))).collect());
    require_pg_cron();
    let command = retraining_command(&model, &source, label, features.as_deref(), algorithm, &options);
    schedule_job(JobKind::Retraining, &model, schedule, &command)
}

/// Removes the model's scheduled jobs: `job` 'monitoring' or 'retraining', or NULL for both.
/// Returns the removed jobs and logs `unscheduled` for each; an error when there is none.
#[pg_extern(volatile, parallel_unsafe)]
fn unschedule(
    model_name: Option<&str>,
    job: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(job_name, String), name!(jobid, i64), name!(schedule, String), name!(command, String))> {
    let spec = parse_model_spec(required(model_name, "model_name"));
    let kinds: Vec<JobKind> = match job {
        Some(word) => vec![core_ok(JobKind::parse(word))],
        None => JobKind::ALL.to_vec(),
    };
    require_pg_cron();
    let mut removed = Vec::new();
    for kind in kinds {
        let name = job_name(kind, &spec.name);
        let jobs = Spi::connect(|client| {
            let t = client.select(
                "SELECT jobid, schedule, command FROM cron.job WHERE jobname = $1 ORDER BY jobid",
                None,
                &[name.as_str().into()],
            )?;
            t.map(|r| {
                Ok((
                    r.get::<i64>(1)?.unwrap_or_default(),
                    r.get::<String>(2)?.unwrap_or_default(),
                    r.get::<String>(3)?.unwrap_or_default(),
                ))
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
        .unwrap_or_else(|e| invalid(format!("cannot read cron.job: {e}")));
        for (jobid, schedule, command) in jobs {
            Spi::run_with_args("SELECT cron.unschedule($1)", &[jobid.into()])
                .unwrap_or_else(|e| invalid(format!("pg_cron could not unschedule job {jobid}: {e}")));
            log_event(
                &spec.name,
                None,
                "unscheduled",
                json!({"job": name, "jobid": jobid, "kind": kind.word(), "schedule": schedule}),
                None,
            );
            removed.push((name.clone(), jobid, schedule, command));
        }
    }
    if removed.is_empty() {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{}\" has no scheduled {} job", spec.name, job.unwrap_or("monitoring or retraining")),
            "scheduled jobs are listed in cron.job (SELECT jobname, schedule, command FROM cron.job)",
        );
    }
    TableIterator::new(removed)
}
