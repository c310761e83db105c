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

use crate::data::DesignRows;
use super::objective::{dot, logloss, residual_and_variance};
use crate::resources::{map_tasks, worker_threads};

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
        Problem { x, p, y, w, alpha, order, dense, sparse_mask, position, parts, threads: plan.threads }
    }

    /// Objective only, O(n p): what the line search needs.
    pub(crate) fn objective(&self, theta: &[f64]) -> Result<f64, String> {
        let losses = map_tasks(self.parts.len(), self.threads, |k| self.loss(self.parts[k].clone(), theta))?;
        Ok(losses.iter().sum::<f64>() + 0.5 * self.alpha * dot(&theta[1..], &theta[1..]))
    }

    fn loss(&self, rows: Range<usize>, theta: &[f64]) -> f64 {
        let (p, mut loss) = (self.p, 0.0);
        for i in rows {
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
        loss
    }

    /// One pass over the rows filling gradient `g` and the full Hessian `h` (d x d row-major,
    /// d = p + 1, penalty included). The objective is known from the line search: no logs here.
    pub(crate) fn accumulate(&self, theta: &[f64], g: &mut [f64], h: &mut [f64]) -> Result<(), String> {
        let d = self.p + 1;
        let ordered: Vec<f64> = self.order.iter().map(|&j| theta[j]).collect();
        let parts = map_tasks(self.parts.len(), self.threads, |k| self.sums(self.parts[k].clone(), &ordered))?;
        let total = parts.into_iter().reduce(|mut a, b| {
            a.g.iter_mut().zip(&b.g).for_each(|(u, v)| *u += v);
            a.h.iter_mut().zip(&b.h).for_each(|(u, v)| *u += v);
            a
        });
        let Some(Sums { g: gs, h: hs }) = total else { return Err("no parts to sum".into()) };
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
    fn sums(&self, rows: Range<usize>, ordered: &[f64]) -> Sums {
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
    fn sums_fma(&self, rows: Range<usize>, ordered: &[f64]) -> Sums {
        self.sums_with(rows, ordered, |a, u, acc| a.mul_add(u, acc))
    }

    /// `m(a, u, acc) = acc + a * u`, fused or not.
    #[inline(always)]
    fn sums_with(&self, rows: Range<usize>, ordered: &[f64], m: impl Fn(f64, f64, f64) -> f64 + Copy) -> Sums {
        let (p, d, nd) = (self.p, self.p + 1, self.dense);
        let (mut g, mut h) = (vec![0.0; d], vec![0.0; d * d]);
        let dense_cols = &self.order[1..nd];
        let (theta_dense, identity) = (&ordered[..nd], nd == d);
        // Each row's dense inputs with a leading 1 (the intercept); rows past the end or with
        // w = 0 keep stale data and get s = 0. Its nonzero sparse inputs: position and value.
        let mut xa = vec![0.0; BLOCK * nd];
        let (mut at, mut val) = (vec![0usize; d - nd], vec![0.0; d - nd]);
        for i in rows.clone().step_by(BLOCK) {
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
        Sums { g, h }
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
mod tests {
    use super::*;
    use crate::models::logistic::{fit_logistic_with, LogisticOptions};
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
        let dense = fit_logistic_with(Array2::from_shape_vec((n, p), x).unwrap().view(), &y, &w, &opts, None, &mut |_, _| Ok(())).unwrap();
        let fit = crate::models::logistic::fit_logistic_rows(DesignRows::Sparse(&rows), &y, &w, &opts, None, &mut |_, _| Ok(())).unwrap();
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
}
