//! `start_experiment()` and `stop_experiment()`: the experiment's catalog row and the row
//! trigger (`lead_scoring.experiment_assign_row()`, sql/experiments.sql) that assigns new leads.

use pgrx::prelude::*;
use pgrx::{JsonB, PgRelation, PgSqlErrorCode};
use serde_json::json;

use crate::api::experiments::options::{check_columns, parse_options};
use crate::api::serving::attach::{check_model, column_type, key_column_for, require_features, run_formatted, table_oid};
use crate::catalog::distribution::is_distributed;
use crate::catalog::experiments::{
    assignment_count, experiment_exists, insert_experiment, load_experiment, mark_stopped, require_experiment_owner,
    ExperimentRow,
};
use crate::core::error::sql_float;
use crate::errors::{invalid, raise_with_hint, required};
use crate::executor::attachment::{qualified_name, table_display};

/// The trigger's name on the target: PostgreSQL names are at most 63 bytes.
const TRIGGER_PREFIX: &str = "lead_scoring_experiment_";
const MAX_NAME: usize = 63 - TRIGGER_PREFIX.len();

fn trigger_name(experiment: &str) -> String {
    format!("{TRIGGER_PREFIX}{experiment}")
}

/// Checks one arm's routing: 'model' (the experiment's model), 'random', 'model:NAME' (another
/// model, or the same one for a control-vs-control check) or a numeric column of the target
/// (an existing score, e.g. a rule-based one; higher = worked first). Returns it trimmed.
fn check_routing(table: pg_sys::Oid, model: &str, position: &str, routing: Option<&str>) -> String {
    let routing = routing.map(str::trim).unwrap_or_default();
    if routing.is_empty() {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("the {position} arm is empty"),
            "each arm is 'model', 'random', 'model:NAME' or a numeric column of the target (an existing score)",
        );
    }
    if routing == "model" {
        require_features(table, model, "target");
    } else if let Some(other) = routing.strip_prefix("model:") {
        let other = check_model(other);
        require_features(table, &other, "target");
    } else if routing != "random" {
        let numeric = ["smallint", "integer", "bigint", "real", "double precision"];
        match column_type(table, routing) {
            Some(t) if numeric.contains(&t.as_str()) || t.starts_with("numeric") => {}
            found => raise_with_hint(
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!(
                    "the {position} arm \"{routing}\" is not 'model', 'random', 'model:NAME' or a numeric column of {}{}",
                    table_display(table),
                    found.map(|t| format!(" (it is a {t} column)")).unwrap_or_default()
                ),
                "an arm routes leads by a score: the model's, another model's, a random number or an existing score column",
            ),
        }
    }
    routing.to_string()
}

