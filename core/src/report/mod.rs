//! What a person reads: the model card in markdown and the self-contained HTML report with its
//! SVG charts.
//!
//! Imports: `data`, `evaluation`, `models`, `explain`.

pub mod drift_section;
pub mod markdown;
pub mod model_card;
pub mod page;
pub mod svg_chart;
