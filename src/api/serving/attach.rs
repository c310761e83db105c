//! Scores where the CRM already looks: `attach()` installs a BEFORE INSERT OR UPDATE row trigger
//! that writes a lead's score and tier into its own row (multi-row INSERT and COPY included),
//! `detach()` removes it, and `rescore()` rescores a whole table in one UPDATE.
//! The trigger function itself, `lead_scoring.score_lead_row()`, is in score_trigger.rs.

use pgrx::prelude::*;
use pgrx::{PgRelation, PgSqlErrorCode};
use serde_json::json;

use crate::catalog::distribution::{is_distributed, with_triggers_on_distributed_tables};
use crate::catalog::events::log_event;
use crate::catalog::models::parse_model_spec;
use crate::errors::{invalid, raise_with_hint, required};
use crate::executor::attachment::{events_trigger_name, find_attachment, table_display, trigger_name, Attachment};
use crate::executor::cache;

/// Checks the model name and that its deployed (or named) version loads.
pub fn check_model(model_name: &str) -> String {
    parse_model_spec(model_name);
    cache::get(model_name);
    model_name.trim().to_string()
}

/// The type of `column` in `table`, if it exists.
pub fn column_type(table: pg_sys::Oid, column: &str) -> Option<String> {
    Spi::get_one_with_args::<String>(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
          WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped",
        &[table.into(), column.into()],
    )
    .ok()
    .flatten()
}

/// Creates the score (float8) and tier (text) columns if missing; existing ones must have
/// those types.
pub fn ensure_output_columns(table: pg_sys::Oid, score_column: &str, tier_column: &str) {
    if score_column == tier_column {
        invalid("score_column and tier_column must be different columns");
    }
    for (column, wanted) in [(score_column, "double precision"), (tier_column, "text")] {
        if column.is_empty() {
            invalid("score_column and tier_column must not be empty");
        }
        match column_type(table, column) {
            Some(t) if t == wanted => {}
            Some(t) => raise_with_hint(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                format!("column \"{column}\" of {} has type {t}, but lead_scoring writes {wanted} there", table_display(table)),
                "name another column, or drop this one so lead_scoring creates it",
            ),
            None => run_formatted(
                "SELECT pg_catalog.format('ALTER TABLE %s ADD COLUMN %I ' || $3, $1::regclass, $2)",
                &[table.into(), column.into(), wanted.into()],
            ),
        }
    }
}

/// Builds a statement with Postgres' `format()` (so %I and %L quote names and literals) and runs it.
pub fn run_formatted(format_query: &str, args: &[pgrx::datum::DatumWithOid]) {
    let sql = Spi::get_one_with_args::<String>(format_query, args)
        .unwrap_or_else(|e| invalid(format!("cannot build a statement: {e}")))
        .unwrap_or_else(|| invalid("cannot build a statement from NULL arguments"));
    Spi::run(&sql).unwrap_or_else(|e| invalid(format!("{e}")));
}

/// Creates the row trigger for an attachment (replacing an existing one for the same model).
pub fn create_row_trigger(table: pg_sys::Oid, a: &Attachment) {
    let args = a.trigger_args();
    run_formatted(
        "SELECT pg_catalog.format('CREATE OR REPLACE TRIGGER %I BEFORE INSERT OR UPDATE ON %s FOR EACH ROW
                        EXECUTE FUNCTION lead_scoring.score_lead_row(%L, %L, %L, %L, %L, %L)',
                       $1, $2::regclass, $3, $4, $5, $6, $7, $8)",
        &[
            trigger_name(&a.model).into(),
            table.into(),
            args[0].as_str().into(),
            args[1].as_str().into(),
            args[2].as_str().into(),
            args[3].as_str().into(),
            args[4].as_str().into(),
            args[5].as_str().into(),
        ],
    );
}

/// The key column for alerts: the one given (checked), else a one-column primary key, else none.
pub fn key_column_for(table: pg_sys::Oid, given: Option<&str>) -> Option<String> {
    match given {
        Some(k) => {
            if column_type(table, k).is_none() {
                raise_with_hint(
                    PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                    format!("column \"{k}\" does not exist in {}", table_display(table)),
                    "key_column names the column that identifies a lead in alerts",
                );
            }
            Some(k.to_string())
        }
        None => Spi::get_one_with_args::<String>(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              WHERE i.indrelid = $1 AND i.indisprimary AND i.indnkeyatts = 1",
            &[table.into()],
        )
        .ok()
        .flatten(),
    }
}

