//! L2-regularised logistic regression with per-row sample weights, fitted by Newton's method
//! (IRLS) with a hand-written Cholesky solve and backtracking line search. Pure Rust, no BLAS.
//!
//! Objective minimised over the intercept `b0` and coefficients `b`:
//!
//! ```text
//! f(b0, b) = sum_i w_i * logloss(y_i, sigmoid(b0 + x_i . b)) + (alpha / 2) * ||b||^2
//! logloss(y, p) = -(y ln p + (1 - y) ln(1 - p))
//! ```
//!
//! The intercept is not penalised. scikit-learn documents `LogisticRegression` (L2) as
//! `C * sum_i s_i * logloss_i + ||b||^2 / 2` (internally: that divided by `C * sum(s)`), which
//! has the same minimiser with `alpha = 1 / C` for any weights; checked numerically against
//! scikit-learn 1.9.1 by `tests/fixtures/gen_logistic.py` and the tests below.
//!
//! Files: `params` (options, the fit, errors), `objective` (loss pieces), `newton` (the step's
//! linear solve), `passes` (the sums over the rows, sparse-aware and threaded), `fit` (the
//! iterations), `hyperparams` and `estimator` (the fit as a linfa estimator: `Fit` over a
//! `linfa::Dataset` with its sample weights, `Predict` of probabilities and labels).

mod by_passes;
mod estimator;
mod fit;
mod hyperparams;
mod newton;
mod objective;
mod params;
mod passes;

pub use by_passes::{accumulate_row, combine, fit_logistic_by_passes, new_state, LogisticPasses};
pub use fit::fit_logistic;
pub(crate) use fit::fit_logistic_rows;
#[cfg(test)]
pub(crate) use fit::{fit_logistic_with, fit_rows};
pub use hyperparams::{LogisticParams, ValidLogisticParams};
pub(crate) use newton::newton_step;
pub use objective::sigmoid;
pub use params::{newton_system_bytes, LogisticError, LogisticFit, LogisticOptions};
