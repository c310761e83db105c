//! `lead_scoring.evaluate(model, source)`: the model's metrics on any labelled table, view or
//! query, and the shared "score every labelled row of a source" step behind the reports.

use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;

use crate::core::data::SplitKey;
use crate::core::data::{row_values, Column};
use crate::core::evaluation::{calibration_curve, lift_table};
use crate::core::evaluation::{ks_statistic, part_metrics, precision_at_top};
use crate::core::models::expected_calibration_error;
use crate::core::models::ECE_BINS;
use crate::errors::bad_data;
use crate::executor::cache::{self, LoadedModel};
use crate::executor::outcome_filter::evaluated_source;
use crate::executor::rows::{read_rows, KeyKind, LabelSpec, ReadRequest};
use crate::executor::scoring::probability;
use crate::executor::source::{describe, find_column, resolve_source, Source};

/// Every labelled row of a source scored by a model.
pub struct ScoredSource {
    pub model: Rc<LoadedModel>,
    pub scores: Vec<f64>,
    /// Empty when the rows were read without their label.
    pub labels: Vec<bool>,
    pub null_labels: usize,
    /// The raw feature columns the scores came from (for drift).
    pub columns: Vec<Column>,
    /// The time key per row when one was asked for (for backtests).
    pub split_key: SplitKey,
}

/// Reads the model's features and label from `source` and scores each labelled row through the
/// same path as score().
pub fn scored_source(model_name: &str, source: &str) -> ScoredSource {
    let model = cache::get(model_name);
    // evaluate() and the curves measure a probability against converted / not converted.
    model.require_classification("evaluating on labelled rows (evaluate() and the curve functions)");
    score_rows(model, &resolve_source(source), true, None)
}

/// Scores the rows of a resolved source: with `labelled`, the rows with a non-NULL label (and
/// their labels), otherwise every row; `time_column`, if given, is read as each row's time key.
pub fn score_rows(model: Rc<LoadedModel>, src: &Source, labelled: bool, time_column: Option<&str>) -> ScoredSource {
    let columns = describe(src);
    let label = labelled.then(|| find_column(&columns, &model.row.label, "label", src));
    // A model trained with options.outcomes reads labels through them: open rows are left out.
    let evaluated = label.map(|l| evaluated_source(src, l, model.row.outcomes.as_ref()));
    let src = evaluated.as_ref().unwrap_or(src);
    let features = model.model.feature_names().map(|f| find_column(&columns, f, "feature", src)).collect();
    let key = time_column.map(|t| (find_column(&columns, t, "time", src), KeyKind::Time));
    let read = read_rows(&ReadRequest {
        source: src,
        features,
        label: label.map(|label| LabelSpec {
            numeric: false,
            column: label,
            positive: model.row.positive_label.as_deref(),
            outcomes: model.row.outcomes.as_ref(),
        }),
        key,
        lead_key: None,
        memory: Some(&crate::settings::max_memory()),
    });
    let data = read.data;
    let rows = data.columns.first().map_or(0, |c| c.len());
    match label {
        Some(label) if data.labels.is_empty() => {
            bad_data(format!("source {} has no rows with a non-NULL label \"{}\"", src.display, label.name))
        }
        None if rows == 0 => bad_data(format!("source {} has no rows", src.display)),
        _ => {}
    }
    let mut raw = Vec::with_capacity(data.columns.len());
    let mut scores = Vec::with_capacity(rows);
    for row in 0..rows {
        if row % 10_000 == 0 {
            pgrx::check_for_interrupts!();
        }
        row_values(&data.columns, row, &mut raw);
        scores.push(probability(&model, &raw));
    }
    ScoredSource {
        model,
        scores,
        labels: data.labels,
        null_labels: read.null_labels,
        columns: data.columns,
        split_key: data.split_key,
    }
}

/// Scores every labelled row of `source` with the model and returns the metrics train() stores
/// per part (ROC AUC, PR AUC, log loss, Brier, ECE, and precision/recall/F1/accuracy and the
/// confusion matrix at the model's threshold), plus the KS statistic, precision in the top
/// 10/20/30%, lift by decile and the calibration curve.
#[pg_extern(stable, parallel_unsafe, strict)]
fn evaluate(model_name: &str, source: &str) -> JsonB {
    let s = scored_source(model_name, source);
    let metrics = part_metrics(&s.scores, &s.labels, s.model.row.threshold);
    let mut out = serde_json::to_value(metrics).expect("metrics serialize");
    out["model"] = json!(format!("{}@{}", s.model.row.name, s.model.row.version));
    out["skipped_null_labels"] = json!(s.null_labels);
    out["ece"] = json!(expected_calibration_error(&s.scores, &s.labels, ECE_BINS));
    out["ks"] = json!(ks_statistic(&s.scores, &s.labels));
    out["precision_at_top"] = json!({
        "10%": precision_at_top(&s.scores, &s.labels, 0.1),
        "20%": precision_at_top(&s.scores, &s.labels, 0.2),
        "30%": precision_at_top(&s.scores, &s.labels, 0.3),
    });
    out["lift"] = serde_json::to_value(lift_table(&s.scores, &s.labels, 10)).expect("lift serializes");
    out["calibration"] = serde_json::to_value(calibration_curve(&s.scores, &s.labels, 10)).expect("bins serialize");
    JsonB(out)
}
