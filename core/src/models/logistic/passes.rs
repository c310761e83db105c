//! The passes over the training rows behind [`super::fit_logistic`]: the objective
//! (for the line search) and the gradient with the Hessian X'WX (for each Newton step).
//!
//! Sparsity: a lead table's design matrix is mostly one-hot zeros (about 20 of 70 inputs are
//! nonzero in a row). The columns are sorted once per fit into dense ones (the intercept, and
//! inputs nonzero in at least [`DENSE_SHARE`] of the rows) and sparse ones, and H is summed in
//! that order: dense x dense by 4-row rank updates over contiguous memory (SIMD), sparse x
//! dense as one contiguous update per nonzero sparse input, sparse x sparse over the nonzero
//! pairs of the row only. On dense data every column is dense: the plain rank update.
//!
//! Threads: from [`PARALLEL_MIN_ROWS`] rows on, the rows are cut into [`PARTS`] fixed parts
//! whose sums are added in part order, so the result does not depend on how many threads ran.

use std::ops::Range;

use super::objective::{dot, logloss, residual_and_variance};
use super::params::LogisticError;
use crate::data::DesignRows;
use crate::resources::{map_tasks, worker_threads, Cancel, NeverCancel};

/// Rows per dense rank update: summing 4 rank-1 updates per sweep cuts loads/stores of H 4x.
const BLOCK: usize = 4;
/// Share of rows in which an input must be nonzero to be summed as a dense column. On 600,000 x
/// 70 one-hot-like rows (`fit_speed_600k_by_70`) 0.25 and 0.5 were about as fast, 0.1 (most
/// one-hot columns dense) 2x slower and all columns dense 3x slower.
const DENSE_SHARE: f64 = 0.25;
/// Rows from which a pass is split into [`PARTS`] parts run by up to [`MAX_THREADS`] threads;
/// below, a pass takes a few milliseconds (600,000 x 70: 0.15-0.3 s) and threads gain little.
pub(crate) const PARALLEL_MIN_ROWS: usize = 20_000;
const PARTS: usize = 4;
const MAX_THREADS: usize = 4;
/// Rows between two cancel checks inside a pass: a few milliseconds of work even in a debug
/// build, and a multiple of [`BLOCK`] so the rank updates (and the sums) stay the same.
pub(crate) const CANCEL_CHECK_ROWS: usize = 4096;

/// How a [`Problem`] sums: which inputs count as dense, in how many parts, on how many threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub dense_share: f64,
    pub parts: usize,
    pub threads: usize,
}

impl Plan {
    /// The plan for `n` rows on this machine.
    pub(crate) fn for_rows(n: usize) -> Plan {
        let parts = if n >= PARALLEL_MIN_ROWS { PARTS } else { 1 };
        Plan { dense_share: DENSE_SHARE, parts, threads: worker_threads(MAX_THREADS) }
    }
}

/// Validated data, n rows of p inputs (dense row-major or sparse rows); `theta = [b0, b...]`
/// throughout.
pub(crate) struct Problem<'a> {
    x: DesignRows<'a>,
    p: usize,
    y: &'a [bool],
    w: &'a [f64],
    alpha: f64,
    /// Summing order: `order[k]` is the index in theta (0 = intercept) of position k.
    order: Vec<usize>,
    /// Positions `0..dense` are the dense columns, the intercept first.
    dense: usize,
    /// Bit c % 64 of word c / 64 set when column c (of x) is sparse.
    sparse_mask: Vec<u64>,
    /// Summing position of each column of x.
    position: Vec<usize>,
    parts: Vec<Range<usize>>,
    threads: usize,
    /// Asked every [`CANCEL_CHECK_ROWS`] rows of a pass, by whichever thread sums them.
    cancel: &'a dyn Cancel,
}

/// Gradient and Hessian sums of one part of the rows, in summing order: H's dense x dense and
/// sparse x sparse pairs in the upper triangle, sparse x dense in the sparse input's row.
struct Sums {
    g: Vec<f64>,
    h: Vec<f64>,
}

impl<'a> Problem<'a> {
    /// Over a dense row-major matrix of `p` inputs per row.
    #[cfg(test)]
    pub(crate) fn new(x: &'a [f64], p: usize, y: &'a [bool], w: &'a [f64], alpha: f64, plan: Plan) -> Self {
        Problem::over(DesignRows::Dense { x, rows: y.len(), cols: p }, y, w, alpha, plan)
    }

