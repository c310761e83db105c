//! Class rebalancing of the TRAINING part: SMOTE oversampling or random undersampling.
//!
//! Callers pass only training rows, already transformed into the model's design matrix
//! (row-major, one row per lead). Validation and test rows must never be resampled, or the
//! reported metrics would describe synthetic leads. Every method is deterministic for a seed.

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::data::split::SeededRng;
use crate::{core_err, CoreResult};

/// Above this many minority rows, SMOTE's neighbour search looks only at a deterministic
/// random subset of this many minority rows (brute force is `O(bases * candidates * cols)`).
pub const SMOTE_MAX_CANDIDATES: usize = 50_000;

/// How the training rows are rebalanced.
///
/// `ratio` is the desired minority/majority row ratio after resampling, in `(0, 1]`
/// (1.0, the usual default, means balanced classes). The minority is the rarer class
/// (positives when the classes are equally frequent).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Resample {
    /// Rows are used as given.
    None,
    /// SMOTE (Chawla et al. 2002): add synthetic minority rows, interpolating between a
    /// minority row and one of its `k` nearest minority neighbours (5 is the usual choice).
    Smote { k: usize, ratio: f64 },
    /// Drop a random subset of the majority class.
    Undersample { ratio: f64 },
}

/// The resampled training rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Resampled {
    /// Design matrix: kept original rows in their original order, then synthetic rows.
    pub x: Array2<f64>,
    /// Labels aligned with `x`.
    pub y: Vec<bool>,
    /// Number of synthetic (SMOTE) rows appended at the end of `x`.
    pub synthetic_rows: usize,
    /// Number of majority rows removed (undersampling).
    pub dropped_rows: usize,
}

/// Rebalances training rows `x` (one row per label in `y`) as `how` says.
///
/// Target counts: SMOTE grows the minority to `ceil(ratio * majority)` rows; undersampling
/// shrinks the majority to `floor(minority / ratio)` rows (both with a 1e-9 guard against
/// float noise, so 0.28 × 25 is 7, not 8). When the ratio is already met, the input is
/// returned unchanged (no error), so a retrain on fresher, more balanced data just works.
///
/// SMOTE details: base rows are taken round-robin over a seeded shuffle of the minority rows
/// (every row is a base `floor` or `ceil` of `synthetic / minority` times, unlike imblearn's
/// random draw); each synthetic row picks one of the base row's `k` nearest minority
/// neighbours uniformly (squared Euclidean distance on `x` as given, ties by row order,
/// `k` capped at `minority - 1`), and a gap uniform in `[0, 1)`:
/// `base + gap * (neighbour - base)`. With more than [`SMOTE_MAX_CANDIDATES`] minority rows
/// the neighbours come from a seeded random subset of that many minority rows.
///
/// Errors: `x`/`y` length mismatch, ratio outside `(0, 1]`, `k = 0`, non-finite values in
/// minority rows (SMOTE), and, when rows must be added or dropped, fewer than 2 minority
/// rows (SMOTE) or none (undersampling).
pub fn resample(x: ArrayView2<f64>, y: &[bool], how: &Resample, seed: u64) -> CoreResult<Resampled> {
    if x.nrows() != y.len() {
        return Err(core_err!(Internal, "resample: {} rows but {} labels", x.nrows(), y.len()));
    }
    let unchanged = || Resampled { x: x.to_owned(), y: y.to_vec(), synthetic_rows: 0, dropped_rows: 0 };
    let ratio = match *how {
        Resample::None => return Ok(unchanged()),
        Resample::Smote { ratio, .. } | Resample::Undersample { ratio } => ratio,
    };
    if !(ratio > 0.0 && ratio <= 1.0) {
        return Err(core_err!(
            InvalidArgument,
            "resample ratio (minority/majority after resampling) must be in (0, 1], got {ratio}"
        ));
    }
    let positives = y.iter().filter(|&&l| l).count();
    // Ties go to positives as the minority; with equal counts every ratio is met anyway.
    let minority_label = positives <= y.len() - positives;
    let minority: Vec<usize> = (0..y.len()).filter(|&i| y[i] == minority_label).collect();
    let majority: Vec<usize> = (0..y.len()).filter(|&i| y[i] != minority_label).collect();
    let (n_min, n_maj) = (minority.len(), majority.len());
    match *how {
        Resample::Smote { k, .. } => {
            if k == 0 {
                return Err(core_err!(InvalidArgument, "SMOTE needs k >= 1 nearest neighbours"));
            }
            let target = ((ratio * n_maj as f64) - 1e-9).ceil().max(0.0) as usize;
            if target <= n_min {
                return Ok(unchanged());
            }
            if n_min < 2 {
                return Err(core_err!(InsufficientData, "SMOTE needs at least 2 rows of the minority class, found {n_min}"));
            }
            smote(x, y, &minority, minority_label, k, target - n_min, seed)
        }
        Resample::Undersample { .. } => {
            let keep = ((n_min as f64 / ratio) + 1e-9).floor() as usize;
            if keep >= n_maj {
                return Ok(unchanged());
            }
            if n_min == 0 {
                return Err(core_err!(InsufficientData, "undersampling needs at least one row of the minority class"));
            }
            let mut shuffled = majority;
            SeededRng::new(seed).shuffle(&mut shuffled);
            let mut kept = vec![true; y.len()];
            for &i in &shuffled[keep..] {
                kept[i] = false;
            }
            // Original order preserved: select by mask, not by the shuffled list.
            let rows: Vec<usize> = (0..y.len()).filter(|&i| kept[i]).collect();
            Ok(Resampled {
                x: x.select(Axis(0), &rows),
                y: rows.iter().map(|&i| y[i]).collect(),
                synthetic_rows: 0,
                dropped_rows: n_maj - keep,
            })
        }
        Resample::None => unreachable!("handled above"),
    }
}

