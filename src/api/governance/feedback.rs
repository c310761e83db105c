//! Rep feedback: `flag()` records the label a rep says is right for one lead, in
//! `lead_scoring.lead_feedback`; retraining with `options.use_feedback` reads the source through
//! those labels (the latest flag per lead wins), matching `options.key`, the source's key
//! column, cast to text, against `lead_key`.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::catalog::feedback::{latest_feedback_join, record_feedback};
use crate::catalog::models::{load_model_row, model_exists, parse_model_spec, ModelSpec};
use crate::core::data::{ColumnClass, SourceColumn};
use crate::core::training::TrainOptions;
use crate::errors::{invalid, quote_ident, quote_literal, raise_with_hint, required};
use crate::executor::source::{find_column, Source};

/// Records that the lead `lead_key` of `model_name`'s source really is converted
/// (`correct_label` true) or not, with a note. Retraining with `options.use_feedback` applies
/// it. Returns the feedback row's id.
#[pg_extern(volatile, parallel_unsafe)]
fn flag(
    model_name: Option<&str>,
    lead_key: Option<&str>,
    correct_label: Option<bool>,
    note: default!(Option<&str>, "NULL"),
) -> i64 {
    let spec = parse_model_spec(required(model_name, "model_name"));
    if spec.version.is_some() {
        invalid("flag a lead for a model name, without a version");
    }
    let lead_key = required(lead_key, "lead_key");
    let correct_label = required(correct_label, "correct_label");
    if !model_exists(&spec.name) {
        load_model_row(&ModelSpec { name: spec.name.clone(), version: None });
    }
    record_feedback(&spec.name, lead_key, correct_label, note)
}

/// With `options.use_feedback`, the source read through the latest feedback per lead: the label
/// column becomes the flagged label where a rep flagged the lead. Without it, the source as is.
pub fn with_feedback(model: &str, src: Source, columns: &[SourceColumn], label: &SourceColumn, opts: &TrainOptions) -> Source {
    if !opts.use_feedback {
        return src;
    }
    let key = opts.key.as_deref().unwrap_or_else(|| {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "options.use_feedback needs options.key, the source's lead key column",
            "for example {\"use_feedback\": true, \"key\": \"lead_id\"}; flag() stores that column's value as text",
        )
    });
    let key_col = find_column(columns, key, "key", &src);
    let flagged = match (label.class, opts.positive_label.as_deref(), opts.outcomes.as_ref()) {
        // A flagged lead takes the first value of its class (the literal takes the label's type).
        (_, _, Some(o)) => {
            format!(
                "CASE WHEN fb.correct_label THEN {} ELSE {} END",
                quote_literal(&o.converted[0]),
                quote_literal(&o.not_converted[0])
            )
        }
        (ColumnClass::Boolean, _, None) => "fb.correct_label".to_string(),
        (ColumnClass::Numeric { .. }, None, None) => "fb.correct_label::int".to_string(),
        (_, Some(p), None) => {
            format!("CASE WHEN fb.correct_label THEN {} ELSE {} END", quote_literal(p), quote_literal(&format!("not {p}")))
        }
        _ => invalid(format!(
            "options.use_feedback needs a boolean or 0/1 label, options.positive_label or options.outcomes; \"{}\" is {}",
            label.name, label.type_name
        )),
    };
    let select: Vec<String> = columns
        .iter()
        .map(|c| {
            if c.name == label.name {
                format!("CASE WHEN fb.correct_label IS NULL THEN s.{q} ELSE {flagged} END AS {q}", q = quote_ident(&c.name))
            } else {
                format!("s.{}", quote_ident(&c.name))
            }
        })
        .collect();
    Source {
        from_sql: format!(
            "(SELECT {} FROM (SELECT * FROM {}) AS s {}) AS lead_scoring_with_feedback",
            select.join(", "),
            src.from_sql,
            latest_feedback_join(model, &format!("s.{}", quote_ident(&key_col.name)), "fb")
        ),
        display: format!("{} (with rep feedback)", src.display),
        relation: src.relation.clone(),
    }
}