/// Starts experiment `name`: from now on a trigger on `target` assigns each new lead, by a hash
/// of the experiment's name and the lead's key, to the treatment arm (share `fraction`) or the
/// control arm, routed by `arms[1]` and `arms[2]` ('model', 'random', 'model:NAME' or a numeric
/// column), and records arm and routed score in `lead_scoring.experiment_assignments`. Options:
/// key, blind, sample_size, capacity, outcome, created_column, converted_at_column,
/// value_column, arm_column, score_column (README "Prospective experiments").
#[pg_extern(volatile, parallel_unsafe)]
fn start_experiment(
    name: Option<&str>,
    model_name: Option<&str>,
    target: Option<PgRelation>,
    arms: default!(Option<Vec<Option<String>>>, "ARRAY['model', 'random']"),
    fraction: default!(Option<f64>, "0.5"),
    options: default!(Option<JsonB>, "'{}'"),
) -> JsonB {
    let name = required(name, "name").trim().to_string();
    if name.is_empty() || name.len() > MAX_NAME {
        invalid(format!("an experiment name must have 1 to {MAX_NAME} bytes, got \"{name}\""));
    }
    let model = check_model(required(model_name, "model_name"));
    let table = table_oid(required(target, "target"));
    if is_distributed(table) {
        // The assigning trigger would run on the workers' shards, where the experiment tables
        // are not (local to the coordinator) or, as reference tables, are written only by a
        // nested distributed write from inside the shard's statement, which Citus refuses and,
        // forced with citus.allow_nested_distributed_execution, runs incorrectly.
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!(
                "{} is a Citus table: start_experiment() assigns leads in a row trigger that writes the experiment catalog, which a trigger on a worker's shard cannot do",
                table_display(table)
            ),
            "run the experiment on a regular table of the coordinator (for example the table new leads arrive in before they are moved to the distributed one)",
        );
    }
    let arms = required(arms, "arms");
    if arms.len() != 2 {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("arms must name two routings, the treatment's and the control's; got {}", arms.len()),
            "for example ARRAY['model', 'random'] or ARRAY['model', 'rule_score']",
        );
    }
    let fraction = required(fraction, "fraction");
    if !(fraction > 0.0 && fraction < 1.0) {
        invalid(format!(
            "fraction (the treatment arm's share of new leads) must be strictly between 0 and 1, got {}",
            sql_float(fraction)
        ));
    }
    let raw_options = required(options, "options").0;
    let opts = parse_options(&raw_options);
    let treatment = check_routing(table, &model, "treatment", arms[0].as_deref());
    let control = check_routing(table, &model, "control", arms[1].as_deref());
    let key = key_column_for(table, opts.key.as_deref()).unwrap_or_else(|| {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("{} has no one-column primary key to assign leads by", table_display(table)),
            "name the lead key column with options.key, e.g. '{\"key\": \"lead_id\"}'",
        )
    });
    check_columns(table, &opts);
    for (column, wanted) in [(&opts.arm_column, "text"), (&opts.score_column, "double precision")] {
        let Some(column) = column else { continue };
        match column_type(table, column) {
            None => run_formatted(
                "SELECT pg_catalog.format('ALTER TABLE %s ADD COLUMN %I ' || $3, $1::regclass, $2)",
                &[table.into(), column.as_str().into(), wanted.into()],
            ),
            Some(t) if t == wanted => {}
            Some(t) => raise_with_hint(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                format!("column \"{column}\" of {} has type {t}, but the experiment writes {wanted} there", table_display(table)),
                "name another column, or drop this one so start_experiment() creates it",
            ),
        }
    }
    if experiment_exists(&name) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_DUPLICATE_OBJECT,
            format!("experiment \"{name}\" already exists"),
            "choose another name; experiment names stay taken after stop_experiment() so reports remain readable",
        );
    }
    let row = ExperimentRow {
        name: name.clone(),
        model: model.clone(),
        target: qualified_name(table),
        key_column: key.clone(),
        arms: json!({"treatment": treatment, "control": control}),
        fraction,
        options: raw_options,
        sample_size: opts.sample_size,
        assigned: 0,
        status: "running".into(),
        owner: String::new(),
    };
    insert_experiment(&row);
    run_formatted(
        "SELECT pg_catalog.format('CREATE TRIGGER %I BEFORE INSERT ON %s FOR EACH ROW
                        EXECUTE FUNCTION lead_scoring.experiment_assign_row(%L)', $1, $2::regclass, $3)",
        &[trigger_name(&name).as_str().into(), table.into(), name.as_str().into()],
    );
    JsonB(json!({
        "experiment": name, "model": model, "target": row.target, "key": key,
        "arms": row.arms, "fraction": fraction, "blind": opts.blind, "sample_size": opts.sample_size,
        "capacity": opts.capacity, "trigger": trigger_name(&name),
    }))
}

/// Stops experiment `name`: its trigger is dropped, so new leads get no arm; the assignments
/// stay for `experiment_report()`. Stopping a stopped experiment is an ERROR.
#[pg_extern(volatile, parallel_unsafe)]
fn stop_experiment(name: Option<&str>) -> JsonB {
    let e = load_experiment(required(name, "name").trim());
    require_experiment_owner(&e);
    if e.status == "stopped" {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("experiment \"{}\" is already stopped", e.name),
            "experiment_report() still reads it",
        );
    }
    let table = Spi::get_one_with_args::<pg_sys::Oid>("SELECT pg_catalog.to_regclass($1)::oid", &[e.target.as_str().into()])
        .ok()
        .flatten();
    if let Some(table) = table {
        run_formatted(
            "SELECT pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', $1, $2::regclass)",
            &[trigger_name(&e.name).as_str().into(), table.into()],
        );
    }
    mark_stopped(&e.name);
    JsonB(json!({"experiment": e.name, "status": "stopped", "was": e.status, "assigned": assignment_count(&e.name)}))
}
