//! What a logistic fit is told (its options and limits) and what it returns (the fit, or why
//! it failed).

use serde::{Deserialize, Serialize};
use std::fmt;

use super::objective::{dot, sigmoid};

/// Newton steps in a row that leave the objective unchanged (or higher) after which a fit stops
/// unconverged: the step is still above `tol`, but floating point cannot improve the objective
/// (a `tol` of 1e-300, say), so more iterations would only burn time up to `max_iter`.
pub const STALLED_ITERATIONS: usize = 3;

/// Bytes a Newton fit of `inputs` inputs holds in (d x d) matrices, d = inputs + 1: the Hessian,
/// its Cholesky factor and the partial Hessians the row passes sum (at most 4). None: too many to count.
pub fn newton_system_bytes(inputs: usize) -> Option<u64> {
    let d = inputs.checked_add(1)?;
    crate::resources::bytes_of::<f64>(d.checked_mul(d)?)?.checked_mul(6)
}

/// Options for [`fit_logistic`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticOptions {
    /// L2 penalty on the coefficients (scikit-learn's `1 / C`); finite and `>= 0`.
    pub alpha: f64,
    /// Maximum number of Newton iterations.
    pub max_iter: usize,
    /// Converged once every component of the Newton step (intercept included) is below this
    /// in absolute value.
    pub tol: f64,
}

impl Default for LogisticOptions {
    fn default() -> Self {
        LogisticOptions { alpha: 1.0, max_iter: 100, tol: 1e-8 }
    }
}

impl LogisticOptions {
    /// The options a fit accepts: `alpha` finite and `>= 0`, `tol` a number (0 means: iterate to
    /// `max_iter` or until the objective stops improving).
    pub fn check(&self) -> Result<(), LogisticError> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) || self.tol.is_nan() {
            let msg = format!("options alpha {} tol {}", self.alpha, self.tol);
            return Err(LogisticError::NotFinite(msg));
        }
        Ok(())
    }
}

/// A fitted model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogisticFit {
    /// Unpenalised intercept `b0`.
    pub intercept: f64,
    /// One coefficient per column of the training matrix.
    pub coefficients: Vec<f64>,
    /// Newton iterations performed.
    pub iterations: usize,
    /// False if `max_iter` was reached (or the line search stalled) before the step fell
    /// below `tol`; the coefficients are then the best found, still finite.
    pub converged: bool,
    /// Objective value (module docs) at the returned coefficients.
    pub objective: f64,
}

/// Why a fit failed.
#[derive(Debug)]
pub enum LogisticError {
    /// No rows, or every weight is zero.
    Empty,
    /// Lengths of `x`, `y` and `weights` disagree.
    DimensionMismatch(String),
    /// A weight is negative or not finite.
    InvalidWeight,
    /// Non-finite input or option, or the iteration diverged.
    NotFinite(String),
    /// The Hessian could not be factorised even after adding a ridge.
    Singular,
    /// The `on_iteration` callback returned this error (e.g. the user cancelled).
    Interrupted(String),
    /// A worker thread summing the rows failed (panicked).
    Worker(String),
    /// An error in linfa's terms: the `linfa::traits::Fit` interface requires the conversion;
    /// the fit itself never makes one.
    Linfa(linfa::Error),
    /// A pass of [`super::LogisticPasses`] failed; its error keeps its kind.
    Pass(crate::CoreError),
}

impl LogisticError {
    /// The kind of error a caller reports this as. Inputs and options are checked before a fit
    /// in the pipeline, so a non-finite value here means the iteration broke down.
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind as K;
        match self {
            Self::Empty => K::InsufficientData,
            Self::NotFinite(_) | Self::Singular => K::FitFailed,
            Self::InvalidWeight => K::InvalidData,
            Self::Interrupted(_) => K::Canceled,
            Self::DimensionMismatch(_) | Self::Worker(_) => K::Internal,
            Self::Pass(e) => e.kind,
            Self::Linfa(_) => K::InvalidArgument,
        }
    }
}

impl fmt::Display for LogisticError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "no training rows with positive weight"),
            Self::DimensionMismatch(m) => write!(f, "dimension mismatch: {m}"),
            Self::InvalidWeight => write!(f, "sample weights must be finite and >= 0"),
            Self::NotFinite(m) => write!(f, "non-finite value: {m}"),
            Self::Singular => write!(f, "singular Hessian (collinear/separable data?)"),
            Self::Interrupted(m) => write!(f, "fit interrupted: {m}"),
            Self::Worker(m) => write!(f, "{m}"),
            Self::Linfa(e) => write!(f, "{e}"),
            Self::Pass(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LogisticError {}

impl From<linfa::Error> for LogisticError {
    fn from(e: linfa::Error) -> Self {
        match e {
            linfa::Error::MismatchedShapes(a, b) => Self::DimensionMismatch(format!("{a} records, {b} targets")),
            linfa::Error::NotEnoughSamples => Self::Empty,
            other => Self::Linfa(other),
        }
    }
}

/// A failed fit as the core's error, with the message above and the kind of [`LogisticError::kind`].
impl From<LogisticError> for crate::CoreError {
    fn from(e: LogisticError) -> crate::CoreError {
        crate::CoreError::new(e.kind(), e.to_string())
    }
}

impl LogisticFit {
    /// `b0 + row . b`. Panics if `row.len()` differs from the number of coefficients.
    pub fn log_odds(&self, row: &[f64]) -> f64 {
        assert_eq!(row.len(), self.coefficients.len(), "row length != coefficients");
        self.intercept + dot(row, &self.coefficients)
    }

    /// Predicted probability of the positive class, `sigmoid(log_odds(row))`.
    pub fn probability(&self, row: &[f64]) -> f64 {
        sigmoid(self.log_odds(row))
    }
}
