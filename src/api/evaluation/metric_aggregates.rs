//! Metric aggregates over any (score, label) pairs, usable with GROUP BY and in parallel plans:
//! `log_loss` and `brier` (running sums in a float8[] state), `confusion` (counts in an int8[]
//! state), and the state of the aggregates that keep every pair (an `internal` state with
//! serialize/deserialize for parallel workers: `lift`, the curves, `precision_at_top`).
//! `roc_auc`, `pr_auc` and `ks_statistic` are in `ranking_aggregates`. Rows with a NULL score or
//! label are skipped. Labels are boolean or integer 0/1.

use pgrx::prelude::*;
use pgrx::{Internal, JsonB};
use serde_json::json;

use crate::core::evaluation::{brier_term, log_loss_term, Confusion};
use crate::core::models::{decode_scored_labels, encode_scored_labels};
use crate::errors::{bad_data, invalid, raise_core};

/// Every (score, label) pair seen by one aggregate (or one parallel worker's share of it).
#[derive(Default, Debug)]
pub struct Pairs {
    pub scores: Vec<f64>,
    pub labels: Vec<bool>,
    /// A per-aggregate constant argument (the fraction of `precision_at_top`), the same in every row.
    pub param: Option<f64>,
}

/// Runs `f` with the aggregate's memory context current, so a newly created state lives as long
/// as the aggregate does.
///
/// # Safety
/// `fcinfo` must be the running call's.
unsafe fn in_aggregate_context<R>(fcinfo: pg_sys::FunctionCallInfo, what: &str, f: impl FnOnce() -> R) -> R {
    let mut context: pg_sys::MemoryContext = std::ptr::null_mut();
    if pg_sys::AggCheckCallContext(fcinfo, &mut context) == 0 {
        invalid(format!("{what} can only be called as part of an aggregate"));
    }
    let old = pg_sys::MemoryContextSwitchTo(context);
    let r = f();
    pg_sys::MemoryContextSwitchTo(old);
    r
}

pub(crate) fn checked_score(score: f64) -> f64 {
    if !score.is_finite() {
        bad_data(format!("score {} is not a finite number", crate::core::error::sql_float(score)));
    }
    score
}

pub(crate) fn label_of_int(label: i64) -> bool {
    match label {
        0 => false,
        1 => true,
        other => bad_data(format!("label {other} is not 0 or 1")),
    }
}

pub(crate) fn push_pair(
    mut state: Internal,
    score: Option<f64>,
    label: Option<bool>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    // SAFETY: `fcinfo` is this transition call's, and the state is only ever a `Pairs` (every
    // function of these aggregates creates or reads it as one).
    unsafe {
        in_aggregate_context(fcinfo, "metric_pairs_accum", || {
            state.get_or_insert_default::<Pairs>();
        });
        if let (Some(s), Some(l)) = (score, label) {
            let pairs = state.get_mut::<Pairs>().expect("state was just initialized");
            if pairs.scores.len() == pairs.scores.capacity() {
                reserve_pairs(pairs, pairs.scores.len().max(1024));
            }
            pairs.scores.push(checked_score(s));
            pairs.labels.push(l);
        }
    }
    state
}

/// Room for `more` pairs (9 bytes each), within lead_scoring.max_memory and reserved fallibly
/// (an allocation failure aborts the backend): these aggregates keep every pair, so a huge group is an ERROR, not an abort.
fn reserve_pairs(pairs: &mut Pairs, more: usize) {
    let wanted = pairs.scores.len().saturating_add(more);
    let limit = crate::settings::max_memory();
    if let Err(e) = limit.check((wanted as u64).checked_mul(9), || {
        format!("{wanted} (score, label) pairs, which lift, the curves and precision_at_top keep until the end of a group")
    }) {
        raise_core(e);
    }
    if pairs.scores.try_reserve(more).is_err() || pairs.labels.try_reserve(more).is_err() {
        bad_data(format!("cannot keep {wanted} (score, label) pairs: the server is out of memory"));
    }
}

/// Records the aggregate's constant argument, which must not change between rows.
pub(crate) fn set_param(state: &mut Internal, value: f64, what: &str) {
    // SAFETY: the state is only ever a `Pairs` (see `push_pair`).
    let pairs = unsafe { state.get_mut::<Pairs>() }.expect("state is initialized by push_pair");
    match pairs.param {
        None => pairs.param = Some(value),
        Some(p) if p == value => {}
        Some(_) => invalid(format!("{what} must be the same for every row of a group")),
    }
}

/// State function of the pair-keeping metric aggregates (boolean labels).
#[pg_extern(immutable, parallel_safe)]
fn metric_pairs_accum(state: Internal, score: Option<f64>, label: Option<bool>, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    push_pair(state, score, label, fcinfo)
}

/// State function of the pair-keeping metric aggregates (integer 0/1 labels).
#[pg_extern(immutable, parallel_safe)]
fn metric_pairs_accum_int(state: Internal, score: Option<f64>, label: Option<i64>, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    push_pair(state, score, label.map(label_of_int), fcinfo)
}

