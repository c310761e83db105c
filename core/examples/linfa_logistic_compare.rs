//! Our logistic fit against linfa-logistic's on the X Education leads (the training part of the
//! README's split, transformed by the project's own preprocessing: see
//! `tests/support/x_education.rs`), same objective and `alpha` (1, scikit-learn's C = 1):
//! best-of-rounds fit time, the ratio ours / linfa-logistic, test ROC AUC, the gradient norm
//! each fit leaves and the largest coefficient difference from ours. linfa-logistic runs twice:
//! at its defaults (gradient tolerance 1e-4, 100 iterations) and told to go to the optimum
//! (1e-10, 10,000 iterations). Ours runs at its defaults (Newton step below 1e-8, 100
//! iterations), through `fit_logistic` as the training pipeline calls it; below 20,000 rows it
//! uses one thread, as linfa-logistic does.
//!
//! `cargo run --release -p lead_scoring_core --example linfa_logistic_compare -- [ROUNDS]`
//! (bench/linfa_logistic.sh runs it).

#[path = "../tests/support/x_education.rs"]
mod x_education;

use std::time::Instant;

use lead_scoring_core::evaluation::roc_auc;
use lead_scoring_core::models::{fit_logistic, sigmoid, LogisticOptions};
use linfa::traits::Fit;
use linfa::Dataset;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

const ALPHA: f64 = 1.0;

/// A fit as (intercept, coefficients) of the label `true`.
type Params = (f64, Vec<f64>);

/// The best time of `rounds` runs of `fit`, and its result.
fn best_of(rounds: usize, mut fit: impl FnMut() -> Params) -> (f64, Params) {
    let mut best = f64::INFINITY;
    let mut params = None;
    for _ in 0..rounds {
        let start = Instant::now();
        let p = fit();
        best = best.min(start.elapsed().as_secs_f64());
        params = Some(p);
    }
    (best, params.expect("at least one round"))
}

fn linfa_logistic(x: &Array2<f64>, y: &Array1<bool>, tolerance: f64, iterations: u64) -> Params {
    let fit = LogisticRegression::default()
        .alpha(ALPHA)
        .gradient_tolerance(tolerance)
        .max_iterations(iterations)
        .fit(&Dataset::new(x.clone(), y.clone()))
        .expect("linfa-logistic fits");
    // linfa-logistic's positive label is the one it saw more often.
    let sign = if fit.labels().pos.class { 1.0 } else { -1.0 };
    (sign * fit.intercept(), fit.params().iter().map(|b| sign * b).collect())
}

fn log_odds(p: &Params, row: ndarray::ArrayView1<f64>) -> f64 {
    p.0 + row.iter().zip(&p.1).map(|(v, b)| v * b).sum::<f64>()
}

/// Norm of the objective's gradient (module docs of `models::logistic`, all weights 1).
fn gradient_norm(p: &Params, x: &Array2<f64>, y: &Array1<bool>) -> f64 {
    let mut g: Vec<f64> = std::iter::once(0.0).chain(p.1.iter().map(|b| ALPHA * b)).collect();
    for (row, &label) in x.rows().into_iter().zip(y) {
        let r = sigmoid(log_odds(p, row)) - f64::from(u8::from(label));
        g[0] += r;
        row.iter().enumerate().for_each(|(j, v)| g[j + 1] += r * v);
    }
    g.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn test_auc(p: &Params, leads: &x_education::Leads) -> f64 {
    let scores: Vec<f64> = leads.test.x.rows().into_iter().map(|row| log_odds(p, row)).collect();
    roc_auc(&scores, leads.test.y.as_slice().expect("contiguous")).expect("both labels in the test part")
}

fn main() {
    let rounds: usize = std::env::args().nth(1).map_or(5, |r| r.parse().expect("ROUNDS is a number"));
    let leads = x_education::load();
    let (x, y) = (&leads.train.x, &leads.train.y);
    let labels = y.as_slice().expect("contiguous");
    let weights = vec![1.0; x.nrows()];
    eprintln!(
        "X Education training part: {} rows x {} inputs; test part {} rows; best of {rounds}",
        x.nrows(),
        x.ncols(),
        leads.test.y.len()
    );

    let opts = LogisticOptions { alpha: ALPHA, ..Default::default() };
    let (ours_s, ours) = best_of(rounds, || {
        let fit = fit_logistic(x.view(), labels, &weights, &opts, &mut |_, _| Ok(())).expect("our fit");
        assert!(fit.converged, "{fit:?}");
        (fit.intercept, fit.coefficients)
    });
    let (default_s, default) = best_of(rounds, || linfa_logistic(x, y, 1e-4, 100));
    let (tight_s, tight) = best_of(rounds, || linfa_logistic(x, y, 1e-10, 10_000));

    let max_difference = |p: &Params| {
        let coefficients = p.1.iter().zip(&ours.1).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        coefficients.max((p.0 - ours.0).abs())
    };
    println!("| fit | time (s) | ours / this | test ROC AUC | gradient norm | max abs difference from ours |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let fits = [
        ("ours: Newton (IRLS), step tol 1e-8", ours_s, &ours),
        ("linfa-logistic 0.8 defaults: L-BFGS, gradient tol 1e-4, 100 iterations", default_s, &default),
        ("linfa-logistic 0.8 to the optimum: gradient tol 1e-10, 10,000 iterations", tight_s, &tight),
    ];
    for (name, seconds, p) in fits {
        println!(
            "| {name} | {seconds:.4} | {:.3}x | {:.4} | {:.1e} | {:.1e} |",
            ours_s / seconds,
            test_auc(p, &leads),
            gradient_norm(p, x, y),
            max_difference(p)
        );
    }
}
