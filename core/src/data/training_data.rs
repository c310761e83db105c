//! The table a model learns from, as the SQL layer hands it to the core.

use crate::data::split::SplitKey;
use crate::data::values::Column;

/// The table a model learns from: feature columns, one label per row, and the split key.
pub struct TrainingData {
    pub columns: Vec<Column>,
    pub labels: Vec<bool>,
    pub split_key: SplitKey,
}
