//! Why a lead scored what it did: per-feature contributions (exact for logistic regression,
//! TreeSHAP for trees), top reasons in words, and global importance.
//!
//! Imports: `resources`, `data`, `models`.

mod contributions;
mod readable;

pub use contributions::{explain, feature_importance, top_reasons, Explanation, Importance};
pub use readable::{bin_range, condition, readable_number};
