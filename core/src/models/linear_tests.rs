use ndarray::array;

use super::*;

/// Ridge with an unpenalised intercept has a closed form on centred data:
/// `b = (Xc'Xc + alpha I)^-1 Xc'yc` and `b0 = mean(y) - mean(x) . b`. Two inputs, so the 2 x 2
/// inverse is written out by hand.
fn closed_form(x: &[[f64; 2]], y: &[f64], alpha: f64) -> (f64, [f64; 2]) {
    let n = y.len() as f64;
    let mx = [x.iter().map(|r| r[0]).sum::<f64>() / n, x.iter().map(|r| r[1]).sum::<f64>() / n];
    let my = y.iter().sum::<f64>() / n;
    let (mut s00, mut s01, mut s11, mut s0y, mut s1y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (r, &yi) in x.iter().zip(y) {
        let (a, b, c) = (r[0] - mx[0], r[1] - mx[1], yi - my);
        s00 += a * a;
        s01 += a * b;
        s11 += b * b;
        s0y += a * c;
        s1y += b * c;
    }
    let (a00, a11) = (s00 + alpha, s11 + alpha);
    let det = a00 * a11 - s01 * s01;
    let b = [(a11 * s0y - s01 * s1y) / det, (a00 * s1y - s01 * s0y) / det];
    (my - mx[0] * b[0] - mx[1] * b[1], b)
}

#[test]
fn ridge_equals_the_closed_form_solution() {
    let rows = [[1.0, 0.5], [2.0, -1.0], [3.0, 2.5], [4.0, 0.0], [5.0, 1.5], [6.5, -0.5]];
    let y = [3.1, 2.0, 9.4, 6.2, 10.3, 8.8];
    let x = DesignMatrix::Dense(array![[1.0, 0.5], [2.0, -1.0], [3.0, 2.5], [4.0, 0.0], [5.0, 1.5], [6.5, -0.5]]);
    for alpha in [0.0, 0.3, 1.0, 25.0] {
        let fit = fit_linear(&x, &y, alpha).unwrap();
        let (b0, b) = closed_form(&rows, &y, alpha);
        assert!((fit.intercept - b0).abs() < 1e-9, "alpha {alpha}: intercept {} vs {b0}", fit.intercept);
        for (j, (got, want)) in fit.coefficients.iter().zip(b).enumerate() {
            assert!((got - want).abs() < 1e-9, "alpha {alpha}: b{j} {got} vs {want}");
        }
        let expected: f64 = rows.iter().zip(&y).map(|(r, yi)| (yi - b0 - r[0] * b[0] - r[1] * b[1]).powi(2)).sum::<f64>()
            + alpha * (b[0] * b[0] + b[1] * b[1]);
        assert!((fit.objective - expected).abs() < 1e-9, "alpha {alpha}: objective {} vs {expected}", fit.objective);
    }
}

#[test]
fn an_exact_line_is_recovered_without_penalty() {
    let x = DesignMatrix::Dense(array![[0.0], [1.0], [2.0], [3.0]]);
    let fit = fit_linear(&x, &[5.0, 7.0, 9.0, 11.0], 0.0).unwrap();
    assert!((fit.intercept - 5.0).abs() < 1e-12 && (fit.coefficients[0] - 2.0).abs() < 1e-12, "{fit:?}");
}

#[test]
fn collinear_inputs_without_penalty_still_give_finite_coefficients() {
    let x = DesignMatrix::Dense(array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]);
    let fit = fit_linear(&x, &[1.0, 2.0, 3.0], 0.0).unwrap();
    assert!(fit.coefficients.iter().all(|c| c.is_finite()));
    assert!((fit.log_odds(&[4.0, 8.0]) - 4.0).abs() < 1e-6, "{fit:?}");
}

#[test]
fn bad_inputs_are_errors() {
    let x = DesignMatrix::Dense(array![[1.0], [2.0]]);
    assert!(fit_linear(&x, &[1.0], 0.0).is_err());
    assert!(fit_linear(&x, &[1.0, f64::NAN], 0.0).is_err());
    assert!(fit_linear(&x, &[1.0, 2.0], -1.0).is_err());
}
