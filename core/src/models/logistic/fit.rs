//! The Newton (IRLS) iterations with backtracking line search, over a dense or sparse design
//! matrix; each iteration's sums come from [`super::passes`].

use ndarray::ArrayView2;

use super::newton::newton_step;
use super::objective::dot;
use super::params::{LogisticError, LogisticFit, LogisticOptions, STALLED_ITERATIONS};
use super::passes::{Plan, Problem};
use crate::data::DesignRows;
use crate::resources::{Cancel, NeverCancel};

/// Fits the model (objective in the module docs) by damped Newton iterations.
///
/// `x` is n x p in any layout (non-row-major input is copied once); `y` and `weights` have n
/// entries. Starts at `b = 0`, `b0 = logit(weighted base rate)`, or from 200,000 dense rows on
/// where a fit of the first eighth of the rows ends (see `warm_start`). Each iteration solves the
/// Newton system by Cholesky, halves the step until the objective decreases enough (Armijo),
/// then calls `on_iteration(iteration, objective)` (also once as iteration 0 with the starting
/// objective, before the first step), whose `Err` aborts with
/// [`LogisticError::Interrupted`]. Stops with `converged = true` once every component of the
/// Newton step is below `opts.tol` in absolute value, or with `converged = false` after
/// `opts.max_iter` iterations. Never returns non-finite coefficients. The passes over the rows
/// skip zero inputs and, from 20,000 rows on, run on up to 4 threads
/// ([`crate::models::logistic_accumulate`]); the result does not depend on the number of threads.
pub fn fit_logistic(
    x: ArrayView2<f64>,
    y: &[bool],
    weights: &[f64],
    opts: &LogisticOptions,
    on_iteration: &mut dyn FnMut(usize, f64) -> Result<(), String>,
) -> Result<LogisticFit, LogisticError> {
    fit_logistic_with(x, y, weights, opts, None, on_iteration)
}

/// [`fit_logistic`] summing by `plan` (default: [`Plan::for_rows`]); tests compare plans.
pub(crate) fn fit_logistic_with(
    x: ArrayView2<f64>,
    y: &[bool],
    weights: &[f64],
    opts: &LogisticOptions,
    plan: Option<Plan>,
    on_iteration: &mut dyn FnMut(usize, f64) -> Result<(), String>,
) -> Result<LogisticFit, LogisticError> {
    let owned: Vec<f64>;
    let xs = match x.as_slice() {
        Some(s) => s,
        None => {
            owned = x.iter().copied().collect();
            &owned
        }
    };
    let rows = DesignRows::Dense { x: xs, rows: x.nrows(), cols: x.ncols() };
    fit_logistic_rows(rows, y, weights, opts, plan, &NeverCancel, on_iteration)
}

/// [`fit_logistic`] over a design matrix's rows, dense or sparse
/// ([`crate::data::DesignMatrix::rows`]). `cancel` is also asked inside each pass over the
/// rows (every [`super::passes::CANCEL_CHECK_ROWS`] rows), because one pass over a large table
/// can take longer than a user waits for a cancel; `on_iteration` runs between passes only.
pub(crate) fn fit_logistic_rows(
    x: DesignRows<'_>,
    y: &[bool],
    weights: &[f64],
    opts: &LogisticOptions,
    plan: Option<Plan>,
    cancel: &dyn Cancel,
    on_iteration: &mut dyn FnMut(usize, f64) -> Result<(), String>,
) -> Result<LogisticFit, LogisticError> {
    fit_rows(x, y, weights, opts, plan, WARM_START_MIN_ROWS, cancel, on_iteration)
}