    pub(crate) fn over(x: DesignRows<'a>, y: &'a [bool], w: &'a [f64], alpha: f64, plan: Plan) -> Self {
        let (n, p) = (y.len(), x.ncols());
        let mut nonzero = vec![0usize; p];
        match x {
            DesignRows::Dense { x, .. } if p > 0 => {
                for row in x.chunks_exact(p) {
                    nonzero.iter_mut().zip(row).for_each(|(c, v)| *c += (*v != 0.0) as usize);
                }
            }
            DesignRows::Dense { .. } => {}
            DesignRows::Sparse(s) => {
                for i in 0..s.nrows() {
                    s.row(i).0.iter().for_each(|&j| nonzero[j as usize] += 1);
                }
            }
        }
        let is_dense = |c: &usize| nonzero[*c] as f64 >= plan.dense_share * n as f64;
        let mut order = vec![0];
        order.extend((0..p).filter(is_dense).map(|c| c + 1));
        let dense = order.len();
        order.extend((0..p).filter(|c| !is_dense(c)).map(|c| c + 1));
        let mut sparse_mask = vec![0u64; p.div_ceil(64)];
        let mut position = vec![0; p];
        for (k, &j) in order.iter().enumerate().skip(1) {
            position[j - 1] = k;
            if k >= dense {
                sparse_mask[(j - 1) / 64] |= 1 << ((j - 1) % 64);
            }
        }
        let k = plan.parts.max(1);
        let parts = (0..k).map(|i| n * i / k..n * (i + 1) / k).collect();
        Problem { x, p, y, w, alpha, order, dense, sparse_mask, position, parts, threads: plan.threads, cancel: &NeverCancel }
    }

    /// The same problem, its passes stopping early once `cancel` says so.
    pub(crate) fn stopping_on(self, cancel: &'a dyn Cancel) -> Self {
        Problem { cancel, ..self }
    }

    /// The error of a pass: a worker thread's panic, or a cancel seen inside the pass.
    fn pass_error(&self, worker: Result<(), String>) -> LogisticError {
        match worker {
            Err(m) => LogisticError::Worker(m),
            Ok(()) => LogisticError::Interrupted("training was canceled".into()),
        }
    }

    /// Objective only, O(n p): what the line search needs.
    pub(crate) fn objective(&self, theta: &[f64]) -> Result<f64, LogisticError> {
        let losses = map_tasks(self.parts.len(), self.threads, |k| self.loss(self.parts[k].clone(), theta));
        let losses: Option<Vec<f64>> = match losses {
            Ok(l) => l.into_iter().collect(),
            Err(m) => return Err(self.pass_error(Err(m))),
        };
        let Some(losses) = losses else { return Err(self.pass_error(Ok(()))) };
        Ok(losses.iter().sum::<f64>() + 0.5 * self.alpha * dot(&theta[1..], &theta[1..]))
    }

    /// The part's loss, or `None` when a cancel came while summing it.
    fn loss(&self, rows: Range<usize>, theta: &[f64]) -> Option<f64> {
        let (p, mut loss) = (self.p, 0.0);
        for i in rows.clone() {
            if (i - rows.start).is_multiple_of(CANCEL_CHECK_ROWS) && self.cancel.requested() {
                return None;
            }
            let wi = self.w[i];
            if wi != 0.0 {
                let z = match self.x {
                    DesignRows::Dense { x, .. } => theta[0] + dot4(&theta[1..], &x[i * p..(i + 1) * p]),
                    DesignRows::Sparse(s) => {
                        let (idx, val) = s.row(i);
                        theta[0] + idx.iter().zip(val).map(|(&j, v)| theta[j as usize + 1] * v).sum::<f64>()
                    }
                };
                loss += wi * logloss(z, self.y[i]);
            }
        }
        Some(loss)
    }

