//! One Newton step: the Cholesky solve of the regularised Hessian against the gradient
//! (hand-written: d is the model's inputs, at most a few thousand, and no BLAS is linked).

use super::objective::dot;

/// In-place Cholesky of a symmetric d x d matrix (lower triangle read, L written there).
/// Fails on pivots that are not clearly positive relative to the original diagonal.
fn cholesky(a: &mut [f64], d: usize) -> bool {
    for j in 0..d {
        let (done, rest) = a.split_at_mut((j + 1) * d);
        let rj = &mut done[j * d..];
        let diag = rj[j] - dot(&rj[..j], &rj[..j]);
        if !(diag > 1e-13 * rj[j].abs() && diag.is_finite()) {
            return false;
        }
        rj[j] = diag.sqrt();
        for ri in rest.chunks_exact_mut(d) {
            ri[j] = (ri[j] - dot(&ri[..j], &rj[..j])) / rj[j];
        }
    }
    true
}

/// Newton step `-H^-1 g` into `step`. If H is not numerically positive definite (alpha = 0
/// with separable or collinear data) retries with a growing ridge, still a descent direction.
pub(crate) fn newton_step(h: &[f64], g: &[f64], d: usize, l: &mut [f64], step: &mut [f64]) -> bool {
    let scale = (0..d).map(|j| h[j * d + j]).fold(f64::MIN_POSITIVE, f64::max);
    for ridge in std::iter::once(0.0).chain((0..8).map(|k| scale * 1e-12 * 100f64.powi(k))) {
        l.copy_from_slice(h);
        (0..d).for_each(|j| l[j * d + j] += ridge);
        if cholesky(l, d) {
            for i in 0..d {
                step[i] = (-g[i] - dot(&l[i * d..i * d + i], &step[..i])) / l[i * d + i];
            }
            for i in (0..d).rev() {
                let v = step[i] - (i + 1..d).map(|k| l[k * d + i] * step[k]).sum::<f64>();
                step[i] = v / l[i * d + i];
            }
            return step.iter().all(|v| v.is_finite());
        }
    }
    false
}
