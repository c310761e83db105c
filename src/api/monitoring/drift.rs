//! `lead_scoring.drift(model, source)`: PSI of every feature and of the score of a source's rows
//! against the reference distributions train() stored in `models.reference`.

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::Value;

use crate::api::evaluation::evaluate::{score_rows, ScoredSource};
use crate::catalog::models::reference_and_test_metrics;
use crate::core::data::TrainingData;
use crate::core::monitoring::{build_reference, drift_report, DriftRow, Reference};
use crate::core::training::TrainedModel;
use crate::errors::{core_ok, raise_with_hint, required};
use crate::executor::cache::LoadedModel;
use crate::executor::source::resolve_source;

/// The reference distributions train() stores with a new version (training part per feature,
/// validation part for the score).
pub fn reference_json(data: &TrainingData, trained: &TrainedModel) -> JsonB {
    let names: Vec<&str> = trained.model.feature_names().collect();
    let columns: Vec<_> = data.columns.iter().filter(|c| names.contains(&c.name.as_str())).collect();
    let reference = build_reference(&columns, &trained.parts, &trained.predictions);
    JsonB(serde_json::to_value(reference).expect("reference serializes"))
}

/// The stored reference and test metrics of a loaded model version.
pub fn reference_of(model: &LoadedModel) -> (Reference, Value) {
    let (reference, test) = reference_and_test_metrics(&model.row);
    let stored = reference.unwrap_or(Value::Null);
    let parsed = serde_json::from_value::<Reference>(stored).unwrap_or_else(|_| {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("model \"{}@{}\" has no reference distributions", model.row.name, model.row.version),
            "versions trained before drift monitoring existed have none; retrain the model with lead_scoring.train()",
        )
    });
    (parsed, test.unwrap_or(Value::Null))
}

/// Drift rows of already-scored rows against the model's reference.
pub fn drift_of(scored: &ScoredSource, reference: &Reference, warn: f64, alert: f64) -> Vec<DriftRow> {
    core_ok(drift_report(reference, &scored.columns, &scored.scores, warn, alert))
}

/// PSI of each feature of `model_name` (its deployed version, or 'name@3') and of its score on
/// the rows of `source` (a table, view or query; labels not needed) against the distributions
/// stored at training. status is `alert` at PSI >= `alert`, `warn` at PSI >= `warn`, else `ok`;
/// `detail` names new categorical levels and the bin that moved most.
#[pg_extern(stable, parallel_unsafe)]
fn drift(
    model_name: Option<&str>,
    source: Option<&str>,
    warn: default!(Option<f64>, "0.1"),
    alert: default!(Option<f64>, "0.25"),
) -> TableIterator<'static, (name!(feature, String), name!(psi, f64), name!(status, String), name!(detail, String))> {
    let name = required(model_name, "model_name");
    let source = required(source, "source");
    let (warn, alert) = (required(warn, "warn"), required(alert, "alert"));
    core_ok(crate::core::monitoring::check_thresholds(warn, alert));
    let model = crate::executor::cache::get(name);
    let (reference, _) = reference_of(&model);
    let scored = score_rows(model, &resolve_source(source), false, None);
    let rows = drift_of(&scored, &reference, warn, alert);
    TableIterator::new(rows.into_iter().map(|r| (r.feature, r.psi, r.status.as_str().to_string(), r.detail)))
}
