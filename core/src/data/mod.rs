//! Lead data as the core sees it, and every transform fitted on it: typed columns and values,
//! dates, splits and their content order, resampling, binning, the fitted preprocessor (imputation,
//! one-hot levels, scaling, interactions) and the design matrix it produces.
//!
//! Imports: `resources`.

pub mod binning;
pub mod content_order;
pub mod dates;
pub mod design_matrix;
pub mod float_sort;
pub mod level_table;
pub mod preprocess;
pub mod resample;
pub mod source_columns;
pub mod split;
pub mod training_data;
pub mod values;
