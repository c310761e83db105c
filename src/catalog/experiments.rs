//! `lead_scoring.experiments` and `lead_scoring.experiment_assignments` (DDL and the assigning
//! trigger in sql/experiments.sql): one row per prospective experiment, one per assigned lead.

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};

use crate::errors::{invalid, raise_with_hint};
use crate::pg::catalog_settings::CatalogSettings;

pgrx::extension_sql_file!("../../sql/experiments.sql", name = "experiments", requires = ["catalog"]);

/// An experiment as stored.
pub struct ExperimentRow {
    pub name: String,
    pub model: String,
    pub target: String,
    pub key_column: String,
    pub arms: serde_json::Value,
    pub fraction: f64,
    pub options: serde_json::Value,
    pub sample_size: Option<i64>,
    pub assigned: i64,
    pub status: String,
    pub owner: String,
}

/// Whether an experiment of that name exists.
pub fn experiment_exists(name: &str) -> bool {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<bool>("SELECT EXISTS (SELECT FROM lead_scoring.experiments WHERE name = $1)", &[name.into()])
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Stores a new experiment (running, owned by the current role).
pub fn insert_experiment(e: &ExperimentRow) {
    let _settings = CatalogSettings::pin();
    Spi::run_with_args(
        "INSERT INTO lead_scoring.experiments (name, model, target, key_column, arms, fraction, options, sample_size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            e.name.as_str().into(),
            e.model.as_str().into(),
            e.target.as_str().into(),
            e.key_column.as_str().into(),
            JsonB(e.arms.clone()).into(),
            e.fraction.into(),
            JsonB(e.options.clone()).into(),
            e.sample_size.into(),
        ],
    )
    .unwrap_or_else(|err| invalid(format!("cannot write lead_scoring.experiments: {err}")));
}

/// The experiment `name`, or an ERROR naming it.
pub fn load_experiment(name: &str) -> ExperimentRow {
    let _settings = CatalogSettings::pin();
    let row = Spi::connect(|client| {
        let table = client
            .select(
                "SELECT name, model, target, key_column, arms, fraction, options, sample_size, assigned, status, owner::text
                   FROM lead_scoring.experiments WHERE name = $1",
                None,
                &[name.into()],
            )
            .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.experiments: {e}")));
        let r = table.into_iter().next()?;
        let text = |i: usize| r.get::<String>(i).ok().flatten().unwrap_or_default();
        Some(ExperimentRow {
            name: text(1),
            model: text(2),
            target: text(3),
            key_column: text(4),
            arms: r.get::<JsonB>(5).ok().flatten().map(|j| j.0).unwrap_or_default(),
            fraction: r.get::<f64>(6).ok().flatten().unwrap_or(f64::NAN),
            options: r.get::<JsonB>(7).ok().flatten().map(|j| j.0).unwrap_or_default(),
            sample_size: r.get::<i64>(8).ok().flatten(),
            assigned: r.get::<i64>(9).ok().flatten().unwrap_or(0),
            status: text(10),
            owner: text(11),
        })
    });
    row.unwrap_or_else(|| {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("experiment \"{name}\" does not exist"),
            "lead_scoring.start_experiment() creates experiments; SELECT name FROM lead_scoring.experiments lists them",
        )
    })
}

/// How many leads the experiment assigned.
pub fn assignment_count(name: &str) -> i64 {
    let _settings = CatalogSettings::pin();
    Spi::get_one_with_args::<i64>(
        "SELECT count(*) FROM lead_scoring.experiment_assignments WHERE experiment = $1",
        &[name.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot read lead_scoring.experiment_assignments: {e}")))
    .unwrap_or(0)
}

/// Marks an experiment stopped.
pub fn mark_stopped(name: &str) {
    let _settings = CatalogSettings::pin();
    Spi::run_with_args(
        "UPDATE lead_scoring.experiments SET status = 'stopped', stopped_at = clock_timestamp() WHERE name = $1",
        &[name.into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot write lead_scoring.experiments: {e}")));
}

/// One assigned lead with what the report needs from the target row (NULL outcome when the
/// lead's row is gone).
pub struct AssignedLead {
    pub arm: String,
    pub converted: Option<bool>,
    pub days_to_conversion: Option<f64>,
    pub deal_value: Option<f64>,
}

/// The experiment's assigned leads joined with their rows in the target, by arm and routed
/// score (highest first, ties in a random order fixed by the lead key). `converted_sql`,
/// `days_sql` and `value_sql` are expressions over the target row `t`.
pub fn assigned_leads(e: &ExperimentRow, converted_sql: &str, days_sql: &str, value_sql: &str) -> Vec<AssignedLead> {
    let _settings = CatalogSettings::pin();
    let key = crate::errors::quote_ident(&e.key_column);
    let sql = format!(
        "SELECT a.arm, ({converted_sql})::bool, ({days_sql})::float8, ({value_sql})::float8
           FROM lead_scoring.experiment_assignments a
           LEFT JOIN {target} t ON pg_catalog.to_jsonb(t.{key}) OPERATOR(pg_catalog.#>>) '{{}}' OPERATOR(pg_catalog.=) a.lead_key
          WHERE a.experiment OPERATOR(pg_catalog.=) $1
          ORDER BY a.arm, a.routed_score DESC NULLS LAST, lead_scoring.experiment_draw(a.experiment, a.lead_key, 2)",
        target = e.target
    );
    Spi::connect(|client| {
        let rows = client
            .select(&sql, None, &[e.name.as_str().into()])
            .unwrap_or_else(|err| invalid(format!("cannot read the experiment's leads: {err}")));
        rows.into_iter()
            .map(|r| AssignedLead {
                arm: r.get::<String>(1).ok().flatten().unwrap_or_default(),
                converted: r.get::<bool>(2).ok().flatten(),
                days_to_conversion: r.get::<f64>(3).ok().flatten(),
                deal_value: r.get::<f64>(4).ok().flatten(),
            })
            .collect()
    })
}

/// Only the experiment's owner, its members and superusers may stop it or read its report (the
/// arms of a blind experiment are the owner's to see).
pub fn require_experiment_owner(e: &ExperimentRow) {
    let _settings = CatalogSettings::pin();
    let allowed = Spi::get_one_with_args::<bool>(
        "SELECT coalesce(pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'),
                         (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user))
           FROM (SELECT $1::name AS owner) o LEFT JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) o.owner",
        &[e.owner.as_str().into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false);
    if !allowed {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!(
                "only the role that started experiment \"{}\", its members and superusers may stop it or read its arms",
                e.name
            ),
            format!("it belongs to role \"{}\"", e.owner),
        );
    }
}
