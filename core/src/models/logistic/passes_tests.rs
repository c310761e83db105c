//! Unit tests of `passes.rs`.

use super::*;
use crate::models::logistic::{fit_logistic_with, fit_rows, LogisticError, LogisticOptions};
use crate::resources::NeverCancel;
use ndarray::Array2;

fn plan(dense_share: f64, parts: usize, threads: usize) -> Plan {
    Plan { dense_share, parts, threads }
}

/// Columns of every kind by j % 4: dense; nonzero in 30% of rows; one-hot-like (1.0 in 5%);
/// never (j = 3, 11, ..) or in 60%. Weights: 0 in 10% of rows, else in [0.5, 2.5).
fn mixed(n: usize, p: usize, seed: u64) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
    let mut u = uniform(seed);
    let mut x = vec![0.0; n * p];
    for (i, row) in x.chunks_exact_mut(p).enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let share = [1.0, 0.3, 0.05, if j % 8 == 3 { 0.0 } else { 0.6 }][j % 4];
            if u() < share {
                *v = if j % 4 == 2 { 1.0 } else { 4.0 * u() - 2.0 + (i % 3) as f64 };
            }
        }
    }
    let y = (0..n).map(|i| u() < 0.3 + 0.1 * x[i * p]).collect();
    let w = (0..n).map(|_| if u() < 0.1 { 0.0 } else { 0.5 + 2.0 * u() }).collect();
    (x, y, w)
}

/// Gradient, Hessian and objective at `theta`.
fn passes(x: &[f64], p: usize, y: &[bool], w: &[f64], theta: &[f64], plan: Plan) -> (Vec<f64>, Vec<f64>, f64) {
    let prob = Problem::new(x, p, y, w, 0.3, plan);
    let (mut g, mut h) = (vec![f64::NAN; p + 1], vec![f64::NAN; (p + 1) * (p + 1)]);
    prob.accumulate(theta, &mut g, &mut h).unwrap();
    (g, h, prob.objective(theta).unwrap())
}

/// Each |a - b| within `tol` times the largest |b|.
fn assert_near(a: &[f64], b: &[f64], tol: f64, what: &str) {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (k, (u, v)) in a.iter().zip(b).enumerate() {
        assert!((u - v).abs() <= tol * scale, "{what}[{k}]: {u} vs {v}");
    }
}

fn theta(p: usize) -> Vec<f64> {
    (0..=p).map(|j| 0.3 * ((j * 7 % 5) as f64 - 2.0)).collect()
}

#[test]
fn sparse_and_dense_sums_agree_with_the_definition() {
    for (n, p) in [(203, 13), (1001, 21), (7, 1)] {
        let (x, y, w) = mixed(n, p, n as u64);
        let (th, d) = (theta(p), p + 1);
        // The definition: g = sum w (p - y) x + alpha b, H = sum w p (1 - p) x x' + alpha I.
        let (mut g, mut h) = (vec![0.0; d], vec![0.0; d * d]);
        for i in 0..n {
            let xi: Vec<f64> = [1.0].iter().chain(&x[i * p..(i + 1) * p]).copied().collect();
            let (r, v) = residual_and_variance(dot(&th, &xi), y[i]);
            for a in 0..d {
                g[a] += w[i] * r * xi[a];
                (0..d).for_each(|b| h[a * d + b] += w[i] * v * xi[a] * xi[b]);
            }
        }
        (1..d).for_each(|j| (g[j], h[j * d + j]) = (g[j] + 0.3 * th[j], h[j * d + j] + 0.3));
        let dense = Problem::new(&x, p, &y, &w, 0.3, plan(0.0, 1, 1));
        let sparse = Problem::new(&x, p, &y, &w, 0.3, plan(f64::INFINITY, 1, 1));
        let hybrid = Problem::new(&x, p, &y, &w, 0.3, plan(DENSE_SHARE, 1, 1));
        assert_eq!((dense.dense, sparse.dense), (d, 1));
        assert!(n < 10 || (1 < hybrid.dense && hybrid.dense < d), "{}", hybrid.dense);
        let reference = passes(&x, p, &y, &w, &th, plan(0.0, 1, 1));
        for share in [0.0, DENSE_SHARE, 0.5, f64::INFINITY] {
            let (gs, hs, f) = passes(&x, p, &y, &w, &th, plan(share, 1, 1));
            assert_near(&gs, &g, 1e-12, "g");
            assert_near(&hs, &h, 1e-12, "h");
            assert_eq!(f, reference.2);
            assert!((0..d).all(|a| (0..d).all(|b| hs[a * d + b] == hs[b * d + a])), "symmetric");
        }
    }
}

