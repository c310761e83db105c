//! Logistic regression fitted by iterated aggregate passes (the `aggregate` engine): each Newton
//! iteration is one pass over the training rows that sums the log loss, the gradient X'(p - y)
//! and the Hessian X'WX into a fixed-size state, so the fit needs memory independent of the
//! row count, and the passes can run in parallel workers (the states of two workers add up).
//! The objective, the starting point, the Newton step, the line search and the stopping rule are
//! those of [`super::fit_logistic`], so both engines reach the same coefficients.
//!
//! A row enters a pass as sparse inputs: ascending input indexes with their values (the
//! one-hot columns of a text feature contribute one index, with value 1).

use super::newton::newton_step;
use super::objective::{dot, logloss, residual_and_variance};
use super::params::{LogisticError, LogisticFit, LogisticOptions, STALLED_ITERATIONS};
use crate::core_err;
use crate::data::{CappedLevels, Column, PreprocessOptions, Preprocessor};
use crate::CoreResult;

/// Leading entries of a state: d (inputs + 1 for the intercept), rows, weighted log loss.
const HEADER: usize = 3;

/// Length of a pass state for `d` parameters (intercept included): header, gradient (d), input
/// sums (d - 1, for the explanation baseline), Hessian upper triangle row by row (d (d + 1) / 2).
pub fn state_len(d: usize) -> usize {
    HEADER + d + (d - 1) + d * (d + 1) / 2
}

/// An empty state for `d` parameters.
pub fn new_state(d: usize) -> Vec<f64> {
    let mut s = vec![0.0; state_len(d)];
    s[0] = d as f64;
    s
}

/// Parameters of a state, checked against its length.
pub fn state_params(state: &[f64]) -> CoreResult<usize> {
    let d = state.first().copied().unwrap_or(0.0);
    if !(d >= 1.0 && d.fract() == 0.0 && d < 1e6) || state_len(d as usize) != state.len() {
        return Err(core_err!(Internal, "not a logistic pass state (length {}, header {d})", state.len()));
    }
    Ok(d as usize)
}

/// Offset of the Hessian entry (j, k), j <= k, in the packed upper triangle.
#[inline(always)]
fn tri(d: usize, j: usize, k: usize) -> usize {
    j * d - j * j.saturating_sub(1) / 2 + (k - j)
}

/// Adds one training row at `theta` (intercept first). `inputs` are (index, value) pairs with
/// strictly ascending indexes below d - 1; `nonzero` is a reused buffer.
pub fn accumulate_row(
    state: &mut [f64],
    theta: &[f64],
    inputs: impl Iterator<Item = (i32, f64)>,
    label: bool,
    weight: f64,
    nonzero: &mut Vec<(usize, f64)>,
) -> CoreResult<()> {
    let d = theta.len();
    if state.len() != state_len(d) || state[0] != d as f64 {
        return Err(core_err!(InvalidArgument, "the pass state has {:?} parameters but theta has {d}", state.first()));
    }
    if !(weight >= 0.0 && weight.is_finite()) {
        return Err(core_err!(InvalidData, "sample weight {weight} must be finite and >= 0"));
    }
    nonzero.clear();
    nonzero.push((0, 1.0));
    for (i, v) in inputs {
        let j = usize::try_from(i).map_or(usize::MAX, |i| i + 1);
        if j >= d || j <= nonzero.last().expect("intercept").0 {
            return Err(core_err!(InvalidData, "input index {i} is out of order or out of range (0 to {})", d - 2));
        }
        if !v.is_finite() {
            return Err(core_err!(
                InvalidData,
                "input {i} is {}; NaN and Infinity are not valid feature values",
                crate::error::sql_float(v)
            ));
        }
        nonzero.push((j, v));
    }
    let (head, rest) = state.split_at_mut(HEADER);
    let (g, rest) = rest.split_at_mut(d);
    let (sums, h) = rest.split_at_mut(d - 1);
    head[1] += 1.0;
    for &(j, v) in &nonzero[1..] {
        sums[j - 1] += v;
    }
    if weight == 0.0 {
        return Ok(());
    }
    let z: f64 = nonzero.iter().map(|&(j, v)| theta[j] * v).sum();
    head[2] += weight * logloss(z, label);
    let (resid, variance) = residual_and_variance(z, label);
    let (r, s) = (weight * resid, weight * variance);
    for (a, &(j, vj)) in nonzero.iter().enumerate() {
        g[j] += r * vj;
        let sv = s * vj;
        let row = tri(d, j, j);
        for &(k, vk) in &nonzero[a..] {
            h[row + (k - j)] += sv * vk;
        }
    }
    Ok(())
}