/// [`fit_logistic_rows`], warm-started from `warm_from` rows on; tests compare starts.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_rows(
    x: DesignRows<'_>,
    y: &[bool],
    weights: &[f64],
    opts: &LogisticOptions,
    plan: Option<Plan>,
    warm_from: usize,
    cancel: &dyn Cancel,
    on_iteration: &mut dyn FnMut(usize, f64) -> Result<(), String>,
) -> Result<LogisticFit, LogisticError> {
    type E = LogisticError;
    let (n, p) = (y.len(), x.ncols());
    if x.nrows() != n || weights.len() != n {
        let n = x.nrows();
        let msg = format!("x has {n} rows, y {}, weights {}", y.len(), weights.len());
        return Err(E::DimensionMismatch(msg));
    }
    opts.check()?;
    let sw: f64 = weights.iter().sum();
    if weights.iter().any(|w| w.is_nan() || *w < 0.0) || !sw.is_finite() {
        return Err(E::InvalidWeight);
    }
    if sw == 0.0 {
        return Err(E::Empty); // also n == 0
    }
    if let Some((i, j, v)) = x.first_non_finite() {
        return Err(E::NotFinite(format!("x[{i}, {j}] = {v}")));
    }
    let warm =
        if x.nrows() >= warm_from { warm_start(&x, y, weights, opts, plan, warm_from, cancel, on_iteration)? } else { None };
    let plan = plan.unwrap_or_else(|| Plan::for_rows(n));
    let prob = Problem::over(x, y, weights, opts.alpha, plan).stopping_on(cancel);

    let d = p + 1;
    let mut theta = warm.unwrap_or_else(|| {
        let mut theta = vec![0.0; d];
        let rate = positive_weight(y, weights) / sw;
        if rate > 0.0 && rate < 1.0 {
            theta[0] = (rate / (1.0 - rate)).ln();
        }
        theta
    });
    let (mut g, mut step, mut trial) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
    let (mut h, mut l) = (vec![0.0; d * d], vec![0.0; d * d]);
    let mut f = prob.objective(&theta)?;
    prob.accumulate(&theta, &mut g, &mut h)?;
    // Iteration 0: the first passes over the rows are as long as an iteration, so the caller
    // may stop before the first Newton step too.
    on_iteration(0, f).map_err(E::Interrupted)?;
    let (mut iterations, mut converged, mut stalled) = (0, false, 0);
    while iterations < opts.max_iter && f.is_finite() {
        iterations += 1;
        if !newton_step(&h, &g, d, &mut l, &mut step) {
            return Err(E::Singular);
        }
        let small = step.iter().all(|s| s.abs() < opts.tol);
        // g' H^-1 g = twice the predicted decrease. Below f's rounding noise the Armijo test
        // is meaningless, and we are at the optimum anyway: take the full step.
        let decrement = -dot(&g, &step);
        let full = small || decrement <= 1e-10 * (f.abs() + 1.0);
        let mut t = 1.0;
        let f_new = loop {
            for ((v, th), s) in trial.iter_mut().zip(&theta).zip(&step) {
                *v = th + t * s;
            }
            let ft = prob.objective(&trial)?;
            if full || (ft.is_finite() && ft <= f - 1e-4 * t * decrement) {
                break Some(ft);
            }
            t *= 0.5;
            if t < 1e-9 {
                break None; // no decrease along a descent direction: numerically stuck
            }
        };
        let Some(f_new) = f_new else { break };
        if !f_new.is_finite() || trial.iter().any(|v| !v.is_finite()) {
            return Err(E::NotFinite(format!("diverged at iteration {iterations}")));
        }
        std::mem::swap(&mut theta, &mut trial);
        stalled = if f_new >= f { stalled + 1 } else { 0 };
        f = f_new;
        on_iteration(iterations, f).map_err(E::Interrupted)?;
        if small {
            converged = true;
            break;
        }
        if stalled >= STALLED_ITERATIONS {
            break; // tol is finer than the objective can resolve: more steps change nothing
        }
        if iterations < opts.max_iter {
            prob.accumulate(&theta, &mut g, &mut h)?;
        }
    }
    if !f.is_finite() {
        return Err(E::NotFinite("objective overflowed".into()));
    }
    let coefficients = theta[1..].to_vec();
    Ok(LogisticFit { intercept: theta[0], coefficients, iterations, converged, objective: f })
}

/// The total weight of the positive rows.
fn positive_weight(y: &[bool], weights: &[f64]) -> f64 {
    y.iter().zip(weights).filter(|(&yi, _)| yi).map(|(_, w)| w).sum()
}

/// Rows from which a dense fit starts where a fit on a share of its rows ended.
pub(crate) const WARM_START_MIN_ROWS: usize = 200_000;
/// The warm start fits the first `1 / WARM_START_SHARE` of the rows.
const WARM_START_SHARE: usize = 8;
/// Step tolerance of the warm start's own fit: it only has to land near the optimum, which its
/// sampling error (about sqrt(8) standard errors) keeps it from hitting anyway.
const WARM_START_TOL: f64 = 1e-3;

