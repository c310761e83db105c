//! An attachment of a model to a table, as its rescoring trigger stores it: the six trigger
//! arguments `attach()` and `attach_events()` write and `score_lead_row()` reads, the trigger
//! names, and the columns the triggers write (which train() must not learn from).

use pgrx::prelude::*;

use crate::errors::invalid;

/// The channel hot-lead alerts are sent on.
pub const ALERT_CHANNEL: &str = "lead_scoring_alerts";

/// The name of the trigger `attach()` creates for a model.
pub fn trigger_name(model: &str) -> String {
    format!("lead_scoring_{model}")
}

/// What one attachment of a model to a table says (the trigger's arguments).
#[derive(Debug, Clone)]
pub struct Attachment {
    pub model: String,
    pub score_column: String,
    pub tier_column: String,
    pub key_column: Option<String>,
    /// The feature view as a schema-qualified name (attach_events() since 0.2.0), or the digits
    /// of its oid (triggers made by 0.1.0); `::regclass` resolves both. A name, because a dump
    /// restored into another database gives every relation a new oid.
    pub feature_view: Option<String>,
    pub alerts: bool,
}

impl Attachment {
    /// The attachment a trigger's `pg_trigger.tgargs` (each argument followed by a NUL byte)
    /// describes; `None` when they are not the six that attach() gives.
    pub fn from_trigger_arguments(raw: &[u8]) -> Option<Attachment> {
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .take(raw.iter().filter(|b| **b == 0).count())
            .collect();
        let [model, score_column, tier_column, key_column, feature_view, alerts] = <[String; 6]>::try_from(args).ok()?;
        Some(Attachment {
            model,
            score_column,
            tier_column,
            key_column: Some(key_column).filter(|k| !k.is_empty()),
            feature_view: Some(feature_view).filter(|v| !v.is_empty()),
            alerts: alerts == "alerts",
        })
    }

    pub fn trigger_args(&self) -> Vec<String> {
        vec![
            self.model.clone(),
            self.score_column.clone(),
            self.tier_column.clone(),
            self.key_column.clone().unwrap_or_default(),
            self.feature_view.clone().unwrap_or_default(),
            if self.alerts { "alerts" } else { "no_alerts" }.to_string(),
        ]
    }
}

/// The attachment of `model` on `table`, read back from its trigger, if the model is attached.
pub fn find_attachment(table: pg_sys::Oid, model: &str) -> Option<Attachment> {
    let raw = Spi::get_one_with_args::<Vec<u8>>(
        "SELECT (SELECT tgargs FROM pg_trigger WHERE tgrelid = $1 AND tgname = $2 AND NOT tgisinternal)",
        &[table.into(), trigger_name(model).into()],
    )
    .unwrap_or_else(|e| invalid(format!("cannot read the triggers of table {}: {e}", table_display(table))))?;
    Some(Attachment::from_trigger_arguments(&raw).unwrap_or_else(|| {
        invalid(format!("trigger {} on {} was not created by lead_scoring.attach()", trigger_name(model), table_display(table)))
    }))
}

/// The columns that lead_scoring's rescoring triggers write on `relation` (a name as regclass
/// prints it): the score, tier and score history columns of every model attached to it.
/// train() leaves them out of the automatic features: a model must not learn from a score.
pub fn attached_output_columns(relation: &str) -> Vec<String> {
    let written = Spi::connect(|client| {
        let rows = client.select(
            "SELECT tgargs FROM pg_trigger
              WHERE tgrelid = to_regclass($1) AND tgfoid = 'lead_scoring.score_lead_row()'::regprocedure AND NOT tgisinternal",
            None,
            &[relation.into()],
        )?;
        let mut columns = Vec::new();
        for row in rows {
            if let Some(a) = Attachment::from_trigger_arguments(&row.get::<Vec<u8>>(1)?.unwrap_or_default()) {
                columns.extend([history_column(&a.score_column), a.score_column, a.tier_column]);
            }
        }
        Ok::<_, pgrx::spi::SpiError>(columns)
    });
    written.unwrap_or_else(|e| invalid(format!("cannot read the triggers of {relation}: {e}")))
}

/// The float8[] column in which the trigger keeps a lead's previous scores, if the
/// table has it.
pub fn history_column(score_column: &str) -> String {
    format!("{score_column}_history")
}

/// `schema.table` as regclass prints it.
pub fn table_display(table: pg_sys::Oid) -> String {
    Spi::get_one_with_args::<String>("SELECT $1::regclass::text", &[table.into()])
        .ok()
        .flatten()
        .unwrap_or_else(|| table.to_u32().to_string())
}

/// `schema.relation`, each part quoted as needed, whatever the search_path: what triggers store
/// to name a relation, since oids change when a dump is restored into another database.
pub fn qualified_name(relation: pg_sys::Oid) -> String {
    Spi::get_one_with_args::<String>(
        "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
        &[relation.into()],
    )
    .ok()
    .flatten()
    .unwrap_or_else(|| invalid(format!("relation with oid {} does not exist", relation.to_u32())))
}

/// The name of the statement triggers `attach_events()` creates for a model.
pub fn events_trigger_name(model: &str) -> String {
    format!("lead_scoring_events_{model}")
}