/// Installs a BEFORE INSERT OR UPDATE trigger on `target` that writes each lead's score
/// (float8, 0 to 1) and tier (text) from `model_name` into `score_column` and `tier_column`,
/// creating those columns if they are missing. Existing rows are not rescored: call `rescore()`.
/// Returns the trigger's name.
#[pg_extern(volatile, parallel_unsafe)]
fn attach(
    target: Option<PgRelation>,
    model_name: Option<&str>,
    score_column: default!(Option<&str>, "'lead_score'"),
    tier_column: default!(Option<&str>, "'lead_tier'"),
    key_column: default!(Option<&str>, "NULL"),
    alerts: default!(Option<bool>, "true"),
) -> String {
    let table = table_oid(required(target, "target"));
    let model = check_model(required(model_name, "model_name"));
    let score_column = required(score_column, "score_column");
    let tier_column = required(tier_column, "tier_column");
    let alerts = required(alerts, "alerts");
    if trigger_name(&model).len() > 63 {
        invalid(format!("model name \"{model}\" is too long to name a trigger after (at most 50 characters)"));
    }
    require_features(table, &model, "table");
    let distributed = is_distributed(table);
    if distributed && alerts {
        // NOTIFY would run on the worker holding the row, not where clients LISTEN, and Citus'
        // two-phase commit of a multi-shard INSERT refuses a transaction that notified.
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!(
                "{} is a Citus distributed table: its rows are scored on the workers, which cannot send alerts",
                table_display(table)
            ),
            "attach it with alerts => false",
        );
    }
    ensure_output_columns(table, score_column, tier_column);
    let a = Attachment {
        model: model.clone(),
        score_column: score_column.to_string(),
        tier_column: tier_column.to_string(),
        key_column: key_column_for(table, key_column),
        feature_view: None,
        alerts,
    };
    if distributed {
        with_triggers_on_distributed_tables(|| {
            create_row_trigger(table, &a);
            Ok(())
        })
        .unwrap_or_else(|e| invalid(format!("cannot attach to a Citus distributed table: {e}")));
    } else {
        create_row_trigger(table, &a);
    }
    log_event(
        &parse_model_spec(&model).name,
        None,
        "attached",
        json!({"table": table_display(table), "score_column": score_column, "tier_column": tier_column,
               "key_column": a.key_column, "alerts": alerts}),
        None,
    );
    trigger_name(&model)
}

/// Checks that `table` (a table or view) has every feature column of the model.
pub fn require_features(table: pg_sys::Oid, model: &str, role: &str) {
    let loaded = cache::get(model);
    for feature in loaded.model.feature_names() {
        if column_type(table, feature).is_none() {
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
                format!(
                    "{role} {} has no column \"{feature}\", which model \"{}@{}\" needs",
                    table_display(table),
                    loaded.row.name,
                    loaded.row.version
                ),
                "attach the model to a table with every feature column it was trained on",
            );
        }
        // PostgreSQL computes stored generated columns after BEFORE ROW triggers, so the
        // trigger would score a new row with NULL there (and an updated one with the old value).
        if is_generated_column(table, feature) {
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("column \"{feature}\" is a generated column, which a BEFORE trigger sees before it is computed"),
                "score the table with lead_scoring.score() in a view, or store the value in an ordinary column",
            );
        }
    }
}

