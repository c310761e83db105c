//! What a person reads: the model card in markdown and the self-contained HTML report with its
//! SVG charts.
//!
//! Imports: `data`, `evaluation`, `models`, `explain`.

mod drift_section;
mod funnel_section;
mod markdown;
mod model_card;
mod page;
mod svg_bar_chart;
mod svg_chart;

pub use drift_section::{drift_rows_from_json, MonitoringSnapshot};
pub use funnel_section::FunnelSection;
pub use model_card::{render_model_card, version_status, CardEvent, CardInput, EditedCard};
pub use page::{render_report, ReportInput, SegmentTiers};
pub use svg_chart::format_number;