/// The same rows as sparse rows.
fn sparse(x: &[f64], p: usize) -> crate::data::SparseRows {
    let mut s = crate::data::SparseRows::with_capacity(p, x.len() / p, p).unwrap();
    x.chunks_exact(p).for_each(|row| s.push_dense_row(row).unwrap());
    s
}

#[test]
fn sparse_rows_sum_what_dense_rows_sum() {
    for (n, p) in [(203, 13), (1001, 21), (7, 1)] {
        let (x, y, w) = mixed(n, p, 3 * n as u64);
        let (th, rows) = (theta(p), sparse(&x, p));
        for share in [0.0, DENSE_SHARE, f64::INFINITY] {
            let (gd, hd, fd) = passes(&x, p, &y, &w, &th, plan(share, 1, 1));
            let prob = Problem::over(DesignRows::Sparse(&rows), &y, &w, 0.3, plan(share, 1, 1));
            let (mut gs, mut hs) = (vec![f64::NAN; p + 1], vec![f64::NAN; (p + 1) * (p + 1)]);
            prob.accumulate(&th, &mut gs, &mut hs).unwrap();
            // The gradient and Hessian add the same products in the same order.
            assert_eq!((gs, hs), (gd, hd), "n {n} share {share}");
            assert_near(&[prob.objective(&th).unwrap()], &[fd], 1e-13, "objective");
        }
    }
}

#[test]
fn a_fit_on_sparse_rows_equals_the_dense_fit() {
    let (n, p) = (4000, 30);
    let (x, y, w) = mixed(n, p, 77);
    let opts = LogisticOptions { alpha: 0.5, max_iter: 100, tol: 1e-10 };
    let rows = sparse(&x, p);
    let dense =
        fit_logistic_with(Array2::from_shape_vec((n, p), x).unwrap().view(), &y, &w, &opts, None, &mut |_, _| Ok(())).unwrap();
    let fit =
        crate::models::logistic::fit_logistic_rows(DesignRows::Sparse(&rows), &y, &w, &opts, None, &NeverCancel, &mut |_, _| {
            Ok(())
        })
        .unwrap();
    assert!(fit.converged && dense.converged);
    assert_near(&fit.coefficients, &dense.coefficients, 1e-9, "coefficients");
    assert!((fit.intercept - dense.intercept).abs() < 1e-9);
}

#[test]
fn parts_on_threads_sum_the_same_every_time() {
    let (n, p) = (5003, 17);
    let (x, y, w) = mixed(n, p, 9);
    let th = theta(p);
    let single = passes(&x, p, &y, &w, &th, plan(DENSE_SHARE, 1, 1));
    let one_thread = passes(&x, p, &y, &w, &th, plan(DENSE_SHARE, 4, 1));
    for threads in [2, 3, 4] {
        // Same parts added in the same order: identical, whatever thread ran which part.
        for _ in 0..3 {
            assert_eq!(passes(&x, p, &y, &w, &th, plan(DENSE_SHARE, 4, threads)), one_thread);
        }
    }
    assert_near(&one_thread.0, &single.0, 1e-12, "g");
    assert_near(&one_thread.1, &single.1, 1e-12, "h");
    assert!((one_thread.2 - single.2).abs() <= 1e-12 * single.2);
    assert_eq!((Plan::for_rows(PARALLEL_MIN_ROWS - 1).parts, Plan::for_rows(PARALLEL_MIN_ROWS).parts), (1, PARTS));
}

#[test]
fn fit_with_threads_and_sparsity_matches_the_dense_single_thread_fit() {
    let (x, y, w) = one_hot_like(PARALLEL_MIN_ROWS + 1001, 5);
    let opts = LogisticOptions { tol: 1e-10, ..Default::default() };
    let fit = |plan| fit_logistic_with(x.view(), &y, &w, &opts, plan, &mut |_, _| Ok(())).unwrap();
    let reference = fit(Some(plan(0.0, 1, 1)));
    let default = fit(None);
    assert!(default.converged && default.iterations == reference.iterations);
    assert_eq!(fit(Some(plan(DENSE_SHARE, PARTS, 3))), default);
    assert_eq!(fit(None), default);
    let b = [[default.intercept].as_slice(), &default.coefficients].concat();
    let r = [[reference.intercept].as_slice(), &reference.coefficients].concat();
    assert_near(&b, &r, 1e-9, "theta");
    assert!((default.objective - reference.objective).abs() <= 1e-12 * reference.objective);
}