/// Whether `column` of `table` is a stored generated column.
fn is_generated_column(table: pg_sys::Oid, column: &str) -> bool {
    Spi::get_one_with_args::<bool>(
        "SELECT attgenerated OPERATOR(pg_catalog.<>) '' FROM pg_catalog.pg_attribute
          WHERE attrelid OPERATOR(pg_catalog.=) $1 AND attname OPERATOR(pg_catalog.=) $2::pg_catalog.name
            AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped",
        &[table.into(), column.into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false)
}

/// The oid of a table argument, checked to be a table (plain or partitioned). The relation is
/// closed here: an open reference would make the ALTER TABLE that adds columns fail.
pub fn table_oid(rel: PgRelation) -> pg_sys::Oid {
    // SAFETY: `rel` is open (PgRelation holds it), so its relcache entry and `rd_rel` are valid.
    let kind = unsafe { (*rel.rd_rel).relkind } as u8;
    let oid = rel.oid();
    drop(rel);
    if kind != pg_sys::RELKIND_RELATION && kind != pg_sys::RELKIND_PARTITIONED_TABLE {
        invalid(format!("{} is not a table; lead_scoring triggers go on tables", table_display(oid)));
    }
    oid
}

/// Removes what `attach()` or `attach_events()` installed for `model_name` on `target` (the
/// scoring trigger, and the events trigger when `target` is an events table). The score and
/// tier columns stay. Returns whether anything was removed.
#[pg_extern(volatile, parallel_unsafe)]
fn detach(target: Option<PgRelation>, model_name: Option<&str>) -> bool {
    let table = required(target, "target").oid();
    let model = required(model_name, "model_name").trim().to_string();
    // A blank or malformed name is an error before any trigger is looked up.
    parse_model_spec(&model);
    let mut removed = false;
    for name in [trigger_name(&model), events_trigger_name(&model)] {
        let exists = Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = $1 AND tgname = $2 AND NOT tgisinternal)",
            &[table.into(), name.as_str().into()],
        )
        .ok()
        .flatten()
        .unwrap_or(false);
        if exists {
            run_formatted(
                "SELECT pg_catalog.format('DROP TRIGGER %I ON %s', $1, $2::regclass)",
                &[name.as_str().into(), table.into()],
            );
            removed = true;
        }
    }
    if !removed {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{model}\" is not attached to {}", table_display(table)),
            "lead_scoring.attach() or attach_events() installs the triggers that detach() removes",
        );
    }
    log_event(&parse_model_spec(&model).name, None, "detached", json!({"table": table_display(table)}), None);
    removed
}

/// Rescores every row of `target` with `model_name` in one set-based UPDATE (for example after
/// a deploy), writing the columns `attach()` or `attach_events()` set up. Returns the number
/// of rows updated.
#[pg_extern(volatile, parallel_unsafe)]
fn rescore(target: Option<PgRelation>, model_name: Option<&str>) -> i64 {
    let table = required(target, "target").oid();
    let model = required(model_name, "model_name").trim().to_string();
    // A blank or malformed name is an error before any trigger is looked up.
    parse_model_spec(&model);
    let a = find_attachment(table, &model).unwrap_or_else(|| {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("model \"{model}\" is not attached to {}", table_display(table)),
            "attach it first with lead_scoring.attach(table, model), which creates the score and tier columns",
        )
    });
    check_model(&model);
    let sql = match a.feature_view {
        None => Spi::get_one_with_args::<String>(
            "SELECT pg_catalog.format('UPDATE %s AS lead SET %I = lead_scoring.score(%L, lead.*), %I = lead_scoring.tier(%L, lead.*)',
                           $1::regclass, $2, $3, $4, $3)",
            &[table.into(), a.score_column.as_str().into(), model.as_str().into(), a.tier_column.as_str().into()],
        ),
        Some(view) => Spi::get_one_with_args::<String>(
            "SELECT pg_catalog.format('UPDATE %s AS lead SET %I = lead_scoring.score(%L, f.*), %I = lead_scoring.tier(%L, f.*)
                             FROM %s AS f WHERE f.%I = lead.%I',
                           $1::regclass, $2, $3, $4, $3, $5::regclass, $6, $6)",
            &[
                table.into(),
                a.score_column.as_str().into(),
                model.as_str().into(),
                a.tier_column.as_str().into(),
                view.as_str().into(),
                a.key_column.clone().unwrap_or_default().as_str().into(),
            ],
        ),
    }
    .ok()
    .flatten()
    .unwrap_or_else(|| invalid("cannot build the rescore statement"));
    Spi::connect_mut(|client| client.update(&sql, None, &[]).map(|t| t.len() as i64))
        .unwrap_or_else(|e| invalid(format!("rescore of {} failed: {e}", table_display(table))))
}
