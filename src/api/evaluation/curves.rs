//! Curves and reports: lift/gains by decile, ROC and precision-recall curves, the calibration
//! curve and precision at the top k% of leads, both as aggregates over any (score, label)
//! pairs (returning jsonb) and as table functions over (model_name, source).

use pgrx::prelude::*;
use pgrx::{Internal, JsonB};

use crate::api::evaluation::evaluate::scored_source;
use crate::api::evaluation::metric_aggregates::{label_of_int, push_pair, set_param, with_pairs};
use crate::core::evaluation::precision_at_top;
use crate::core::evaluation::{calibration_curve, downsample_curve, lift_table, pr_curve, roc_curve};
use crate::errors::invalid;

/// Curves returned by the aggregates are cut to this many points (evenly spaced, first and last kept).
pub const MAX_CURVE_POINTS: usize = 1000;

fn to_json<T: serde::Serialize>(v: T) -> JsonB {
    JsonB(serde_json::to_value(v).expect("curves serialize"))
}

/// Final function of `lift`: one jsonb object per decile, highest scores first.
#[pg_extern(immutable, parallel_safe)]
fn lift_final(state: Internal) -> Option<JsonB> {
    with_pairs(&state, |p| Some(to_json(lift_table(&p.scores, &p.labels, 10))))
}

/// Final function of `roc_curve`: [{threshold, fpr, tpr}], at most 1000 points.
#[pg_extern(immutable, parallel_safe)]
fn roc_curve_final(state: Internal) -> Option<JsonB> {
    with_pairs(&state, |p| Some(to_json(downsample_curve(&roc_curve(&p.scores, &p.labels), MAX_CURVE_POINTS))))
}

/// Final function of `pr_curve`: [{threshold, precision, recall}], at most 1000 points.
#[pg_extern(immutable, parallel_safe)]
fn pr_curve_final(state: Internal) -> Option<JsonB> {
    with_pairs(&state, |p| Some(to_json(downsample_curve(&pr_curve(&p.scores, &p.labels), MAX_CURVE_POINTS))))
}

/// Final function of `calibration_curve`: ten equal-width bins, non-empty ones only.
#[pg_extern(immutable, parallel_safe)]
fn calibration_curve_final(state: Internal) -> Option<JsonB> {
    with_pairs(&state, |p| Some(to_json(calibration_curve(&p.scores, &p.labels, 10))))
}

fn checked_fraction(fraction: Option<f64>) -> f64 {
    match fraction {
        Some(f) if f > 0.0 && f <= 1.0 => f,
        other => invalid(format!(
            "fraction must be above 0 and at most 1, got {}",
            other.map_or("NULL".into(), crate::core::error::sql_float)
        )),
    }
}

/// State function of `precision_at_top` (boolean labels).
#[pg_extern(immutable, parallel_safe)]
fn precision_at_top_accum(
    state: Internal,
    score: Option<f64>,
    label: Option<bool>,
    fraction: Option<f64>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    let mut state = push_pair(state, score, label, fcinfo);
    set_param(&mut state, checked_fraction(fraction), "precision_at_top() fraction");
    state
}

/// State function of `precision_at_top` (integer 0/1 labels).
#[pg_extern(immutable, parallel_safe)]
fn precision_at_top_accum_int(
    state: Internal,
    score: Option<f64>,
    label: Option<i64>,
    fraction: Option<f64>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    let mut state = push_pair(state, score, label.map(label_of_int), fcinfo);
    set_param(&mut state, checked_fraction(fraction), "precision_at_top() fraction");
    state
}

/// Final function of `precision_at_top`: precision among the top `fraction` of leads by score.
#[pg_extern(immutable, parallel_safe)]
fn precision_at_top_final(state: Internal) -> Option<f64> {
    with_pairs(&state, |p| precision_at_top(&p.scores, &p.labels, p.param?))
}

