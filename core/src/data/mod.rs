//! Lead data as the core sees it, and every transform fitted on it: typed columns and values,
//! dates, splits and their content order, resampling, binning, the fitted preprocessor (imputation,
//! one-hot levels, scaling, interactions) and the design matrix it produces.
//!
//! Imports: `resources`.

mod binning;
mod content_order;
mod dates;
mod design_matrix;
mod float_sort;
mod lead_keys;
mod level_table;
mod preprocess;
mod resample;
mod source_columns;
mod split;
mod training_data;
mod values;

pub use binning::bin_of;
pub use content_order::{content_fingerprint, put_in_content_order, put_in_content_order_with, RowSetHash};
pub use dates::{format_timestamp, parse_timestamp};
pub use design_matrix::{DesignMatrix, DesignRows, SparseRows, Storage};
pub use float_sort::{from_total_order_key, sort_floats, total_order_key};
pub use lead_keys::{lead_key_hash, part_time_ranges, PartKeys};
pub use level_table::LevelTable;
pub(crate) use preprocess::format_number;
pub use preprocess::{
    fit_preprocessor, fit_preprocessor_checked, fit_preprocessor_reporting, parse_preprocess_option,
    preprocessor_from_statistics, signed_log1p, CappedLevels, ColumnStatistics, FeatureTransform, Interaction, LevelIndex,
    NumericMoments, PreprocessOptions, Preprocessor, Scaling, MISSING_LEVEL, PREPROCESS_KEYS,
};
pub use resample::{resample, Resample};
pub use source_columns::{ColumnClass, SourceColumn};
pub use split::{assign_parts, Part, SeededRng, SplitKey, SplitMethod, SplitSpec, TextKey};
pub use training_data::TrainingData;
pub use values::{row_values, value_text, CategoricalBuilder, Column, ColumnData, FeatureKind, RawValue, NULL_CODE};