fn smote(
    x: ArrayView2<f64>,
    y: &[bool],
    minority: &[usize],
    minority_label: bool,
    k: usize,
    n_new: usize,
    seed: u64,
) -> CoreResult<Resampled> {
    // Contiguous copy of the minority rows so distance loops run over plain slices.
    let m = x.select(Axis(0), minority).as_standard_layout().into_owned();
    if m.iter().any(|v| !v.is_finite()) {
        return Err(core_err!(InvalidData, "SMOTE needs finite feature values in every minority row"));
    }
    let (n_min, cols) = m.dim();
    let data = m.as_slice().expect("standard layout");
    let row = |i: usize| &data[i * cols..(i + 1) * cols];

    // Candidate neighbours: all minority rows, or a seeded subset for very large minorities.
    let mut candidates: Vec<usize> = (0..n_min).collect();
    if n_min > SMOTE_MAX_CANDIDATES {
        SeededRng::new(seed ^ 0x5EED_CA4D).shuffle(&mut candidates);
        candidates.truncate(SMOTE_MAX_CANDIDATES);
        candidates.sort_unstable();
    }

    let mut rng = SeededRng::new(seed);
    let mut bases: Vec<usize> = (0..n_min).collect();
    rng.shuffle(&mut bases);
    let mut neighbours: Vec<Option<Vec<usize>>> = vec![None; n_min];
    let mut out = Array2::<f64>::zeros((y.len() + n_new, cols));
    out.slice_mut(ndarray::s![..y.len(), ..]).assign(&x);
    for j in 0..n_new {
        let b = bases[j % n_min];
        // Neighbours are computed lazily: only for rows actually used as a base.
        let nbrs = neighbours[b].get_or_insert_with(|| nearest(&candidates, b, k, |c| squared_distance(row(b), row(c))));
        let nb = nbrs[rng.below(nbrs.len())];
        let gap = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        for (o, (p, q)) in out.row_mut(y.len() + j).iter_mut().zip(row(b).iter().zip(row(nb))) {
            *o = p + gap * (q - p);
        }
    }
    let mut labels = y.to_vec();
    labels.resize(y.len() + n_new, minority_label);
    Ok(Resampled { x: out, y: labels, synthetic_rows: n_new, dropped_rows: 0 })
}

/// The `k` candidates (other than `b`) with the smallest distance, ties to the lower index.
///
/// A sorted buffer of the best `k` so far: most candidates cost one comparison, and no
/// per-base allocation of all distances is needed. `candidates` must be ascending, which
/// makes "strictly closer than the worst kept" the right tie rule.
fn nearest(candidates: &[usize], b: usize, k: usize, dist: impl Fn(usize) -> f64) -> Vec<usize> {
    let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
    for &c in candidates.iter().filter(|&&c| c != b) {
        let d = dist(c);
        if best.len() == k && d >= best[k - 1].0 {
            continue;
        }
        let at = best.partition_point(|&(e, _)| e <= d);
        best.insert(at, (d, c));
        best.truncate(k);
    }
    best.into_iter().map(|(_, c)| c).collect()
}

