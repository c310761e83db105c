//! The core's estimators as linfa sees them: what they read from a dataset when fitted through
//! `linfa::traits::Fit` (the labels and the sample weights), and what they predict through
//! `linfa::traits::Predict` (a probability or a class per row).

use linfa::dataset::AsSingleTargets;
use linfa::DatasetBase;

/// One label per row, in row order.
pub(crate) fn labels<R: linfa::dataset::Records, T: AsSingleTargets<Elem = bool>>(dataset: &DatasetBase<R, T>) -> Vec<bool> {
    dataset.targets().as_single_targets().to_vec()
}

/// One weight per row: the dataset's sample weights (linfa keeps them as f32), or all ones
/// when it has none, as linfa's own `weight_for` reads a dataset without weights.
pub(crate) fn sample_weights<R, T>(dataset: &DatasetBase<R, T>, rows: usize) -> Vec<f64>
where
    R: linfa::dataset::Records,
{
    match dataset.weights() {
        Some(w) => w.iter().map(|&v| f64::from(v)).collect(),
        None => vec![1.0; rows],
    }
}

/// linfa's `Predict` for a fitted classifier with an
/// `each_probability(&self, x, put: impl FnMut(row, probability))` method: probabilities as
/// `Array1<f64>`, classes (probability >= 0.5) as `Array1<bool>`.
macro_rules! probability_predictions {
    ($fitted:ty) => {
        impl<D: ndarray::Data<Elem = f64>>
            linfa::traits::PredictInplace<ndarray::ArrayBase<D, ndarray::Ix2>, ndarray::Array1<f64>> for $fitted
        {
            fn predict_inplace(&self, x: &ndarray::ArrayBase<D, ndarray::Ix2>, y: &mut ndarray::Array1<f64>) {
                assert_eq!(x.nrows(), y.len(), "one prediction per row");
                self.each_probability(x, |i, p| y[i] = p);
            }

            fn default_target(&self, x: &ndarray::ArrayBase<D, ndarray::Ix2>) -> ndarray::Array1<f64> {
                ndarray::Array1::zeros(x.nrows())
            }
        }

        impl<D: ndarray::Data<Elem = f64>>
            linfa::traits::PredictInplace<ndarray::ArrayBase<D, ndarray::Ix2>, ndarray::Array1<bool>> for $fitted
        {
            fn predict_inplace(&self, x: &ndarray::ArrayBase<D, ndarray::Ix2>, y: &mut ndarray::Array1<bool>) {
                assert_eq!(x.nrows(), y.len(), "one prediction per row");
                self.each_probability(x, |i, p| y[i] = p >= 0.5);
            }

            fn default_target(&self, x: &ndarray::ArrayBase<D, ndarray::Ix2>) -> ndarray::Array1<bool> {
                ndarray::Array1::from_elem(x.nrows(), false)
            }
        }
    };
}
pub(crate) use probability_predictions;