#[test]
fn a_warm_start_from_the_first_rows_reaches_the_same_optimum_in_fewer_passes() {
    let (x, y, w) = one_hot_like(24_000, 3);
    let opts = LogisticOptions { tol: 1e-10, ..Default::default() };
    let rows = DesignRows::Dense { x: x.as_slice().unwrap(), rows: x.nrows(), cols: x.ncols() };
    // The fit and how often it reported progress.
    let fit = |warm_from: usize| {
        let mut calls = 0;
        let m = fit_rows(rows, &y, &w, &opts, None, warm_from, &NeverCancel, &mut |_, _| {
            calls += 1;
            Ok(())
        })
        .unwrap();
        (m, calls)
    };
    let (cold, cold_calls) = fit(usize::MAX);
    let (warm, warm_calls) = fit(20_000);
    assert!(cold.converged && warm.converged);
    assert!(warm.iterations + 2 <= cold.iterations, "{} warm vs {} cold iterations", warm.iterations, cold.iterations);
    // The share's fit reports as iteration 0, so a cancel can stop it too.
    assert_eq!(cold_calls, cold.iterations + 1);
    assert!(warm_calls > warm.iterations + 1, "{warm_calls} calls for {} iterations", warm.iterations);
    let b = [[warm.intercept].as_slice(), &warm.coefficients].concat();
    let r = [[cold.intercept].as_slice(), &cold.coefficients].concat();
    assert_near(&b, &r, 1e-9, "theta");
    assert!((warm.objective - cold.objective).abs() <= 1e-12 * cold.objective);
    // A cancel during the share's fit stops the whole fit.
    let stopped = fit_rows(rows, &y, &w, &opts, None, 20_000, &NeverCancel, &mut |_, _| Err("canceled".into()));
    assert!(matches!(stopped, Err(LogisticError::Interrupted(_))), "{stopped:?}");
    // A share with one class: a cold start, same result.
    let mut one_class_first = y.clone();
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by_key(|&i| y[i]);
    let xs: Vec<f64> = order.iter().flat_map(|&i| x.row(i).to_vec()).collect();
    one_class_first.sort();
    let ws: Vec<f64> = order.iter().map(|&i| w[i]).collect();
    let sorted = DesignRows::Dense { x: &xs, rows: x.nrows(), cols: x.ncols() };
    let a = fit_rows(sorted, &one_class_first, &ws, &opts, None, 20_000, &NeverCancel, &mut |_, _| Ok(())).unwrap();
    let c = fit_rows(sorted, &one_class_first, &ws, &opts, None, usize::MAX, &NeverCancel, &mut |_, _| Ok(())).unwrap();
    assert_eq!(a, c);
}

#[test]
fn a_cancel_stops_a_pass_over_the_rows_before_it_ends() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // 40,000 rows in 4 parts of 10,000: each part asks 3 times per pass (rows 0, 4096, 8192).
    let (x, y, w) = one_hot_like(40_000, 5);
    let rows = DesignRows::Dense { x: x.as_slice().unwrap(), rows: x.nrows(), cols: x.ncols() };
    let opts = LogisticOptions::default();
    let asked = AtomicUsize::new(0);
    // Says stop at its 5th question: inside the first pass, before any iteration could report.
    let cancel = || asked.fetch_add(1, Ordering::Relaxed) >= 4;
    let mut reports = 0;
    let stopped = fit_rows(rows, &y, &w, &opts, None, usize::MAX, &cancel, &mut |_, _| {
        reports += 1;
        Ok(())
    });
    assert!(matches!(stopped, Err(LogisticError::Interrupted(_))), "{stopped:?}");
    assert_eq!(reports, 0, "the first pass should have stopped before the first progress report");
    // Never saying stop: each pass asked once per 4,096 rows of each part, and the same fit.
    let asked_all = AtomicUsize::new(0);
    let never = || {
        asked_all.fetch_add(1, Ordering::Relaxed);
        false
    };
    let fit = fit_rows(rows, &y, &w, &opts, None, usize::MAX, &never, &mut |_, _| Ok(())).unwrap();
    let plain = fit_rows(rows, &y, &w, &opts, None, usize::MAX, &NeverCancel, &mut |_, _| Ok(())).unwrap();
    assert_eq!(fit, plain);
    assert_eq!(asked_all.load(Ordering::Relaxed) % 12, 0, "3 questions in each of 4 parts per pass");
    assert!(asked_all.load(Ordering::Relaxed) >= 12 * 2 * fit.iterations);
}

