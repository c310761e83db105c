//! What counts as converted, which rows are too young to have an outcome and where the data
//! window starts: `options.outcomes`, `mature_after`, `created_column` and `since`.
//!
//! Files: `definition` (the outcome lists and their policy), `window` (label maturity and the
//! data cut-off), `tally` (rows per class from per-value counts, and the errors when nothing is
//! left to train on).

mod definition;
mod tally;
mod window;

pub use definition::{OutcomeClass, OutcomeDefinition};
pub use tally::{tally_outcomes, LabelValueRows, OutcomeCounts};
#[cfg(test)]
use window::parse_interval_seconds;
pub use window::DataWindow;

#[cfg(test)]
mod tests;
