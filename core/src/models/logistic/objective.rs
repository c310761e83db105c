//! The objective's pieces, computed without overflow in either tail: the logistic function,
//! the log loss of a margin, and the residual and variance a Newton step sums.

/// Logistic function `1 / (1 + e^-z)`, without overflow for large `|z|`.
pub fn sigmoid(z: f64) -> f64 {
    let e = (-z.abs()).exp();
    if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `logloss(y, sigmoid(z))` without overflow: softplus of the margin with the wrong sign.
#[inline(always)]
pub(crate) fn logloss(z: f64, y: bool) -> f64 {
    let m = if y { -z } else { z };
    m.max(0.0) + (-m.abs()).exp().ln_1p()
}

/// `(p - y, p (1 - p))` for `p = sigmoid(z)`: one `exp`, accurate in both tails.
#[inline(always)]
pub(crate) fn residual_and_variance(z: f64, y: bool) -> (f64, f64) {
    let e = (-z.abs()).exp();
    let q = 1.0 / (1.0 + e); // sigmoid(|z|)
    let (p, one_minus_p) = if z >= 0.0 { (q, e * q) } else { (e * q, q) };
    (if y { -one_minus_p } else { p }, p * one_minus_p)
}
