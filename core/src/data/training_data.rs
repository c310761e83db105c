//! The table a model learns from, as the SQL layer hands it to the core.

use crate::data::split::SplitKey;
use crate::data::values::Column;

/// The table a model learns from: feature columns, one label per row, and the split key.
pub struct TrainingData {
    pub columns: Vec<Column>,
    /// Converted or not, one per row. A regression's rows are all `false` (nothing to stratify by).
    pub labels: Vec<bool>,
    /// The numeric label of a regression (`options.task = 'regression'`), one per row; empty for
    /// a classification.
    pub targets: Vec<f64>,
    pub split_key: SplitKey,
}