/// Squared Euclidean distance; four independent sums let the compiler vectorise the loop.
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(p, q)| (p - q) * (p - q)).sum();
    for (p, q) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += (p[l] - q[l]) * (p[l] - q[l]);
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// 40 negatives around (0, 0) and 8 positives on a small grid around (5, 5), 3 columns.
    fn data() -> (Array2<f64>, Vec<bool>) {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..48 {
            let pos = i % 6 == 0;
            let (a, b) = ((i * 7 % 11) as f64 * 0.1, (i * 3 % 5) as f64 * 0.2);
            rows.extend_from_slice(&if pos { [5.0 + a, 5.0 - b, i as f64] } else { [a, b, -(i as f64)] });
            y.push(pos);
        }
        (Array2::from_shape_vec((48, 3), rows).unwrap(), y)
    }

    fn count(y: &[bool], class: bool) -> usize {
        y.iter().filter(|&&l| l == class).count()
    }

    #[test]
    fn smote_counts_keep_originals_first_and_are_deterministic() {
        let (x, y) = data();
        let how = Resample::Smote { k: 3, ratio: 1.0 };
        let r = resample(x.view(), &y, &how, 7).unwrap();
        assert_eq!((r.synthetic_rows, r.dropped_rows), (32, 0));
        assert_eq!((count(&r.y, true), count(&r.y, false)), (40, 40));
        assert_eq!(r.x.slice(ndarray::s![..48, ..]), x);
        assert_eq!(&r.y[..48], &y[..]);
        assert!(r.y[48..].iter().all(|&l| l));
        assert_eq!(r, resample(x.view(), &y, &how, 7).unwrap());
        assert_ne!(r.x, resample(x.view(), &y, &how, 8).unwrap().x, "seed matters");
        let half = resample(x.view(), &y, &Resample::Smote { k: 3, ratio: 0.5 }, 7).unwrap();
        assert_eq!(half.synthetic_rows, 12); // ceil(0.5 * 40) - 8
        let third = resample(x.view(), &y, &Resample::Smote { k: 3, ratio: 0.3 }, 7).unwrap();
        assert_eq!(third.synthetic_rows, 4);
    }

    #[test]
    fn target_counts_ignore_float_noise() {
        // 0.28 * 25 = 7.000000000000001 must mean 7 minority rows, not 8.
        let y: Vec<bool> = (0..27).map(|i| i < 2).collect();
        let x = Array2::from_shape_fn((27, 1), |(i, _)| i as f64);
        assert_eq!(resample(x.view(), &y, &Resample::Smote { k: 1, ratio: 0.28 }, 1).unwrap().synthetic_rows, 5);
        // 7 / 0.07 = 99.99999999999999 must keep 100 majority rows, not 99.
        let y: Vec<bool> = (0..207).map(|i| i < 7).collect();
        let x = Array2::from_shape_fn((207, 1), |(i, _)| i as f64);
        assert_eq!(resample(x.view(), &y, &Resample::Undersample { ratio: 0.07 }, 1).unwrap().dropped_rows, 100);
    }

    /// Each synthetic row lies on the segment between a minority row and one of its k nearest
    /// minority neighbours.
    #[test]
    fn synthetic_rows_lie_on_segments_to_near_minority_neighbours() {
        let (x, y) = data();
        let k = 2;
        let r = resample(x.view(), &y, &Resample::Smote { k, ratio: 1.0 }, 3).unwrap();
        let mins: Vec<usize> = (0..48).filter(|&i| y[i]).collect();
        let d2 = |a: usize, b: usize| -> f64 { x.row(a).iter().zip(x.row(b)).map(|(p, q)| (p - q).powi(2)).sum() };
        for s in r.x.rows().into_iter().skip(48) {
            let on_segment = mins.iter().any(|&b| {
                let mut near: Vec<usize> = mins.iter().copied().filter(|&c| c != b).collect();
                near.sort_by(|&p, &q| d2(b, p).total_cmp(&d2(b, q)).then(p.cmp(&q)));
                near[..k].iter().any(|&nb| {
                    let t = (s[2] - x[[b, 2]]) / (x[[nb, 2]] - x[[b, 2]]); // column 2 differs for all rows
                    (0.0..1.0).contains(&t) && (0..3).all(|c| (x[[b, c]] + t * (x[[nb, c]] - x[[b, c]]) - s[c]).abs() < 1e-9)
                })
            });
            assert!(on_segment, "synthetic row {s} is not on a segment to a {k}-nearest minority neighbour");
        }
    }

    /// Only the given minority rows feed SMOTE: every synthetic coordinate stays inside the
    /// per-coordinate range of the minority rows (never pulled towards majority rows).
    #[test]
    fn synthetic_rows_stay_inside_the_minority_box() {
        let (x, y) = data();
        let r = resample(x.view(), &y, &Resample::Smote { k: 5, ratio: 0.8 }, 11).unwrap();
        for c in 0..3 {
            let vals = (0..48).filter(|&i| y[i]).map(|i| x[[i, c]]);
            let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
            for s in r.x.rows().into_iter().skip(48) {
                assert!(s[c] >= lo && s[c] <= hi, "coordinate {c}: {} outside [{lo}, {hi}]", s[c]);
            }
        }
    }

    #[test]
    fn undersample_keeps_minority_and_order() {
        let (x, y) = data();
        let r = resample(x.view(), &y, &Resample::Undersample { ratio: 0.5 }, 5).unwrap();
        assert_eq!((count(&r.y, true), count(&r.y, false)), (8, 16));
        assert_eq!((r.dropped_rows, r.synthetic_rows), (24, 0));
        // Original order: the last column is a strictly monotone row id within each class.
        let ids: Vec<f64> = r.x.column(2).to_vec();
        let (p, n): (Vec<_>, Vec<_>) = ids.iter().zip(&r.y).partition(|(_, &l)| l);
        assert!(p.windows(2).all(|w| w[0].0 < w[1].0) && n.windows(2).all(|w| w[0].0 > w[1].0));
        for (row, &l) in r.x.rows().into_iter().zip(&r.y) {
            let orig = row[2].abs() as usize;
            assert_eq!((x.row(orig), y[orig]), (row, l));
        }
        assert_eq!(r, resample(x.view(), &y, &Resample::Undersample { ratio: 0.5 }, 5).unwrap());
        let other = resample(x.view(), &y, &Resample::Undersample { ratio: 0.5 }, 6).unwrap();
        assert_ne!(r.x, other.x);
        let bal = resample(x.view(), &y, &Resample::Undersample { ratio: 1.0 }, 5).unwrap();
        assert_eq!((count(&bal.y, true), count(&bal.y, false)), (8, 8));
    }

    #[test]
    fn minority_is_the_rarer_class_even_when_it_is_negative() {
        let (x, y) = data();
        let flipped: Vec<bool> = y.iter().map(|&l| !l).collect();
        let r = resample(x.view(), &flipped, &Resample::Smote { k: 3, ratio: 1.0 }, 1).unwrap();
        assert!(r.synthetic_rows == 32 && r.y[48..].iter().all(|&l| !l));
    }

    #[test]
    fn already_met_ratio_and_none_return_the_input() {
        let (x, y) = data();
        for how in [Resample::None, Resample::Smote { k: 3, ratio: 0.2 }, Resample::Undersample { ratio: 0.2 }] {
            let r = resample(x.view(), &y, &how, 1).unwrap();
            assert_eq!((r.x.view(), &r.y[..], r.synthetic_rows, r.dropped_rows), (x.view(), &y[..], 0, 0));
        }
    }

    #[test]
    fn errors() {
        let (x, y) = data();
        let e = |how: Resample, y: &[bool]| resample(x.view(), y, &how, 1).unwrap_err().message;
        assert!(e(Resample::Smote { k: 0, ratio: 1.0 }, &y).contains("k >= 1"));
        for bad in [0.0, -0.5, 1.5, f64::NAN] {
            assert!(e(Resample::Undersample { ratio: bad }, &y).contains("(0, 1]"));
            assert!(e(Resample::Smote { k: 5, ratio: bad }, &y).contains("(0, 1]"));
        }
        let one: Vec<bool> = (0..48).map(|i| i == 3).collect();
        assert!(e(Resample::Smote { k: 5, ratio: 1.0 }, &one).contains("at least 2"));
        assert!(e(Resample::Undersample { ratio: 1.0 }, &[false; 48]).contains("at least one"));
        assert!(resample(x.view(), &y[..5], &Resample::None, 1).unwrap_err().message.contains("labels"));
        let mut nan = x.clone();
        nan[[0, 1]] = f64::NAN; // row 0 is a positive (minority) row
        assert!(resample(nan.view(), &y, &Resample::Smote { k: 2, ratio: 1.0 }, 1).unwrap_err().message.contains("finite"));
    }

    #[test]
    fn k_larger_than_the_minority_is_capped_and_duplicates_are_fine() {
        let x = Array2::from_shape_vec((5, 1), vec![1.0, 1.0, 0.0, 0.0, 0.0]).unwrap();
        let y = [true, true, false, false, false];
        let r = resample(x.view(), &y, &Resample::Smote { k: 10, ratio: 1.0 }, 2).unwrap();
        assert_eq!(r.synthetic_rows, 1);
        assert_eq!(r.x[[5, 0]], 1.0);
    }

    #[test]
    fn very_large_minorities_use_a_candidate_subset() {
        let n_min = SMOTE_MAX_CANDIDATES + 3;
        let n = 2 * n_min + 8;
        let y: Vec<bool> = (0..n).map(|i| i % 2 == 0 && i < 2 * n_min).collect();
        let x = Array2::from_shape_fn((n, 1), |(i, _)| if y[i] { i as f64 } else { -1.0 });
        let how = Resample::Smote { k: 2, ratio: 1.0 };
        let r = resample(x.view(), &y, &how, 4).unwrap();
        assert_eq!(r.synthetic_rows, 8);
        assert!(r.x.column(0).iter().skip(n).all(|&v| (0.0..=(2 * n_min) as f64).contains(&v)));
        assert_eq!(r, resample(x.view(), &y, &how, 4).unwrap());
    }
}
