//! The fitted transform of one source column (imputation and scaling of a number, one-hot
//! levels of a text, quantile bins, a date's days before as-of and day of week) and the names
//! of the model inputs it produces.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::data::binning::bin_labels;
use crate::data::dates::{format_timestamp, DAY_NAMES};
use crate::data::values::FeatureKind;

pub const MISSING_LEVEL: &str = "(missing)";
pub const OTHER_LEVEL: &str = "(other)";

/// Imputation and scaling of one number (a numeric column, or a date's days before as-of).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub median: f64,
    pub mean: f64,
    pub scale: f64,
    /// Whether a missing-value indicator input follows the scaled value.
    pub indicator: bool,
}

/// The fitted transform of one source column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FeatureTransform {
    Numeric {
        name: String,
        log: bool,
        scaling: Scaling,
    },
    Categorical {
        name: String,
        kind: FeatureKind,
        /// Kept levels, one output column each, then one "(other)" column.
        levels: Vec<String>,
    },
    /// Quantile bins (one input each) then a "(missing)" input.
    Binned {
        name: String,
        edges: Vec<f64>,
    },
    /// Days before `as_of` (scaled, with its indicator), then seven day-of-week inputs.
    Date {
        name: String,
        as_of: f64,
        scaling: Scaling,
    },
    /// A text column as one input: the position of its level in `levels`, and `levels.len()`
    /// for "(other)" (rare and unseen levels); NULL is "(missing)" as for one-hot inputs. For
    /// boosted trees, which split on these codes as categories.
    TextCodes {
        name: String,
        kind: FeatureKind,
        levels: Vec<String>,
    },
}

impl FeatureTransform {
    pub fn name(&self) -> &str {
        match self {
            FeatureTransform::Numeric { name, .. }
            | FeatureTransform::Categorical { name, .. }
            | FeatureTransform::Binned { name, .. }
            | FeatureTransform::Date { name, .. }
            | FeatureTransform::TextCodes { name, .. } => name,
        }
    }

    pub fn kind(&self) -> FeatureKind {
        match self {
            FeatureTransform::Numeric { .. } | FeatureTransform::Binned { .. } => FeatureKind::Numeric,
            FeatureTransform::Categorical { kind, .. } | FeatureTransform::TextCodes { kind, .. } => *kind,
            FeatureTransform::Date { .. } => FeatureKind::Date,
        }
    }

    /// Number of model inputs this column becomes.
    pub fn width(&self) -> usize {
        match self {
            FeatureTransform::Numeric { scaling, .. } => 1 + scaling.indicator as usize,
            FeatureTransform::Categorical { levels, .. } => levels.len() + 1,
            FeatureTransform::Binned { edges, .. } => edges.len() + 2,
            FeatureTransform::Date { scaling, .. } => 1 + scaling.indicator as usize + DAY_NAMES.len(),
            FeatureTransform::TextCodes { .. } => 1,
        }
    }

    /// The kept levels of a text column, however it is encoded.
    pub fn levels(&self) -> Option<&[String]> {
        match self {
            FeatureTransform::Categorical { levels, .. } | FeatureTransform::TextCodes { levels, .. } => Some(levels),
            _ => None,
        }
    }

    /// Most of this column's inputs that can be nonzero in one row.
    pub fn max_nonzeros(&self) -> usize {
        match self {
            FeatureTransform::Numeric { scaling, .. } => 1 + scaling.indicator as usize,
            FeatureTransform::Categorical { .. } | FeatureTransform::Binned { .. } | FeatureTransform::TextCodes { .. } => 1,
            FeatureTransform::Date { scaling, .. } => 2 + scaling.indicator as usize,
        }
    }

    /// Names of the model inputs, for coefficients and explanations.
    pub fn output_names(&self) -> Vec<String> {
        let mut names = match self {
            FeatureTransform::Numeric { name, log: false, .. } => vec![name.clone()],
            FeatureTransform::Numeric { name, log: true, .. } => vec![format!("log {name}")],
            FeatureTransform::Date { name, .. } => vec![format!("{name} days before as-of")],
            FeatureTransform::TextCodes { name, .. } => vec![name.clone()],
            FeatureTransform::Categorical { name, levels, .. } => {
                return levels.iter().chain([&OTHER_LEVEL.to_string()]).map(|l| format!("{name} = {l}")).collect()
            }
            FeatureTransform::Binned { name, edges } => {
                return bin_labels(edges).iter().chain([&MISSING_LEVEL.to_string()]).map(|l| format!("{name} {l}")).collect()
            }
        };
        if let FeatureTransform::Numeric { scaling, .. } | FeatureTransform::Date { scaling, .. } = self {
            if scaling.indicator {
                names.push(format!("{} {MISSING_LEVEL}", self.name()));
            }
        }
        if let FeatureTransform::Date { name, .. } = self {
            names.extend(DAY_NAMES.iter().map(|d| format!("{name} on {d}")));
        }
        names
    }

    /// The inputs an interaction term multiplies: (offset within this column's inputs, count).
    /// A number's or date's scaled value only (not its indicator or day of week); every level
    /// or bin of the others.
    pub fn interaction_slots(&self) -> (usize, usize) {
        match self {
            FeatureTransform::Numeric { .. } | FeatureTransform::Date { .. } | FeatureTransform::TextCodes { .. } => (0, 1),
            _ => (0, self.width()),
        }
    }

    /// The fitted transform as the models catalog shows it.
    pub fn describe(&self) -> Value {
        let scaling_json =
            |s: &Scaling| json!({"median": s.median, "mean": s.mean, "scale": s.scale, "missing_indicator": s.indicator});
        match self {
            FeatureTransform::Numeric { name, log, scaling } => {
                let mut v = json!({"name": name, "kind": "numeric", "log": log});
                merge(&mut v, scaling_json(scaling));
                v
            }
            FeatureTransform::Categorical { name, kind, levels } => {
                json!({"name": name, "kind": kind.as_str(), "levels": levels, "other_level": true})
            }
            FeatureTransform::TextCodes { name, kind, levels } => {
                json!({"name": name, "kind": kind.as_str(), "levels": levels, "other_level": true, "encoding": "codes"})
            }
            FeatureTransform::Binned { name, edges } => {
                json!({"name": name, "kind": "numeric", "bins": bin_labels(edges), "edges": edges})
            }
            FeatureTransform::Date { name, as_of, scaling } => {
                let mut v = json!({"name": name, "kind": "date", "as_of": format_timestamp(*as_of), "day_of_week": true});
                merge(&mut v, scaling_json(scaling));
                v
            }
        }
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}
