//! `options` of `start_experiment()`: parsed, bounded and checked against the target's columns
//! before anything is created.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use serde_json::Value;

use crate::api::serving::attach::column_type;
use crate::errors::{invalid, raise_with_hint};
use crate::executor::attachment::table_display;

const KEYS: [&str; 10] = [
    "key",
    "blind",
    "sample_size",
    "capacity",
    "outcome",
    "created_column",
    "converted_at_column",
    "value_column",
    "arm_column",
    "score_column",
];

/// The checked options.
pub struct ExperimentOptions {
    pub key: Option<String>,
    pub blind: bool,
    pub sample_size: Option<i64>,
    /// Share of each arm's leads that are worked, the highest routed scores first (1: all).
    pub capacity: f64,
    pub outcome: String,
    pub created_column: Option<String>,
    pub converted_at_column: Option<String>,
    pub value_column: Option<String>,
    pub arm_column: Option<String>,
    pub score_column: Option<String>,
}

fn text_option(o: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(v) => invalid(format!("options.{key} must be a column name (a non-empty string), got {v}")),
    }
}

/// Parses `options`; unknown keys, wrong types and values out of range are ERRORs.
pub fn parse_options(options: &Value) -> ExperimentOptions {
    let Some(o) = options.as_object() else { invalid(format!("options must be a JSON object, got {options}")) };
    if let Some(unknown) = o.keys().find(|k| !KEYS.contains(&k.as_str())) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("unknown experiment option \"{unknown}\""),
            format!("the options are {}", KEYS.join(", ")),
        );
    }
    let blind = match o.get("blind") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => invalid(format!("options.blind must be true or false, got {v}")),
    };
    let sample_size = match o.get("sample_size") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 2 => Some(n),
            _ => invalid(format!("options.sample_size must be an integer of at least 2 (leads in both arms together), got {v}")),
        },
    };
    let capacity = match o.get("capacity") {
        None | Some(Value::Null) => 1.0,
        Some(v) => match v.as_f64() {
            Some(c) if c > 0.0 && c <= 1.0 => c,
            _ => invalid(format!("options.capacity must be a share of leads worked in (0, 1], got {v}")),
        },
    };
    let arm_column = text_option(o, "arm_column");
    if blind && arm_column.is_some() {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "a blind experiment cannot write the arm into the lead's row (options.arm_column)",
            "in blind mode the arm is only in the catalog table experiment_assignments, readable by the experiment's owner",
        );
    }
    ExperimentOptions {
        key: text_option(o, "key"),
        blind,
        sample_size,
        capacity,
        outcome: text_option(o, "outcome").unwrap_or_else(|| "converted".to_string()),
        created_column: text_option(o, "created_column"),
        converted_at_column: text_option(o, "converted_at_column"),
        value_column: text_option(o, "value_column"),
        arm_column,
        score_column: text_option(o, "score_column"),
    }
}

/// Checks that the report's columns exist in `table` with usable types.
pub fn check_columns(table: pg_sys::Oid, o: &ExperimentOptions) {
    let times = ["date", "timestamp without time zone", "timestamp with time zone"];
    let numbers = ["smallint", "integer", "bigint", "real", "double precision"];
    let checks: [(Option<&String>, &str, &dyn Fn(&str) -> bool, &str); 4] = [
        (Some(&o.outcome), "outcome", &|t| t == "boolean", "boolean"),
        (o.created_column.as_ref(), "created_column", &|t| times.contains(&t), "a date or timestamp"),
        (o.converted_at_column.as_ref(), "converted_at_column", &|t| times.contains(&t), "a date or timestamp"),
        (o.value_column.as_ref(), "value_column", &|t| numbers.contains(&t) || t.starts_with("numeric"), "numeric"),
    ];
    for (column, option, ok, wanted) in checks {
        let Some(column) = column else { continue };
        match column_type(table, column) {
            None => raise_with_hint(
                PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                format!("column \"{column}\" (options.{option}) does not exist in {}", table_display(table)),
                "the report reads the outcome, the dates and the deal value from the target's rows",
            ),
            Some(t) if !ok(&t) => raise_with_hint(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                format!("column \"{column}\" (options.{option}) has type {t}, not {wanted}"),
                "name a column of that type, or a view's column that converts it",
            ),
            Some(_) => {}
        }
    }
    if o.created_column.is_some() != o.converted_at_column.is_some() {
        invalid("options.created_column and options.converted_at_column go together (time to conversion needs both)");
    }
}