    /// One pass over the rows filling gradient `g` and the full Hessian `h` (d x d row-major,
    /// d = p + 1, penalty included). The objective is known from the line search: no logs here.
    pub(crate) fn accumulate(&self, theta: &[f64], g: &mut [f64], h: &mut [f64]) -> Result<(), LogisticError> {
        let d = self.p + 1;
        let ordered: Vec<f64> = self.order.iter().map(|&j| theta[j]).collect();
        let parts = map_tasks(self.parts.len(), self.threads, |k| self.sums(self.parts[k].clone(), &ordered));
        let parts: Option<Vec<Sums>> = match parts {
            Ok(p) => p.into_iter().collect(),
            Err(m) => return Err(self.pass_error(Err(m))),
        };
        let Some(parts) = parts else { return Err(self.pass_error(Ok(()))) };
        let total = parts.into_iter().reduce(|mut a, b| {
            a.g.iter_mut().zip(&b.g).for_each(|(u, v)| *u += v);
            a.h.iter_mut().zip(&b.h).for_each(|(u, v)| *u += v);
            a
        });
        let Some(Sums { g: gs, h: hs }) = total else { return Err(LogisticError::Worker("no parts to sum".into())) };
        for (a, &ja) in self.order.iter().enumerate() {
            g[ja] = gs[a];
            for (b, &jb) in self.order.iter().enumerate().skip(a) {
                let at = if a < self.dense && b >= self.dense { b * d + a } else { a * d + b };
                (h[ja * d + jb], h[jb * d + ja]) = (hs[at], hs[at]);
            }
        }
        for j in 1..d {
            h[j * d + j] += self.alpha;
            g[j] += self.alpha * theta[j];
        }
        Ok(())
    }

    /// Sums of one part of the rows at `ordered` (theta in summing order).
    fn sums(&self, rows: Range<usize>, ordered: &[f64]) -> Option<Sums> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: both target features were detected on this CPU just above.
            return unsafe { self.sums_fma(rows, ordered) };
        }
        self.sums_with(rows, ordered, |a, u, acc| acc + a * u)
    }

    /// The hot loops built for AVX2 + FMA, ~1.6x faster than the SSE2 baseline at 60 columns.
    /// Two versions because without the `fma` feature `mul_add` is a slow libm call.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn sums_fma(&self, rows: Range<usize>, ordered: &[f64]) -> Option<Sums> {
        self.sums_with(rows, ordered, |a, u, acc| a.mul_add(u, acc))
    }

    /// `m(a, u, acc) = acc + a * u`, fused or not.
    #[inline(always)]
    fn sums_with(&self, rows: Range<usize>, ordered: &[f64], m: impl Fn(f64, f64, f64) -> f64 + Copy) -> Option<Sums> {
        let (p, d, nd) = (self.p, self.p + 1, self.dense);
        let (mut g, mut h) = (vec![0.0; d], vec![0.0; d * d]);
        let dense_cols = &self.order[1..nd];
        let (theta_dense, identity) = (&ordered[..nd], nd == d);
        // Each row's dense inputs with a leading 1 (the intercept); rows past the end or with
        // w = 0 keep stale data and get s = 0. Its nonzero sparse inputs: position and value.
        let mut xa = vec![0.0; BLOCK * nd];
        let (mut at, mut val) = (vec![0usize; d - nd], vec![0.0; d - nd]);
        for i in rows.clone().step_by(BLOCK) {
            if (i - rows.start).is_multiple_of(CANCEL_CHECK_ROWS) && self.cancel.requested() {
                return None;
            }
            let mut s = [0.0; BLOCK];
            for (r, sr) in s.iter_mut().enumerate().take(rows.end - i) {
                let wi = self.w[i + r];
                if wi == 0.0 {
                    continue;
                }
                let xd = &mut xa[r * nd..(r + 1) * nd];
                xd[0] = 1.0;
                let mut nnz = 0;
                match self.x {
                    DesignRows::Dense { x, .. } => {
                        let xi = &x[(i + r) * p..(i + r + 1) * p];
                        if identity {
                            xd[1..].copy_from_slice(xi);
                        } else {
                            xd[1..].iter_mut().zip(dense_cols).for_each(|(v, &j)| *v = xi[j - 1]);
                        }
                        // Nonzero sparse inputs in column order: a bit mask of the row's nonzeros
                        // (no branches, no stores), then one step per nonzero.
                        for (word, (&mask, chunk)) in self.sparse_mask.iter().zip(xi.chunks(64)).enumerate().filter(|_| nd < d) {
                            let mut bits = 0u64;
                            chunk.iter().enumerate().for_each(|(b, v)| bits |= ((*v != 0.0) as u64) << b);
                            bits &= mask;
                            while bits != 0 {
                                let c = word * 64 + bits.trailing_zeros() as usize;
                                (at[nnz], val[nnz]) = (self.position[c], xi[c]);
                                nnz += 1;
                                bits &= bits - 1;
                            }
                        }
                    }
                    // Sparse rows list their nonzeros in column order already: dense columns go
                    // to their summing position, the others to the sparse list (still ascending).
                    DesignRows::Sparse(s) => {
                        xd[1..].fill(0.0);
                        let (idx, vals) = s.row(i + r);
                        for (&c, &v) in idx.iter().zip(vals) {
                            let k = self.position[c as usize];
                            if k < nd {
                                xd[k] = v;
                            } else {
                                (at[nnz], val[nnz]) = (k, v);
                                nnz += 1;
                            }
                        }
                    }
                }
                let (at, val) = (&at[..nnz], &val[..nnz]);
                let z = dot4(theta_dense, xd) + at.iter().zip(val).map(|(&k, v)| ordered[k] * v).sum::<f64>();
                let (resid, v) = residual_and_variance(z, self.y[i + r]);
                let gr = wi * resid;
                g[..nd].iter_mut().zip(xd.iter()).for_each(|(gk, xk)| *gk += gr * xk);
                at.iter().zip(val).for_each(|(&k, xk)| g[k] += gr * xk);
                *sr = wi * v;
                sparse_update_with(&mut h, d, xd, at, val, *sr, m);
            }
            rank_update_with(&mut h, d, nd, &xa, &s, m);
        }
        Some(Sums { g, h })
    }
}

