//! `explain`, `top_reasons`, `feature_importance`.

pub mod explain;