/// Where the Newton iterations over many rows start: the fit of the first rows, weights scaled so
/// the penalty weighs the same against them. Newton from zero takes about 8 full passes on a lead
/// table; from there the full rows need about 3, at the price of one pass's worth on the share
/// (`fit_speed_600k_by_70`). The optimum is unique (strictly convex objective with alpha > 0,
/// and every start converges by the line search), so only the time changes, and the training
/// rows come in content order (a hash order), so the first rows are a fair sample of them.
/// `None` (start from zero): small or sparse data, a share with one class, or a share whose fit
/// fails; the caller's cancel still stops it.
#[allow(clippy::too_many_arguments)]
fn warm_start(
    x: &DesignRows<'_>,
    y: &[bool],
    weights: &[f64],
    opts: &LogisticOptions,
    plan: Option<Plan>,
    warm_from: usize,
    cancel: &dyn Cancel,
    on_iteration: &mut dyn FnMut(usize, f64) -> Result<(), String>,
) -> Result<Option<Vec<f64>>, LogisticError> {
    let DesignRows::Dense { x: xs, rows, cols } = *x else { return Ok(None) };
    let m = rows / WARM_START_SHARE;
    let share_weight: f64 = weights[..m].iter().sum();
    let positive = positive_weight(&y[..m], &weights[..m]);
    if !(positive > 0.0 && positive < share_weight) {
        return Ok(None);
    }
    let scale = weights.iter().sum::<f64>() / share_weight;
    let scaled: Vec<f64> = weights[..m].iter().map(|w| w * scale).collect();
    let share_opts = LogisticOptions { tol: opts.tol.max(WARM_START_TOL), ..*opts };
    let share = DesignRows::Dense { x: &xs[..m * cols], rows: m, cols };
    match fit_rows(share, &y[..m], &scaled, &share_opts, plan, warm_from, cancel, &mut |_, f| on_iteration(0, f)) {
        Ok(fit) => Ok(Some([[fit.intercept].as_slice(), &fit.coefficients].concat())),
        Err(LogisticError::Interrupted(why)) => Err(LogisticError::Interrupted(why)),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::objective::{logloss, residual_and_variance, sigmoid};
    use super::*;
    use ndarray::{s, Array2, Axis, ShapeBuilder};
    use LogisticError as E;

    fn fit(x: &Array2<f64>, y: &[bool], w: &[f64], alpha: f64) -> Result<LogisticFit, E> {
        let mut opts = LogisticOptions::default();
        (opts.alpha, opts.tol) = (alpha, 1e-10);
        fit_logistic(x.view(), y, w, &opts, &mut |_, _| Ok(()))
    }

    /// Deterministic data: xorshift features in [-2, 2), labels from a noisy linear score.
    fn data(n: usize, p: usize, seed: u64) -> (Array2<f64>, Vec<bool>) {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut u = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let x = Array2::from_shape_fn((n, p), |_| 4.0 * u() - 2.0);
        let score = |i: usize| (0..p).map(|j| x[[i, j]] / (j + 1) as f64).sum::<f64>();
        let y = (0..n).map(|i| score(i) + 2.0 * u() - 1.0 > 0.3).collect();
        (x, y)
    }

    fn assert_close(m: &LogisticFit, intercept: f64, coef: &[f64], tol: f64) {
        assert!((m.intercept - intercept).abs() < tol, "{m:?} vs {intercept}");
        for (j, (u, v)) in m.coefficients.iter().zip(coef).enumerate() {
            assert!((u - v).abs() < tol, "coef {j}: {u} vs {v}");
        }
    }

    #[test]
    fn gradient_vanishes_at_solution() {
        let (x, y) = data(300, 4, 1);
        let w: Vec<f64> = (0..300).map(|i| 0.5 + (i % 3) as f64).collect();
        let m = fit(&x, &y, &w, 0.7).unwrap();
        assert!(m.converged && m.iterations < 15, "{m:?}");
        // Gradient of the documented objective, computed naively.
        let mut g: Vec<f64> = [0.0].iter().chain(&m.coefficients).map(|b| 0.7 * b).collect();
        for (i, row) in x.rows().into_iter().enumerate() {
            let r = w[i] * (m.probability(row.as_slice().unwrap()) - y[i] as u8 as f64);
            g[0] += r;
            row.iter().enumerate().for_each(|(j, v)| g[j + 1] += r * v);
        }
        assert!(g.iter().all(|v| v.abs() < 1e-8), "{g:?}");
    }

    #[test]
    fn intercept_only_is_logit_of_weighted_base_rate() {
        let (y, w) = ([true, false, true, false, false], [1.0, 2.0, 3.0, 0.5, 0.0]);
        let (m, rate) = (fit(&Array2::zeros((5, 0)), &y, &w, 1.0).unwrap(), 4.0 / 6.5);
        assert!(m.converged && m.coefficients.is_empty());
        assert!((m.intercept - f64::ln(rate / (1.0 - rate))).abs() < 1e-12);
        assert!((m.probability(&[]) - rate).abs() < 1e-12);
    }

    #[test]
    fn weight_two_equals_duplicated_row() {
        let (x, y) = data(60, 3, 2);
        let w: Vec<f64> = (0..60).map(|i| if i < 10 { 2.0 } else { 1.0 }).collect();
        let weighted = fit(&x, &y, &w, 0.3).unwrap();
        let mut xd = x.clone();
        xd.append(Axis(0), x.slice(s![..10, ..])).unwrap();
        let yd: Vec<bool> = y.iter().chain(&y[..10]).copied().collect();
        let dup = fit(&xd, &yd, &[1.0; 70], 0.3).unwrap();
        assert_close(&weighted, dup.intercept, &dup.coefficients, 1e-10);
        assert!((weighted.objective - dup.objective).abs() < 1e-9);
    }

    #[test]
    fn separable_or_collinear_data_stays_finite() {
        let x = Array2::from_shape_fn((40, 2), |(i, j)| i as f64 - 19.5 + j as f64 * 0.1);
        let y: Vec<bool> = (0..40).map(|i| i >= 20).collect();
        let m = fit(&x, &y, &[1.0; 40], 1e-8).unwrap();
        assert!(m.intercept.is_finite() && m.coefficients.iter().all(|c| c.is_finite()));
        assert!(m.probability(&[5.0, 5.0]) > 0.99 && m.probability(&[-5.0, -5.0]) < 0.01);
        // alpha = 0: no minimiser exists; must end cleanly, never with NaN.
        match fit(&x, &y, &[1.0; 40], 0.0) {
            Ok(m) => assert!(!m.converged && m.coefficients.iter().all(|c| c.is_finite())),
            Err(e) => assert!(matches!(e, E::Singular | E::NotFinite(_)), "{e}"),
        }
        // Identical columns with alpha = 0: the ridge fallback still reaches the (flat) optimum.
        let xc = Array2::from_shape_fn((50, 2), |(i, _)| (i % 7) as f64);
        let yc: Vec<bool> = (0..50).map(|i| i % 3 == 0).collect();
        let m = fit(&xc, &yc, &[1.0; 50], 0.0).unwrap();
        assert!(m.coefficients.iter().all(|c| c.is_finite()));
    }

    #[test]
    fn layout_independent_and_callback_order() {
        let (x, y) = data(201, 5, 3); // 201 rows: a partial last block
        let a = fit(&x, &y, &[1.0; 201], 1.0).unwrap();
        let mut xf = Array2::zeros((201, 5).f());
        xf.assign(&x);
        let mut seen = vec![];
        let mut cb = |i: usize, f: f64| {
            seen.push((i, f));
            Ok(())
        };
        let opts = LogisticOptions { tol: 1e-10, ..Default::default() };
        let b = fit_logistic(xf.view(), &y, &[1.0; 201], &opts, &mut cb).unwrap();
        assert_eq!(a, b);
        // Iteration 0 (the starting objective, before the first step), then 1, 2, ...
        assert!(seen.iter().enumerate().all(|(k, (i, _))| *i == k));
        assert!(seen.windows(2).all(|s| s[1].1 <= s[0].1), "objective increased");
        assert_eq!((seen.len(), seen.last().unwrap().1), (b.iterations + 1, b.objective));
    }

    #[test]
    fn errors_and_interrupt() {
        let (x, y) = data(10, 2, 4);
        let w = [1.0; 10];
        assert!(matches!(fit(&x, &y[..9], &w, 1.0), Err(E::DimensionMismatch(_))));
        let bad: Vec<f64> = (0..10).map(|i| if i == 3 { -1.0 } else { 1.0 }).collect();
        assert!(matches!(fit(&x, &y, &bad, 1.0), Err(E::InvalidWeight)));
        assert!(matches!(fit(&x, &y, &[0.0; 10], 1.0), Err(E::Empty)));
        assert!(matches!(fit(&Array2::zeros((0, 2)), &[], &[], 1.0), Err(E::Empty)));
        let mut xn = x.clone();
        xn[[2, 1]] = f64::NAN;
        assert!(matches!(fit(&xn, &y, &w, 1.0), Err(E::NotFinite(_))));
        assert!(matches!(fit(&x, &y, &w, -1.0), Err(E::NotFinite(_))));
        let mut opts = LogisticOptions::default();
        let r = fit_logistic(x.view(), &y, &w, &opts, &mut |_, _| Err("cancel".into()));
        assert!(matches!(r, Err(E::Interrupted(m)) if m == "cancel"));
        (opts.max_iter, opts.tol) = (1, 0.0);
        let m = fit_logistic(x.view(), &y, &w, &opts, &mut |_, _| Ok(())).unwrap();
        assert!(!m.converged && m.iterations == 1);
    }

    #[test]
    fn sigmoid_and_loss_are_stable() {
        assert_eq!([sigmoid(0.0), sigmoid(1e3), sigmoid(-1e3)], [0.5, 1.0, 0.0]);
        assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() < 1e-15 && sigmoid(-700.0) > 0.0);
        assert!((logloss(-800.0, true) - 800.0).abs() < 1e-9 && logloss(800.0, true) == 0.0);
        assert_eq!(residual_and_variance(-800.0, true), (-1.0, 0.0));
        assert_eq!(residual_and_variance(800.0, false), (1.0, 0.0));
    }

    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        alpha: f64,
        x: Vec<Vec<f64>>,
        y: Vec<u8>,
        w: Vec<f64>,
        intercept: f64,
        coef: Vec<f64>,
    }

    /// Fixtures from tests/fixtures/gen_logistic.py: sklearn LogisticRegression(C = 1 / alpha).
    #[test]
    fn matches_scikit_learn() {
        let json = include_str!("../../../../tests/fixtures/logistic_sklearn.json");
        let fx: serde_json::Value = serde_json::from_str(json).unwrap();
        let cases: Vec<Case> = serde_json::from_value(fx["cases"].clone()).unwrap();
        assert!(fx["sklearn_version"].is_string() && cases.len() == 3);
        for c in &cases {
            let x = Array2::from_shape_vec((c.x.len(), c.coef.len()), c.x.concat()).unwrap();
            let y: Vec<bool> = c.y.iter().map(|&v| v == 1).collect();
            let m = fit(&x, &y, &c.w, c.alpha).unwrap();
            assert!(m.converged, "{}", c.name);
            assert_close(&m, c.intercept, &c.coef, 1e-6);
        }
    }

    /// Timing only: `cargo test --release -- --ignored --nocapture speed_1m_by_60`.
    #[test]
    #[ignore]
    fn speed_1m_by_60() {
        let (n, p) = (1_000_000, 60);
        let (x, y) = data(n, p, 5);
        let opts = LogisticOptions { max_iter: 5, ..Default::default() };
        let (start, mut last) = (std::time::Instant::now(), std::time::Instant::now());
        let mut cb = |i: usize, f: f64| {
            eprintln!("iter {i}: f = {f:.4}, {:.3} s", last.elapsed().as_secs_f64());
            last = std::time::Instant::now();
            Ok(())
        };
        let m = fit_logistic(x.view(), &y, &vec![1.0; n], &opts, &mut cb).unwrap();
        let per = start.elapsed().as_secs_f64() / m.iterations as f64;
        eprintln!("{} iterations, {per:.3} s/iteration incl. setup", m.iterations);
    }
}
