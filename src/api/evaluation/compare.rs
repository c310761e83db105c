//! `lead_scoring.compare(...)`: the model against the qualification method in use today (for
//! example the CRM's rule-based points), on the same labelled leads.

use pgrx::prelude::*;

use std::rc::Rc;

use crate::api::training::split_of::{recorded_keys, VersionKeys};
use crate::catalog::models::parse_model_spec;
use crate::core::data::{ColumnClass, Part, SourceColumn};
use crate::core::evaluation::models_scored_in;
use crate::core::evaluation::{delong_compare, top_shares};
use crate::errors::{bad_data, core_ok, invalid, quote_ident, required};
use crate::executor::source::{describe, find_column, resolve_source};

type CompareRow = (String, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>);

/// Compares two scores on the same leads: ROC AUC of each with DeLong's confidence interval
/// and p-value for the difference (a - b), then precision (= conversion rate) and lift among the
/// top 10%, 20% and 30% of leads by each score. `score_a` and `score_b` are SQL expressions over
/// the source's rows, available as `src` (a column name, or for example
/// `lead_scoring.score('inbound', src)`), evaluated with the caller's privileges. Rows where a
/// score or the label is NULL are skipped. A WARNING counts the compared leads that were in the
/// training part of a model the expressions name (`score('name', ...)`, by its recorded keys).
#[pg_extern(stable, parallel_unsafe)]
fn compare(
    source: Option<&str>,
    label: Option<&str>,
    score_a: Option<&str>,
    score_b: Option<&str>,
    confidence: default!(Option<f64>, 0.95),
) -> TableIterator<
    'static,
    (
        name!(metric, String),
        name!(score_a, Option<f64>),
        name!(score_b, Option<f64>),
        name!(difference, Option<f64>),
        name!(ci_low, Option<f64>),
        name!(ci_high, Option<f64>),
        name!(p_value, Option<f64>),
    ),
> {
    let src = resolve_source(required(source, "source"));
    let label = required(label, "label");
    let (a, b) = (required(score_a, "score_a"), required(score_b, "score_b"));
    let confidence = crate::errors::required(confidence, "confidence");
    if !(confidence > 0.0 && confidence < 1.0) {
        invalid(format!("confidence must be between 0 and 1 (exclusive), got {}", crate::core::error::sql_float(confidence)));
    }
    let columns = describe(&src);
    let label_col = find_column(&columns, label, "label", &src);
    let label_expr = match label_col.class {
        ColumnClass::Boolean => quote_ident(label),
        // Compared as float8 with pg_catalog's operator: a better-matching `=` earlier on the
        // search_path (say for numeric and integer) is never called.
        ColumnClass::Numeric { .. } => {
            format!("CASE ({0})::float8 WHEN 1::float8 THEN true WHEN 0::float8 THEN false END", quote_ident(label))
        }
        _ => invalid(format!("label column \"{label}\" must be boolean or 0/1")),
    };
    // The models the score expressions call, with the lead key column their split was recorded by.
    let checks = trained_on_checks(&[a, b], &columns);
    let key_exprs: String = checks.iter().map(|c| format!(", (src.{})::text", quote_ident(&c.column))).collect();
    let query =
        format!("SELECT ({a})::float8, ({b})::float8, {label_expr}{key_exprs} FROM (SELECT * FROM {}) AS src", src.from_sql);
    let (mut sa, mut sb, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    // Per checked model: compared rows in its train and validation parts.
    let mut seen = vec![(0usize, 0usize); checks.len()];
    // The source and both score expressions run read-only (crate::pg::read_only).
    crate::pg::read_only::read_only(|| {
        Spi::connect(|client| {
            for row in client.select(&query, None, &[])? {
                if let (Some(x), Some(y), Some(l)) = (row.get::<f64>(1)?, row.get::<f64>(2)?, row.get::<bool>(3)?) {
                    if !x.is_finite() || !y.is_finite() {
                        bad_data("scores must be finite numbers");
                    }
                    sa.push(x);
                    sb.push(y);
                    labels.push(l);
                    for (k, check) in checks.iter().enumerate() {
                        match row.get::<String>(4 + k)?.and_then(|key| check.part_of(&key)) {
                            Some(Part::Train) => seen[k].0 += 1,
                            Some(Part::Validation) => seen[k].1 += 1,
                            _ => {}
                        }
                    }
                }
            }
            Ok::<_, pgrx::spi::Error>(())
        })
    })
    .unwrap_or_else(|e| invalid(format!("cannot compute the scores: {e}")));
    for (check, (train, validation)) in checks.iter().zip(seen) {
        if train > 0 {
            warning!(
                "{train} of the {} compared leads were in the training part of model \"{}@{}\" (and {validation} in its validation part): its score is optimistic on them; compare on leads it did not learn from, for example with WHERE lead_scoring.split_of('{}@{}', {}) = 'test' in the source",
                sa.len(),
                check.name,
                check.version,
                check.name,
                check.version,
                quote_ident(&check.column)
            );
        }
    }
    let auc = core_ok(delong_compare(&sa, &sb, &labels, confidence));
    let mut rows: Vec<CompareRow> = vec![(
        "roc_auc".into(),
        Some(auc.auc_a),
        Some(auc.auc_b),
        Some(auc.difference),
        Some(auc.ci_low),
        Some(auc.ci_high),
        Some(auc.p_value),
    )];
    let shares = top_shares(&sa, &sb, &labels, &[0.1, 0.2, 0.3]);
    for t in &shares {
        let pct = (t.share * 100.0).round();
        rows.push((
            format!("precision_top_{pct}%"),
            Some(t.precision_a),
            Some(t.precision_b),
            Some(t.precision_a - t.precision_b),
            None,
            None,
            None,
        ));
    }
    for t in &shares {
        let pct = (t.share * 100.0).round();
        rows.push((format!("lift_top_{pct}%"), Some(t.lift_a), Some(t.lift_b), Some(t.lift_a - t.lift_b), None, None, None));
    }
    TableIterator::new(rows)
}

/// The recorded lead keys of each model `exprs` score with (`lead_scoring.score('name', src)`),
/// for those whose key column the source has; a NOTICE for a model that cannot be checked.
fn trained_on_checks(exprs: &[&str], columns: &[SourceColumn]) -> Vec<Rc<VersionKeys>> {
    let mut models: Vec<String> = Vec::new();
    for m in exprs.iter().flat_map(|e| models_scored_in(e)) {
        if !models.contains(&m) {
            models.push(m);
        }
    }
    let mut checks = Vec::new();
    for model in models {
        match recorded_keys(&parse_model_spec(&model)) {
            Ok(keys) if columns.iter().any(|c| c.name == keys.column) => checks.push(keys),
            Ok(keys) => notice!(
                "compare() cannot tell which compared leads model \"{}@{}\" was trained on: the source has no column \"{}\", its lead key",
                keys.name,
                keys.version,
                keys.column
            ),
            Err((name, version)) => notice!(
                "compare() cannot tell which compared leads model \"{name}@{version}\" was trained on: that version recorded no lead keys (train with options.key)"
            ),
        }
    }
    checks
}
