//! `lead_scoring.score_trend(score, history)`: improving / steady / declining against the
//! previous score the rescoring trigger keeps in `<score column>_history` (see attach.rs).

use pgrx::prelude::*;

use crate::core::monitoring::trend;
use crate::errors::{core_ok, required};

/// The lead's trend: 'improving' or 'declining' when `score` moved by more than `tolerance`
/// from the previous score (`history[1]`, newest first), 'steady' otherwise, 'new' without a
/// previous score; NULL for a lead not scored yet.
#[pg_extern(immutable, parallel_safe)]
fn score_trend(
    score: Option<f64>,
    history: Option<Vec<Option<f64>>>,
    tolerance: default!(Option<f64>, "0.02"),
) -> Option<String> {
    let tolerance = required(tolerance, "tolerance");
    let previous = history.and_then(|h| h.first().copied().flatten());
    score.map(|s| core_ok(trend(s, previous, tolerance)).to_string())
}