/// Adds state `b` into `a` (the combine step of parallel workers).
pub fn combine(a: &mut [f64], b: &[f64]) -> CoreResult<()> {
    if a.len() != b.len() || a.first() != b.first() {
        return Err(core_err!(InvalidArgument, "cannot combine logistic pass states of different sizes"));
    }
    for (x, y) in a[1..].iter_mut().zip(&b[1..]) {
        *x += y;
    }
    Ok(())
}

/// The training rows of the aggregate engine (in SQL: one aggregate query per pass).
pub trait LogisticPasses {
    /// The preprocessing fitted on the whole training part, when the rows given to the core are
    /// a sample of it (the SQL layer computes it from aggregates over the source); `columns`
    /// name the features and their kinds. None: it is fitted on the rows given.
    fn full_preprocessor(
        &mut self,
        _columns: &[Column],
        _opts: &PreprocessOptions,
    ) -> CoreResult<Option<(Preprocessor, Vec<CappedLevels>)>> {
        Ok(None)
    }

    /// The whole training part's rows and converted rows, when the rows given are a sample of
    /// it: the class weights and the starting intercept come from them.
    fn training_counts(&self) -> Option<(usize, usize)> {
        None
    }

    /// Called once before the passes with the fitted preprocessing and the class weights
    /// (negative, positive) every row is to be transformed and weighted by.
    fn prepare(&mut self, _preprocessor: &Preprocessor, _class_weights: (f64, f64)) -> CoreResult<()> {
        Ok(())
    }

    /// Runs one pass over the training rows at `theta` (intercept first): the summed state.
    fn pass(&mut self, theta: &[f64]) -> CoreResult<Vec<f64>>;
}

/// Objective, gradient and full Hessian (penalty included) at one point, from a pass state.
struct Evaluated {
    objective: f64,
    g: Vec<f64>,
    h: Vec<f64>,
    rows: f64,
    sums: Vec<f64>,
}

fn evaluate(passes: &mut dyn LogisticPasses, theta: &[f64], alpha: f64) -> CoreResult<Evaluated> {
    let state = passes.pass(theta)?;
    let d = state_params(&state)?;
    if d != theta.len() {
        return Err(core_err!(Internal, "a pass returned {d} parameters, expected {}", theta.len()));
    }
    let (rows, loss) = (state[1], state[2]);
    let mut g = state[HEADER..HEADER + d].to_vec();
    let sums = state[HEADER + d..HEADER + 2 * d - 1].to_vec();
    let packed = &state[HEADER + 2 * d - 1..];
    let mut h = vec![0.0; d * d];
    for j in 0..d {
        for k in j..d {
            let v = packed[tri(d, j, k)];
            h[j * d + k] = v;
            h[k * d + j] = v;
        }
    }
    for j in 1..d {
        h[j * d + j] += alpha;
        g[j] += alpha * theta[j];
    }
    let objective = loss + 0.5 * alpha * dot(&theta[1..], &theta[1..]);
    Ok(Evaluated { objective, g, h, rows, sums })
}