/// Combine function: appends one worker's pairs to another's.
#[pg_extern(immutable, parallel_safe)]
fn metric_pairs_combine(mut a: Internal, b: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    // SAFETY: `fcinfo` is this combine call's; both states are `Pairs` (see `push_pair`).
    unsafe {
        in_aggregate_context(fcinfo, "metric_pairs_combine", || {
            a.get_or_insert_default::<Pairs>();
        });
        if let Some(other) = b.get::<Pairs>() {
            if let Some(p) = other.param {
                set_param(&mut a, p, "the constant argument");
            }
            let pairs = a.get_mut::<Pairs>().expect("state was just initialized");
            reserve_pairs(pairs, other.scores.len());
            pairs.scores.extend_from_slice(&other.scores);
            pairs.labels.extend_from_slice(&other.labels);
        }
    }
    a
}

/// Serializes a worker's pairs for the leader.
#[pg_extern(immutable, parallel_safe, strict)]
fn metric_pairs_serialize(state: Internal) -> Vec<u8> {
    // Layout: has-param byte, param (f64 LE), then the packed pairs.
    let empty = Pairs::default();
    // SAFETY: the state is only ever a `Pairs` (see `push_pair`).
    let p = unsafe { state.get::<Pairs>() }.unwrap_or(&empty);
    let mut out = vec![p.param.is_some() as u8];
    out.extend_from_slice(&p.param.unwrap_or(0.0).to_le_bytes());
    out.extend(encode_scored_labels(&p.scores, &p.labels));
    out
}

/// Reads back what [`metric_pairs_serialize`] wrote.
#[pg_extern(immutable, parallel_safe, strict)]
fn metric_pairs_deserialize(bytes: &[u8], _unused: Internal, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
    if bytes.len() < 9 {
        invalid("corrupt metric aggregate state");
    }
    let param = (bytes[0] != 0).then(|| f64::from_le_bytes(bytes[1..9].try_into().expect("8 bytes")));
    let (scores, labels) = decode_scored_labels(&bytes[9..]).unwrap_or_else(|e| raise_core(e.context("metric aggregate state")));
    // SAFETY: `fcinfo` is this deserialize call's.
    unsafe { in_aggregate_context(fcinfo, "metric_pairs_deserialize", || Internal::new(Pairs { scores, labels, param })) }
}

pub(crate) fn with_pairs<R>(state: &Internal, f: impl FnOnce(&Pairs) -> Option<R>) -> Option<R> {
    // SAFETY: the state is only ever a `Pairs` (see `push_pair`).
    unsafe { state.get::<Pairs>() }.and_then(f)
}

fn probability(score: f64) -> f64 {
    if !(0.0..=1.0).contains(&score) {
        bad_data(format!("score {score} is not a probability between 0 and 1"));
    }
    score
}

/// State of `log_loss` and `brier`: {sum, rows}. Scores must be probabilities.
fn add_loss(mut state: Vec<f64>, score: Option<f64>, label: Option<bool>, loss: fn(f64, bool) -> f64) -> Vec<f64> {
    if let (Some(s), Some(l)) = (score, label) {
        state[0] += loss(probability(s), l);
        state[1] += 1.0;
    }
    state
}

/// State function of `log_loss` (boolean labels).
#[pg_extern(immutable, parallel_safe)]
fn log_loss_accum(state: Vec<f64>, score: Option<f64>, label: Option<bool>) -> Vec<f64> {
    add_loss(state, score, label, log_loss_term)
}

/// State function of `log_loss` (integer 0/1 labels).
#[pg_extern(immutable, parallel_safe)]
fn log_loss_accum_int(state: Vec<f64>, score: Option<f64>, label: Option<i64>) -> Vec<f64> {
    add_loss(state, score, label.map(label_of_int), log_loss_term)
}

/// State function of `brier` (boolean labels).
#[pg_extern(immutable, parallel_safe)]
fn brier_accum(state: Vec<f64>, score: Option<f64>, label: Option<bool>) -> Vec<f64> {
    add_loss(state, score, label, brier_term)
}

/// State function of `brier` (integer 0/1 labels).
#[pg_extern(immutable, parallel_safe)]
fn brier_accum_int(state: Vec<f64>, score: Option<f64>, label: Option<i64>) -> Vec<f64> {
    add_loss(state, score, label.map(label_of_int), brier_term)
}

/// Combine function of sum states: element-wise addition.
#[pg_extern(immutable, parallel_safe, strict)]
fn metric_sums_combine(a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    a.iter().zip(&b).map(|(x, y)| x + y).collect()
}

/// Final function of `log_loss` and `brier`: the mean, NULL with no rows.
#[pg_extern(immutable, parallel_safe, strict)]
fn metric_mean_final(state: Vec<f64>) -> Option<f64> {
    (state[1] > 0.0).then(|| state[0] / state[1])
}

