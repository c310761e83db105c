//! Boosted trees as a linfa estimator. [`GbmParams`] (the [`GbmOptions`], checked through
//! [`linfa::ParamGuard`]) fits over a `linfa::Dataset` of f64 records (NaN = missing) and bool
//! labels with the dataset's sample weights, and returns the [`GbmModel`], which predicts the
//! probability of the positive label (`Array1<f64>`) or the label (`Array1<bool>`, positive from
//! probability 0.5).
//!
//! One dataset has no held-out part, so a fit through `Fit` grows all `trees` (no early
//! stopping); the training pipeline calls [`fit_gbm`] with its validation part instead.

use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::Fit;
use linfa::ParamGuard;
use ndarray::{Array1, ArrayBase, Data, Ix2};

use crate::models::gbm::{fit_gbm, GbmData, GbmModel, GbmOptions, TreeBooster};
use crate::models::linfa_dataset::{labels, sample_weights};
use crate::models::logistic::sigmoid;
use crate::{CoreError, ErrorKind};

/// Checked boosted-trees options: what `Fit` runs with.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValidGbmParams(GbmOptions);

impl ValidGbmParams {
    pub fn options(&self) -> &GbmOptions {
        &self.0
    }
}

/// Boosted-trees options, unchecked; set them on the [`GbmOptions`] and convert.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GbmParams(ValidGbmParams);

impl From<GbmOptions> for GbmParams {
    fn from(options: GbmOptions) -> Self {
        GbmParams(ValidGbmParams(options))
    }
}

impl ParamGuard for GbmParams {
    type Checked = ValidGbmParams;
    type Error = CoreError;

    fn check_ref(&self) -> Result<&ValidGbmParams, CoreError> {
        self.0 .0.check()?;
        Ok(&self.0)
    }

    fn check(self) -> Result<ValidGbmParams, CoreError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl<D, T> Fit<ArrayBase<D, Ix2>, T, CoreError> for ValidGbmParams
where
    D: Data<Elem = f64>,
    T: AsSingleTargets<Elem = bool>,
{
    type Object = GbmModel;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<GbmModel, CoreError> {
        let x = dataset.records();
        let (rows, cols) = x.dim();
        let (y, weights) = (labels(dataset), sample_weights(dataset, rows));
        if y.len() != rows || weights.len() != rows {
            return Err(CoreError::new(
                ErrorKind::InvalidArgument,
                format!("{rows} records, {} labels, {} weights", y.len(), weights.len()),
            ));
        }
        // Row-major, as fit_gbm takes it (it makes its own column-major copy).
        let data = GbmData { x: x.iter().copied().collect(), rows, cols, y, weights, categorical: Vec::new(), targets: None };
        fit_gbm(data, None, &self.0, &mut |_, _| Ok(()))
    }
}

impl GbmModel {
    /// The probability of the positive label for each row of `x`, the same bits as scoring a row.
    pub fn predict_probabilities<D: Data<Elem = f64>>(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        let mut out = Array1::zeros(x.nrows());
        self.each_probability(x, |i, p| out[i] = p);
        out
    }

    fn each_probability<D: Data<Elem = f64>>(&self, x: &ArrayBase<D, Ix2>, mut put: impl FnMut(usize, f64)) {
        let mut scratch = Vec::new();
        for (i, row) in x.rows().into_iter().enumerate() {
            let log_odds = match row.to_slice() {
                Some(s) => self.log_odds(s),
                None => {
                    scratch.clear();
                    scratch.extend(row.iter());
                    self.log_odds(&scratch)
                }
            };
            put(i, sigmoid(log_odds));
        }
    }
}

crate::models::linfa_dataset::probability_predictions!(GbmModel);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SeededRng;
    use crate::evaluation::roc_auc;
    use linfa::traits::Predict;
    use linfa::Dataset;
    use ndarray::Array2;

    /// y depends on an interaction a*b (which a linear model cannot fit) and on missingness of c.
    fn data(n: usize, seed: u64) -> (Array2<f64>, Array1<bool>) {
        let mut rng = SeededRng::new(seed);
        let mut u = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (mut x, mut y) = (Array2::zeros((n, 3)), Vec::new());
        for i in 0..n {
            let (a, b) = (u(), u());
            let c = if u() < 0.3 { f64::NAN } else { u() };
            let z = if (a > 0.5) == (b > 0.5) { 1.5 } else { -1.5 } + if c.is_nan() { 1.0 } else { 0.0 };
            y.push(u() < sigmoid(z));
            x.row_mut(i).assign(&Array1::from(vec![a, b, c]));
        }
        (x, y.into())
    }

    fn params(trees: usize) -> GbmParams {
        GbmOptions { trees, early_stopping_rounds: None, ..Default::default() }.into()
    }

    #[test]
    fn fits_through_linfa_and_predicts_what_scoring_does() {
        let (x, y) = data(2000, 1);
        let model = params(60).fit(&Dataset::new(x, y)).unwrap();
        assert_eq!(model.trees(), 60);
        let (tx, ty) = data(800, 2);
        let p: Array1<f64> = model.predict(&tx);
        for (row, pi) in tx.rows().into_iter().zip(&p) {
            assert_eq!(*pi, sigmoid(model.log_odds(row.as_slice().unwrap())));
        }
        let auc = roc_auc(p.as_slice().unwrap(), ty.as_slice().unwrap()).unwrap();
        assert!(auc > 0.75, "AUC {auc}");
        let labels: Array1<bool> = model.predict(&tx);
        assert!(labels.iter().zip(&p).all(|(l, pi)| *l == (*pi >= 0.5)));
        assert_eq!(model.predict_probabilities(&tx.t().to_owned().t()), p);
    }

    #[test]
    fn weights_reach_the_booster() {
        // Positives weighted 5 to 1 move the predicted probabilities up; unit weights are the
        // unweighted fit exactly.
        let (x, y) = data(2000, 3);
        let heavy: Array1<f32> = y.iter().map(|&l| if l { 5.0 } else { 1.0 }).collect();
        let weighted = params(30).fit(&Dataset::new(x.clone(), y.clone()).with_weights(heavy)).unwrap();
        let unit = params(30).fit(&Dataset::new(x.clone(), y.clone()).with_weights(Array1::from_elem(2000, 1.0))).unwrap();
        let unweighted = params(30).fit(&Dataset::new(x.clone(), y)).unwrap();
        let mean = |m: &GbmModel| m.predict_probabilities(&x).mean().unwrap();
        assert!(mean(&weighted) > mean(&unweighted) + 0.1, "{} vs {}", mean(&weighted), mean(&unweighted));
        assert_eq!(unit.predict_probabilities(&x), unweighted.predict_probabilities(&x));
    }

    #[test]
    fn bad_options_are_errors() {
        let (x, y) = data(50, 4);
        assert!(params(0).fit(&Dataset::new(x, y)).is_err());
    }
}