/// xorshift64 uniform in [0, 1).
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The shape of lead_scoring's design matrix: 9 scaled numbers, their 9 missing
/// indicators (one column with 5% missing, the rest never), 10 one-hot categoricals with
/// 52 levels in all; labels from a noisy linear score, class weights 1 and 3.
fn one_hot_like(n: usize, seed: u64) -> (Array2<f64>, Vec<bool>, Vec<f64>) {
    let levels = [3, 4, 4, 5, 5, 5, 6, 6, 7, 7];
    let p = 18 + levels.iter().sum::<usize>();
    let mut u = uniform(seed);
    let mut x = Array2::zeros((n, p));
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let mut score = -1.0;
        for j in 0..9 {
            let missing = j == 2 && u() < 0.05;
            let v = if missing { 0.0 } else { 3.0 * u() - 1.5 };
            x[[i, j]] = v;
            x[[i, 9 + j]] = missing as u8 as f64;
            score += v / (j + 1) as f64;
        }
        let mut base = 18;
        for (c, &k) in levels.iter().enumerate() {
            let level = ((u() * k as f64) as usize).min(k - 1);
            x[[i, base + level]] = 1.0;
            score += if level == 1 { 0.3 * c as f64 / 5.0 } else { 0.0 };
            base += k;
        }
        y.push(score + 2.0 * u() - 1.0 > 0.0);
    }
    let w = y.iter().map(|&l| if l { 3.0 } else { 1.0 }).collect();
    (x, y, w)
}

/// Timing only (the fit phase of a 1M-row train(); other plans for comparison):
/// `cargo test -p lead_scoring_core --lib --config 'profile.dev.package.lead_scoring_core.opt-level=3' -- --ignored --nocapture fit_speed_600k_by_70`
#[test]
#[ignore]
fn fit_speed_600k_by_70() {
    let (x, y, w) = one_hot_like(600_000, 11);
    let nonzero = x.iter().filter(|v| **v != 0.0).count() as f64 / x.nrows() as f64;
    eprintln!("{} x {}, {nonzero:.1} nonzero inputs per row", x.nrows(), x.ncols());
    let xs = x.as_slice().unwrap();
    let th = theta(x.ncols());
    let d = x.ncols() + 1;
    let (mut g, mut h) = (vec![0.0; d], vec![0.0; d * d]);
    let threads = Plan::for_rows(x.nrows()).threads;
    // CPU time of this thread too: the machine is shared, wall times vary with its load.
    let cpu = || {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: writes the calling thread's CPU clock into t.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
    };
    let timed = |what: &str, f: &mut dyn FnMut()| {
        let (start, c) = (std::time::Instant::now(), cpu());
        f();
        eprintln!("{what}: {:.3} s ({:.3} s CPU of this thread)", start.elapsed().as_secs_f64(), cpu() - c);
    };
    for plan in [plan(0.0, 1, 1), plan(DENSE_SHARE, 1, 1), plan(0.1, 1, 1), plan(0.5, 1, 1), plan(DENSE_SHARE, PARTS, threads)] {
        let prob = Problem::new(xs, x.ncols(), &y, &w, 1.0, plan);
        timed(&format!("{plan:?}, {} dense: accumulate", prob.dense), &mut || prob.accumulate(&th, &mut g, &mut h).unwrap());
        timed("  objective", &mut || assert!(prob.objective(&th).unwrap() > 0.0));
    }
    for plan in [Some(plan(0.0, 1, 1)), None] {
        let start = std::time::Instant::now();
        let m = fit_logistic_with(x.view(), &y, &w, &LogisticOptions::default(), plan, &mut |_, _| Ok(())).unwrap();
        eprintln!(
            "fit_logistic {plan:?}: {:.3} s, {} iterations, converged {}, objective {:.6}, b0 {:.12}, b[0] {:.12}",
            start.elapsed().as_secs_f64(),
            m.iterations,
            m.converged,
            m.objective,
            m.intercept,
            m.coefficients[0]
        );
    }
}