/// Fits `width` coefficients and an intercept by damped Newton iterations, one pass per
/// evaluated point, starting at `intercept0` (the logit of the weighted base rate) and zeros.
/// Returns the fit and the mean of every input over the rows.
pub fn fit_logistic_by_passes(
    width: usize,
    intercept0: f64,
    opts: &LogisticOptions,
    passes: &mut dyn LogisticPasses,
    on_iteration: &mut dyn FnMut(usize, f64) -> Result<(), String>,
) -> Result<(LogisticFit, Vec<f64>), LogisticError> {
    type E = LogisticError;
    opts.check()?;
    let d = width + 1;
    let mut theta = vec![0.0; d];
    theta[0] = intercept0;
    let mut cur = evaluate(passes, &theta, opts.alpha).map_err(E::Pass)?;
    if cur.rows == 0.0 {
        return Err(E::Empty);
    }
    let means: Vec<f64> = cur.sums.iter().map(|s| s / cur.rows).collect();
    let (mut step, mut l) = (vec![0.0; d], vec![0.0; d * d]);
    let (mut iterations, mut converged, mut stalled) = (0, false, 0);
    while iterations < opts.max_iter && cur.objective.is_finite() {
        iterations += 1;
        if !newton_step(&cur.h, &cur.g, d, &mut l, &mut step) {
            return Err(E::Singular);
        }
        if step.iter().all(|s| s.abs() < opts.tol) {
            // As the in-memory fit: a step below tol is taken in full and ends the fit. Its
            // objective is not evaluated (that would cost one more pass).
            theta.iter_mut().zip(&step).for_each(|(t, s)| *t += s);
            on_iteration(iterations, cur.objective).map_err(E::Interrupted)?;
            converged = true;
            break;
        }
        let decrement = -dot(&cur.g, &step);
        let full = decrement <= 1e-10 * (cur.objective.abs() + 1.0);
        let mut t = 1.0;
        let accepted = loop {
            let trial: Vec<f64> = theta.iter().zip(&step).map(|(th, s)| th + t * s).collect();
            let next = evaluate(passes, &trial, opts.alpha).map_err(E::Pass)?;
            if full || (next.objective.is_finite() && next.objective <= cur.objective - 1e-4 * t * decrement) {
                break Some((trial, next));
            }
            t *= 0.5;
            if t < 1e-9 {
                break None; // no decrease along a descent direction: numerically stuck
            }
        };
        let Some((trial, next)) = accepted else { break };
        if !next.objective.is_finite() || trial.iter().any(|v| !v.is_finite()) {
            return Err(E::NotFinite(format!("diverged at iteration {iterations}")));
        }
        theta = trial;
        stalled = if next.objective >= cur.objective { stalled + 1 } else { 0 };
        cur = next;
        on_iteration(iterations, cur.objective).map_err(E::Interrupted)?;
        if stalled >= STALLED_ITERATIONS {
            break; // as the in-memory fit: tol finer than the objective can resolve
        }
    }
    let fit =
        LogisticFit { intercept: theta[0], coefficients: theta[1..].to_vec(), iterations, converged, objective: cur.objective };
    Ok((fit, means))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::logistic::fit_logistic;
    use ndarray::Array2;

    /// Rows with a few exact zeros (the one-hot layout), held in memory, summed in two halves
    /// and combined, as two parallel workers would.
    struct MemoryPasses {
        x: Array2<f64>,
        y: Vec<bool>,
        w: Vec<f64>,
        passes: usize,
    }

    impl LogisticPasses for MemoryPasses {
        fn pass(&mut self, theta: &[f64]) -> CoreResult<Vec<f64>> {
            self.passes += 1;
            let d = theta.len();
            let half = self.y.len() / 2;
            let mut states = [new_state(d), new_state(d)];
            let mut buf = Vec::new();
            for (i, row) in self.x.rows().into_iter().enumerate() {
                let inputs = row.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(j, v)| (j as i32, *v)).collect::<Vec<_>>();
                accumulate_row(&mut states[(i >= half) as usize], theta, inputs.into_iter(), self.y[i], self.w[i], &mut buf)?;
            }
            let [mut a, b] = states;
            combine(&mut a, &b)?;
            Ok(a)
        }
    }

    fn data(n: usize) -> MemoryPasses {
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mut u = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let x = Array2::from_shape_fn((n, 5), |(_, j)| match j {
            0 | 1 => 4.0 * u() - 2.0,
            _ => (u() < 0.3) as u8 as f64,
        });
        let y = (0..n).map(|i| x[[i, 0]] - 0.5 * x[[i, 1]] + x[[i, 3]] + 2.0 * u() - 1.0 > 0.2).collect();
        let w = (0..n).map(|i| if i % 3 == 0 { 2.5 } else { 1.0 }).collect();
        MemoryPasses { x, y, w, passes: 0 }
    }

    #[test]
    fn packed_triangle_indexes_are_dense() {
        let d = 5;
        let mut seen = vec![];
        for j in 0..d {
            for k in j..d {
                seen.push(tri(d, j, k));
            }
        }
        assert_eq!(seen, (0..d * (d + 1) / 2).collect::<Vec<_>>());
    }

    #[test]
    fn passes_reach_the_in_memory_coefficients() {
        let mut m = data(3000);
        let opts = LogisticOptions { alpha: 0.5, max_iter: 100, tol: 1e-10 };
        let reference = fit_logistic(m.x.view(), &m.y, &m.w, &opts, &mut |_, _| Ok(())).unwrap();
        let sw: f64 = m.w.iter().sum();
        let pos: f64 = m.y.iter().zip(&m.w).filter(|(y, _)| **y).map(|(_, w)| w).sum();
        let b0 = (pos / sw / (1.0 - pos / sw)).ln();
        let (fit, means) = fit_logistic_by_passes(5, b0, &opts, &mut m, &mut |_, _| Ok(())).unwrap();
        assert!(fit.converged);
        assert!((fit.intercept - reference.intercept).abs() < 1e-9, "{fit:?} vs {reference:?}");
        for (a, b) in fit.coefficients.iter().zip(&reference.coefficients) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        assert!((fit.objective - reference.objective).abs() < 1e-6 * reference.objective);
        let mean0 = m.x.column(0).sum() / 3000.0;
        assert!((means[0] - mean0).abs() < 1e-12);
        assert!(m.passes <= fit.iterations + 3, "{} passes for {} iterations", m.passes, fit.iterations);
    }

    #[test]
    fn bad_rows_and_states_are_errors() {
        let mut s = new_state(3);
        let mut buf = Vec::new();
        let theta = [0.0; 3];
        assert!(accumulate_row(&mut s, &theta, [(1, 1.0), (0, 1.0)].into_iter(), true, 1.0, &mut buf).is_err());
        assert!(accumulate_row(&mut s, &theta, [(2, 1.0)].into_iter(), true, 1.0, &mut buf).is_err());
        assert!(accumulate_row(&mut s, &theta, [(0, f64::NAN)].into_iter(), true, 1.0, &mut buf).is_err());
        assert!(accumulate_row(&mut s, &theta, [(0, 1.0)].into_iter(), true, -1.0, &mut buf).is_err());
        assert!(accumulate_row(&mut s, &[0.0; 2], [(0, 1.0)].into_iter(), true, 1.0, &mut buf).is_err());
        accumulate_row(&mut s, &theta, [(0, 2.0), (1, 1.0)].into_iter(), true, 1.0, &mut buf).unwrap();
        assert_eq!(s[1], 1.0);
        assert!(combine(&mut s.clone(), &new_state(4)).is_err());
        assert!(state_params(&[3.0, 1.0]).is_err());
        assert_eq!(state_params(&s).unwrap(), 3);
    }

    #[test]
    fn no_rows_is_an_error_and_cancel_stops() {
        let mut empty = MemoryPasses { x: Array2::zeros((0, 5)), y: vec![], w: vec![], passes: 0 };
        let opts = LogisticOptions::default();
        assert!(matches!(fit_logistic_by_passes(5, 0.0, &opts, &mut empty, &mut |_, _| Ok(())), Err(LogisticError::Empty)));
        let mut m = data(200);
        let r = fit_logistic_by_passes(5, 0.0, &opts, &mut m, &mut |_, _| Err("canceled".into()));
        assert!(matches!(r, Err(LogisticError::Interrupted(_))));
        assert_eq!(r.err().map(|e| e.kind()), Some(crate::ErrorKind::Canceled));
    }

    #[test]
    fn a_failed_pass_keeps_its_kind_and_message() {
        struct Refusing;
        impl LogisticPasses for Refusing {
            fn pass(&mut self, _theta: &[f64]) -> CoreResult<Vec<f64>> {
                Err(crate::core_err!(MemoryLimit, "too big"))
            }
        }
        let err = fit_logistic_by_passes(2, 0.0, &LogisticOptions::default(), &mut Refusing, &mut |_, _| Ok(())).unwrap_err();
        let err = crate::CoreError::from(err);
        assert_eq!((err.kind, err.message.as_str()), (crate::ErrorKind::MemoryLimit, "too big"));
        assert_eq!(crate::CoreError::from(LogisticError::Singular).kind, crate::ErrorKind::FitFailed);
        assert_eq!(crate::CoreError::from(LogisticError::Empty).kind, crate::ErrorKind::InsufficientData);
    }
}
