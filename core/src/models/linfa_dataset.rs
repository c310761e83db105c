//! What the core's estimators read from a linfa dataset when fitted through `linfa::traits::Fit`:
//! the labels and the sample weights.

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