pgrx::extension_sql!(
    r#"
CREATE AGGREGATE lift(score float8, label boolean) (
    SFUNC = metric_pairs_accum, STYPE = internal, FINALFUNC = lift_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE lift(score float8, label bigint) (
    SFUNC = metric_pairs_accum_int, STYPE = internal, FINALFUNC = lift_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE roc_curve(score float8, label boolean) (
    SFUNC = metric_pairs_accum, STYPE = internal, FINALFUNC = roc_curve_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE roc_curve(score float8, label bigint) (
    SFUNC = metric_pairs_accum_int, STYPE = internal, FINALFUNC = roc_curve_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE pr_curve(score float8, label boolean) (
    SFUNC = metric_pairs_accum, STYPE = internal, FINALFUNC = pr_curve_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE pr_curve(score float8, label bigint) (
    SFUNC = metric_pairs_accum_int, STYPE = internal, FINALFUNC = pr_curve_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE calibration_curve(score float8, label boolean) (
    SFUNC = metric_pairs_accum, STYPE = internal, FINALFUNC = calibration_curve_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE calibration_curve(score float8, label bigint) (
    SFUNC = metric_pairs_accum_int, STYPE = internal, FINALFUNC = calibration_curve_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE precision_at_top(score float8, label boolean, fraction float8) (
    SFUNC = precision_at_top_accum, STYPE = internal, FINALFUNC = precision_at_top_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE precision_at_top(score float8, label bigint, fraction float8) (
    SFUNC = precision_at_top_accum_int, STYPE = internal, FINALFUNC = precision_at_top_final,
    COMBINEFUNC = metric_pairs_combine, SERIALFUNC = metric_pairs_serialize,
    DESERIALFUNC = metric_pairs_deserialize, PARALLEL = SAFE);
"#,
    name = "curve_aggregates",
    requires = [
        "metric_aggregates",
        lift_final,
        roc_curve_final,
        pr_curve_final,
        calibration_curve_final,
        precision_at_top_accum,
        precision_at_top_accum_int,
        precision_at_top_final
    ]
);

/// Lift and gains by decile of the model's score on a labelled source.
#[pg_extern(stable, parallel_unsafe, strict, name = "lift")]
fn lift_report(
    model_name: &str,
    source: &str,
) -> TableIterator<
    'static,
    (
        name!(decile, i32),
        name!(leads, i64),
        name!(conversions, i64),
        name!(conversion_rate, f64),
        name!(lift, f64),
        name!(cumulative_share_of_conversions, f64),
        name!(min_score, f64),
        name!(max_score, f64),
    ),
> {
    let s = scored_source(model_name, source);
    TableIterator::new(lift_table(&s.scores, &s.labels, 10).into_iter().map(|r| {
        (
            r.decile as i32,
            r.leads as i64,
            r.conversions as i64,
            r.conversion_rate,
            r.lift,
            r.cumulative_share_of_conversions,
            r.min_score,
            r.max_score,
        )
    }))
}

/// The ROC curve of the model on a labelled source: every distinct threshold.
#[pg_extern(stable, parallel_unsafe, strict, name = "roc_curve")]
fn roc_curve_report(
    model_name: &str,
    source: &str,
) -> TableIterator<'static, (name!(threshold, f64), name!(fpr, f64), name!(tpr, f64))> {
    let s = scored_source(model_name, source);
    TableIterator::new(roc_curve(&s.scores, &s.labels).into_iter().map(|p| (p.threshold, p.fpr, p.tpr)))
}

/// The precision-recall curve of the model on a labelled source.
#[pg_extern(stable, parallel_unsafe, strict, name = "pr_curve")]
fn pr_curve_report(
    model_name: &str,
    source: &str,
) -> TableIterator<'static, (name!(threshold, f64), name!(precision, f64), name!(recall, f64))> {
    let s = scored_source(model_name, source);
    TableIterator::new(pr_curve(&s.scores, &s.labels).into_iter().map(|p| (p.threshold, p.precision, p.recall)))
}

/// Predicted probability against observed conversion rate per bin, on a labelled source.
#[pg_extern(stable, parallel_unsafe, strict, name = "calibration_curve")]
fn calibration_curve_report(
    model_name: &str,
    source: &str,
    bins: default!(i32, 10),
) -> TableIterator<
    'static,
    (
        name!(bin, i32),
        name!(lower, f64),
        name!(upper, f64),
        name!(leads, i64),
        name!(mean_predicted, f64),
        name!(observed_rate, f64),
    ),
> {
    if !(2..=100).contains(&bins) {
        invalid(format!("bins must be between 2 and 100, got {bins}"));
    }
    let s = scored_source(model_name, source);
    TableIterator::new(
        calibration_curve(&s.scores, &s.labels, bins as usize)
            .into_iter()
            .map(|b| (b.bin as i32, b.lower, b.upper, b.leads as i64, b.mean_predicted, b.observed_rate)),
    )
}

/// Precision (= conversion rate) among the top `fraction` of leads by the model's score.
#[pg_extern(stable, parallel_unsafe, strict, name = "precision_at_top")]
fn precision_at_top_report(model_name: &str, source: &str, fraction: f64) -> Option<f64> {
    let fraction = checked_fraction(Some(fraction));
    let s = scored_source(model_name, source);
    precision_at_top(&s.scores, &s.labels, fraction)
}
