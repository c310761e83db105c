//! Score trend per lead: a lead's score against its previous one, from the short history the
//! rescoring trigger keeps (newest first).

use crate::core_err;
use crate::CoreResult;

/// Previous scores kept per lead.
pub const SCORE_HISTORY: usize = 5;

/// The history after a score change: the previous score first, then the older ones, at most
/// `keep` in all.
pub fn push_history(previous: f64, history: &[f64], keep: usize) -> Vec<f64> {
    std::iter::once(previous).chain(history.iter().copied()).take(keep).collect()
}

/// improving / steady / declining against the previous score; "new" without one.
pub fn trend(score: f64, previous: Option<f64>, tolerance: f64) -> CoreResult<&'static str> {
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(core_err!(InvalidArgument, "tolerance must be a number >= 0, got {}", crate::error::sql_float(tolerance)));
    }
    if score.is_nan() || previous.is_some_and(f64::is_nan) {
        return Err(core_err!(InvalidData, "scores must not be NaN"));
    }
    Ok(match previous {
        None => "new",
        Some(p) if score - p > tolerance => "improving",
        Some(p) if p - score > tolerance => "declining",
        Some(_) => "steady",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_newest_scores_first() {
        assert_eq!(push_history(0.3, &[], 5), vec![0.3]);
        assert_eq!(push_history(0.6, &[0.5, 0.4, 0.3, 0.2, 0.1], 5), vec![0.6, 0.5, 0.4, 0.3, 0.2]);
    }

    #[test]
    fn trend_compares_with_the_previous_score() {
        assert_eq!(trend(0.5, None, 0.02).unwrap(), "new");
        assert_eq!(trend(0.5, Some(0.4), 0.02).unwrap(), "improving");
        assert_eq!(trend(0.4, Some(0.5), 0.02).unwrap(), "declining");
        assert_eq!(trend(0.51, Some(0.5), 0.02).unwrap(), "steady");
        assert!(trend(0.5, Some(0.4), -1.0).is_err());
        assert!(trend(f64::NAN, None, 0.02).is_err());
    }
}
