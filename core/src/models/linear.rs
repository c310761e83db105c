//! Ridge regression (L2-penalised least squares) for a numeric label such as a deal value, the
//! regression member of the linear family: the same inputs, preprocessing and penalty option
//! (`alpha`) as the logistic model, and the same fitted form (intercept and coefficients), so
//! explanations, importance and the scoring path are shared.
//!
//! Minimised over the intercept `b0` and the coefficients `b`, the intercept unpenalised:
//!
//! ```text
//! f(b0, b) = sum_i (y_i - b0 - x_i . b)^2 + alpha * ||b||^2
//! ```
//!
//! scikit-learn's `Ridge(alpha)` minimises the same function. Its minimiser solves the normal
//! equations `(Z'Z + alpha D) beta = Z'y` with `Z = [1 X]` and `D = diag(0, 1, ..., 1)`, solved here
//! by the logistic fit's Cholesky (which adds a tiny ridge when `alpha = 0` and the inputs are
//! collinear, so a fit always has finite coefficients).

use crate::core_err;
use crate::data::DesignMatrix;
use crate::models::logistic::{newton_step, LogisticFit};
use crate::CoreResult;

/// Fits ridge regression of `y` on the rows of `x`. The result is a [`LogisticFit`] (the linear
/// predictor's intercept and coefficients; `iterations` is 1, the solve is exact) whose
/// `log_odds` is the predicted value.
pub fn fit_linear(x: &DesignMatrix, y: &[f64], alpha: f64) -> CoreResult<LogisticFit> {
    let (n, p) = (x.nrows(), x.ncols());
    if n != y.len() {
        return Err(core_err!(Internal, "linear regression: {n} rows but {} labels", y.len()));
    }
    if n == 0 {
        return Err(core_err!(InsufficientData, "linear regression needs at least one training row"));
    }
    if !(alpha >= 0.0 && alpha.is_finite()) {
        return Err(core_err!(InvalidArgument, "option \"alpha\" must be finite and >= 0, got {alpha}"));
    }
    if let Some(bad) = y.iter().find(|v| !v.is_finite()) {
        return Err(core_err!(InvalidData, "linear regression: a label is {bad}; labels must be finite"));
    }
    // Z'Z (lower triangle is enough for the Cholesky, the full matrix is cheap) and Z'y, with
    // column 0 the intercept's constant 1.
    let d = p + 1;
    let mut a = vec![0.0; d * d];
    let mut zy = vec![0.0; d];
    let mut z = vec![0.0; d];
    z[0] = 1.0;
    for (i, &yi) in y.iter().enumerate() {
        x.row_into(i, &mut z[1..]);
        for r in 0..d {
            if z[r] == 0.0 {
                continue;
            }
            zy[r] += z[r] * yi;
            let row = &mut a[r * d..r * d + d];
            for (c, zc) in z.iter().enumerate().take(r + 1) {
                row[c] += z[r] * zc;
            }
        }
    }
    for r in 0..d {
        for c in r + 1..d {
            a[r * d + c] = a[c * d + r];
        }
    }
    for j in 1..d {
        a[j * d + j] += alpha;
    }
    // newton_step solves A s = -g: with g = -Z'y, s is the minimiser.
    let g: Vec<f64> = zy.iter().map(|v| -v).collect();
    let (mut l, mut beta) = (vec![0.0; d * d], vec![0.0; d]);
    if !newton_step(&a, &g, d, &mut l, &mut beta) {
        return Err(core_err!(FitFailed, "linear regression: the normal equations could not be solved (inputs not finite?)"));
    }
    let mut fit =
        LogisticFit { intercept: beta[0], coefficients: beta[1..].to_vec(), iterations: 1, converged: true, objective: 0.0 };
    let mut row = vec![0.0; p];
    let mut sse = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        x.row_into(i, &mut row);
        sse += (yi - fit.log_odds(&row)).powi(2);
    }
    fit.objective = sse + alpha * fit.coefficients.iter().map(|b| b * b).sum::<f64>();
    Ok(fit)
}

#[cfg(test)]
#[path = "linear_tests.rs"]
mod tests;
