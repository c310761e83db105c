//! The weighted logistic fit as a linfa estimator. `Fit` over a `linfa::Dataset` of f64 records
//! and bool labels runs [`fit_logistic`] with the dataset's sample weights (all ones when it has
//! none) and returns the [`LogisticFit`]. The fit predicts, through `linfa::traits::Predict`,
//! either the probability of the positive label (`Array1<f64>`: the lead score) or the label
//! itself (`Array1<bool>`: positive from probability 0.5, linfa-logistic's default threshold);
//! say which by the type, `let p: Array1<f64> = fit.predict(&x)`.
//!
//! The training pipeline calls [`super::fit_logistic_rows`] directly: its design matrix may be
//! sparse, which a linfa dataset's dense records are not.

use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::Fit;
use ndarray::{Array1, ArrayBase, Data, Ix2};

use super::fit::fit_logistic;
use super::hyperparams::ValidLogisticParams;
use super::params::{LogisticError, LogisticFit};
use crate::models::linfa_dataset::{labels, sample_weights};

impl<D, T> Fit<ArrayBase<D, Ix2>, T, LogisticError> for ValidLogisticParams
where
    D: Data<Elem = f64>,
    T: AsSingleTargets<Elem = bool>,
{
    type Object = LogisticFit;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<LogisticFit, LogisticError> {
        let x = dataset.records().view();
        let weights = sample_weights(dataset, x.nrows());
        fit_logistic(x, &labels(dataset), &weights, &self.options, &mut |_, _| Ok(()))
    }
}

impl LogisticFit {
    /// The probability of the positive label for each row of `x`: the same bits as
    /// [`LogisticFit::probability`] of the row, which is what scoring in SQL computes.
    pub fn predict_probabilities<D: Data<Elem = f64>>(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        let mut out = Array1::zeros(x.nrows());
        self.each_probability(x, |i, p| out[i] = p);
        out
    }

    fn each_probability<D: Data<Elem = f64>>(&self, x: &ArrayBase<D, Ix2>, mut put: impl FnMut(usize, f64)) {
        assert_eq!(
            x.ncols(),
            self.coefficients.len(),
            "the model has {} inputs, the records {} columns",
            self.coefficients.len(),
            x.ncols()
        );
        // A row that is not contiguous (column-major records) is copied, so every row is summed
        // in the same order as `probability` sums it.
        let mut scratch = Vec::new();
        for (i, row) in x.rows().into_iter().enumerate() {
            let p = match row.to_slice() {
                Some(s) => self.probability(s),
                None => {
                    scratch.clear();
                    scratch.extend(row.iter());
                    self.probability(&scratch)
                }
            };
            put(i, p);
        }
    }
}

crate::models::linfa_dataset::probability_predictions!(LogisticFit);

#[cfg(test)]
mod tests {
    use super::super::hyperparams::LogisticParams;
    use super::super::params::LogisticOptions;
    use super::*;
    use linfa::traits::Predict;
    use linfa::Dataset;
    use ndarray::{s, Array2, Axis, ShapeBuilder};

    /// Deterministic rows: xorshift features in [-2, 2), labels from a noisy linear score.
    fn data(n: usize, p: usize, seed: u64) -> (Array2<f64>, Array1<bool>) {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut u = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let x = Array2::from_shape_fn((n, p), |_| 4.0 * u() - 2.0);
        let y = x
            .rows()
            .into_iter()
            .map(|r| r.iter().enumerate().map(|(j, v)| v / (j + 1) as f64).sum::<f64>() + 2.0 * u() - 1.0 > 0.3);
        (x.clone(), y.collect())
    }

    fn params() -> LogisticParams {
        LogisticParams::new().alpha(0.4).tolerance(1e-10)
    }

    #[test]
    fn fit_trait_uses_the_sample_weights() {
        let (x, y) = data(200, 4, 1);
        let w: Vec<f64> = (0..200).map(|i| [0.5, 1.0, 2.0, 3.25][i % 4]).collect();
        let dataset = Dataset::new(x.clone(), y.clone()).with_weights(w.iter().map(|&v| v as f32).collect());
        let through_linfa = params().fit(&dataset).unwrap();
        let opts = LogisticOptions { alpha: 0.4, tol: 1e-10, ..Default::default() };
        let direct = fit_logistic(x.view(), y.as_slice().unwrap(), &w, &opts, &mut |_, _| Ok(())).unwrap();
        assert!(direct.converged);
        assert_eq!(through_linfa, direct);
        // Without weights every row counts once.
        let unweighted = params().fit(&Dataset::new(x.clone(), y.clone())).unwrap();
        let ones = fit_logistic(x.view(), y.as_slice().unwrap(), &[1.0; 200], &opts, &mut |_, _| Ok(())).unwrap();
        assert_eq!(unweighted, ones);
    }

    #[test]
    fn weight_two_equals_a_duplicated_row() {
        let (x, y) = data(80, 3, 2);
        let w: Array1<f32> = (0..80).map(|i| if i < 15 { 2.0 } else { 1.0 }).collect();
        let weighted = params().fit(&Dataset::new(x.clone(), y.clone()).with_weights(w)).unwrap();
        let mut xd = x.clone();
        xd.append(Axis(0), x.slice(s![..15, ..])).unwrap();
        let yd: Array1<bool> = y.iter().chain(y.slice(s![..15]).iter()).copied().collect();
        let duplicated = params().fit(&Dataset::new(xd, yd)).unwrap();
        assert!((weighted.intercept - duplicated.intercept).abs() < 1e-10);
        for (a, b) in weighted.coefficients.iter().zip(&duplicated.coefficients) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
    }

    #[test]
    fn predicts_probabilities_and_labels_as_scoring_does() {
        let (x, y) = data(150, 3, 3);
        let fit = params().fit(&Dataset::new(x.clone(), y.clone())).unwrap();
        let p: Array1<f64> = fit.predict(&x);
        for (row, pi) in x.rows().into_iter().zip(&p) {
            assert_eq!(*pi, fit.probability(row.as_slice().unwrap()));
        }
        let labels: Array1<bool> = fit.predict(&x);
        assert!(labels.iter().zip(&p).all(|(l, pi)| *l == (*pi >= 0.5)));
        // Column-major records predict the same bits.
        let mut xf = Array2::zeros((150, 3).f());
        xf.assign(&x);
        let pf: Array1<f64> = fit.predict(&xf);
        assert_eq!(p, pf);
        assert_eq!(fit.predict_probabilities(&x), p);
        // Most training labels come back (the data are nearly linear).
        let right = labels.iter().zip(&y).filter(|(a, b)| a == b).count();
        assert!(right > 110, "{right} of 150");
    }

    #[test]
    fn bad_options_and_shapes_are_errors() {
        let (x, y) = data(20, 2, 4);
        let dataset = Dataset::new(x.clone(), y.clone());
        assert!(matches!(params().alpha(-1.0).fit(&dataset), Err(LogisticError::NotFinite(_))));
        assert!(matches!(params().tolerance(f64::NAN).fit(&dataset), Err(LogisticError::NotFinite(_))));
        let short = Dataset::new(x, y).with_weights(Array1::ones(19));
        assert!(matches!(params().fit(&short), Err(LogisticError::DimensionMismatch(_))));
        let e: LogisticError = linfa::Error::NotEnoughSamples.into();
        assert!(matches!(e, LogisticError::Empty));
    }
}