/// State of `confusion`: {tp, fp, tn, fn, threshold bits}; the threshold must be the same in every row.
fn add_confusion(mut state: Vec<i64>, score: Option<f64>, label: Option<bool>, threshold: Option<f64>) -> Vec<i64> {
    let Some(t) = threshold else { invalid("confusion() threshold must not be NULL") };
    if !t.is_finite() {
        invalid(format!("confusion() threshold {} is not a finite number", crate::core::error::sql_float(t)));
    }
    if state[4] == 0 {
        state[4] = 1;
        state[5] = t.to_bits() as i64;
    } else if state[5] != t.to_bits() as i64 {
        invalid("confusion() threshold must be the same for every row of a group");
    }
    if let (Some(s), Some(l)) = (score, label) {
        let predicted = checked_score(s) >= t;
        let slot = match (predicted, l) {
            (true, true) => 0,
            (true, false) => 1,
            (false, false) => 2,
            (false, true) => 3,
        };
        state[slot] += 1;
    }
    state
}

/// State function of `confusion` (boolean labels).
#[pg_extern(immutable, parallel_safe)]
fn confusion_accum(state: Vec<i64>, score: Option<f64>, label: Option<bool>, threshold: Option<f64>) -> Vec<i64> {
    add_confusion(state, score, label, threshold)
}

/// State function of `confusion` (integer 0/1 labels).
#[pg_extern(immutable, parallel_safe)]
fn confusion_accum_int(state: Vec<i64>, score: Option<f64>, label: Option<i64>, threshold: Option<f64>) -> Vec<i64> {
    add_confusion(state, score, label.map(label_of_int), threshold)
}

/// Combine function of `confusion`.
#[pg_extern(immutable, parallel_safe, strict)]
fn confusion_combine(a: Vec<i64>, b: Vec<i64>) -> Vec<i64> {
    if a[4] == 0 {
        return b;
    }
    if b[4] == 0 {
        return a;
    }
    if a[5] != b[5] {
        invalid("confusion() threshold must be the same for every row of a group");
    }
    vec![a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], 1, a[5]]
}

/// Final function of `confusion`: counts plus precision, recall, F1 and accuracy as jsonb; NULL
/// when no row had both a score and a label, like `roc_auc`, `sum` and other aggregates over no rows.
#[pg_extern(immutable, parallel_safe, strict)]
fn confusion_final(state: Vec<i64>) -> Option<JsonB> {
    let c = Confusion { tp: state[0] as u64, fp: state[1] as u64, tn: state[2] as u64, fn_: state[3] as u64 };
    if c.tp + c.fp + c.tn + c.fn_ == 0 {
        return None;
    }
    let threshold = (state[4] != 0).then(|| f64::from_bits(state[5] as u64));
    Some(JsonB(json!({
        "threshold": threshold,
        "tp": c.tp, "fp": c.fp, "tn": c.tn, "fn": c.fn_,
        "precision": c.precision(), "recall": c.recall(), "f1": c.f1(), "accuracy": c.accuracy(),
    })))
}

pgrx::extension_sql!(
    r#"
CREATE AGGREGATE log_loss(score float8, label boolean) (
    SFUNC = log_loss_accum, STYPE = float8[], INITCOND = '{0,0}', FINALFUNC = metric_mean_final,
    COMBINEFUNC = metric_sums_combine, PARALLEL = SAFE);
CREATE AGGREGATE log_loss(score float8, label bigint) (
    SFUNC = log_loss_accum_int, STYPE = float8[], INITCOND = '{0,0}', FINALFUNC = metric_mean_final,
    COMBINEFUNC = metric_sums_combine, PARALLEL = SAFE);
CREATE AGGREGATE brier(score float8, label boolean) (
    SFUNC = brier_accum, STYPE = float8[], INITCOND = '{0,0}', FINALFUNC = metric_mean_final,
    COMBINEFUNC = metric_sums_combine, PARALLEL = SAFE);
CREATE AGGREGATE brier(score float8, label bigint) (
    SFUNC = brier_accum_int, STYPE = float8[], INITCOND = '{0,0}', FINALFUNC = metric_mean_final,
    COMBINEFUNC = metric_sums_combine, PARALLEL = SAFE);
CREATE AGGREGATE confusion(score float8, label boolean, threshold float8) (
    SFUNC = confusion_accum, STYPE = int8[], INITCOND = '{0,0,0,0,0,0}', FINALFUNC = confusion_final,
    COMBINEFUNC = confusion_combine, PARALLEL = SAFE);
CREATE AGGREGATE confusion(score float8, label bigint, threshold float8) (
    SFUNC = confusion_accum_int, STYPE = int8[], INITCOND = '{0,0,0,0,0,0}', FINALFUNC = confusion_final,
    COMBINEFUNC = confusion_combine, PARALLEL = SAFE);
"#,
    name = "metric_aggregates",
    requires = [
        metric_pairs_accum,
        metric_pairs_accum_int,
        metric_pairs_combine,
        metric_pairs_serialize,
        metric_pairs_deserialize,
        log_loss_accum,
        log_loss_accum_int,
        brier_accum,
        brier_accum_int,
        metric_sums_combine,
        metric_mean_final,
        confusion_accum,
        confusion_accum_int,
        confusion_combine,
        confusion_final
    ]
);