/// `a . b` with 4 running sums, so the additions pipeline (a fixed order all the same).
fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail = dot(ca.remainder(), cb.remainder());
    let mut s = [0.0; 4];
    for (u, v) in ca.zip(cb) {
        for k in 0..4 {
            s[k] += u[k] * v[k];
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// One row's sparse inputs (positions `at`, values `val`, weight `s`) into H: against the row's
/// dense inputs `xd` (positions 0..xd.len()) in each sparse input's own row of H, and against
/// each other in the upper triangle.
#[inline(always)]
fn sparse_update_with(h: &mut [f64], d: usize, xd: &[f64], at: &[usize], val: &[f64], s: f64, m: impl Fn(f64, f64, f64) -> f64) {
    for (q, (&a, &va)) in at.iter().zip(val).enumerate() {
        let sa = s * va;
        let (dense, upper) = h[a * d..(a + 1) * d].split_at_mut(xd.len());
        dense.iter_mut().zip(xd).for_each(|(hk, &xk)| *hk = m(sa, xk, *hk));
        let upper = &mut upper[a - xd.len()..];
        for (&b, &vb) in at[q..].iter().zip(&val[q..]) {
            let hb = &mut upper[b - a];
            *hb = m(sa, vb, *hb);
        }
    }
}

/// `h[j][k] += sum_r s[r] x_r[j] x_r[k]` for j <= k < n (upper triangle of the leading n x n
/// block of the d x d matrix h) over the rows of `xa` (4 rows of n).
#[inline(always)]
fn rank_update_with(h: &mut [f64], d: usize, n: usize, xa: &[f64], s: &[f64; BLOCK], m: impl Fn(f64, f64, f64) -> f64) {
    let [x0, x1, x2, x3] = [0, 1, 2, 3].map(|r| &xa[r * n..(r + 1) * n]);
    for j in 0..n {
        let (a0, a1, a2, a3) = (s[0] * x0[j], s[1] * x1[j], s[2] * x2[j], s[3] * x3[j]);
        // Equal-length slices let LLVM drop bounds checks and vectorise.
        let hr = &mut h[j * d + j..j * d + n];
        let (u0, u1, u2, u3) = (&x0[j..], &x1[j..], &x2[j..], &x3[j..]);
        for k in 0..hr.len() {
            hr[k] = m(a3, u3[k], m(a2, u2[k], m(a1, u1[k], m(a0, u0[k], hr[k]))));
        }
    }
}

#[cfg(test)]
#[path = "passes_tests.rs"]
mod tests;
