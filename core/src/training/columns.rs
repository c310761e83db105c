//! Which columns train() learns from, and whether its label can be learned: the label's type,
//! the explicit feature list or the automatic choice (every usable column but the label, the
//! split and key columns, the excluded ones and the scores lead_scoring writes), id-like columns
//! dropped after reading, and a label with both classes. Each column skipped is reported with
//! its reason, which the SQL layer shows as a NOTICE.

use std::fmt;

use crate::core_err;
use crate::data::{Column, ColumnData, NULL_CODE};
use crate::data::{ColumnClass, SourceColumn};
use crate::CoreResult;

/// Rows below which an all-distinct text column is not called an id (tiny tables are all-distinct).
pub const ID_MIN_ROWS: usize = 20;

/// A column left out of the automatic features, or one that looks like an id, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnNote {
    /// A score, tier or history column a rescoring trigger writes on the source table.
    WrittenScore(String),
    Uuid(String),
    /// Dates are used only when named: their days before as-of is a choice to make on purpose.
    Date(String),
    Unsupported {
        name: String,
        type_name: String,
    },
    /// Skipped: a different text value in every row.
    DistinctText(String),
    /// Kept, but pointed out: a different whole number in every row.
    DistinctWholeNumbers(String),
}

impl fmt::Display for ColumnNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnNote::WrittenScore(c) => {
                write!(
                    f,
                    "column \"{c}\" holds a score that lead_scoring.attach() writes; skipped (name it in features to use it)"
                )
            }
            ColumnNote::Uuid(c) => write!(f, "column \"{c}\" (uuid) looks like a row id; skipped"),
            ColumnNote::Date(c) => {
                write!(f, "date column \"{c}\" skipped; name it in features to use its day of week and days before options.as_of")
            }
            ColumnNote::Unsupported { name, type_name } => {
                write!(f, "column \"{name}\" has type {type_name}, which is not a feature type; skipped")
            }
            ColumnNote::DistinctText(c) => {
                write!(f, "column \"{c}\" has a different text value in every row, so it looks like a row id; skipped")
            }
            ColumnNote::DistinctWholeNumbers(c) => write!(
                f,
                "column \"{c}\" has a different whole number in every row; if it is an id, exclude it with options.exclude"
            ),
        }
    }
}

/// A label must be boolean, a number (0/1) or text with `options.positive_label`.
pub fn check_label_type(label: &SourceColumn, positive_label: Option<&str>) -> CoreResult<()> {
    match (label.class, positive_label) {
        (ColumnClass::Boolean | ColumnClass::Numeric { .. }, _) | (ColumnClass::Text, Some(_)) => Ok(()),
        (ColumnClass::Text, None) => Err(core_err!(
            InvalidArgument,
            "label column \"{}\" is text; set options.positive_label to the value that means converted",
            label.name
        )),
        _ => Err(core_err!(
            InvalidArgument,
            "label column \"{}\" has type {}; a label must be boolean, 0/1 or text with options.positive_label",
            label.name,
            label.type_name
        )),
    }
}

/// What the feature choice is told.
pub struct FeatureRequest<'a> {
    /// The columns named in `features`, already resolved (the SQL layer names a missing one);
    /// None: choose automatically.
    pub explicit: Option<Vec<&'a SourceColumn>>,
    pub exclude: &'a [String],
    /// Columns a rescoring trigger writes on the source table.
    pub scores_written: &'a [String],
}

/// The feature columns: the explicit list (each checked), or every usable column of `columns`
/// except the reserved ones (label, split, key), the excluded ones and the scores a trigger
/// writes, with a note per column skipped.
pub fn choose_features<'a>(
    columns: &'a [SourceColumn],
    request: FeatureRequest<'a>,
    reserved: &dyn Fn(&SourceColumn) -> bool,
) -> CoreResult<(Vec<&'a SourceColumn>, Vec<ColumnNote>)> {
    let mut chosen: Vec<&SourceColumn> = Vec::new();
    let mut notes = Vec::new();
    match request.explicit {
        Some(list) => {
            for c in list {
                let f = &c.name;
                if reserved(c) {
                    return Err(core_err!(
                        InvalidArgument,
                        "column \"{f}\" is the label or the split column and cannot also be a feature"
                    ));
                }
                if c.class.feature_kind().is_none() {
                    return Err(core_err!(
                        InvalidArgument,
                        "feature column \"{f}\" has type {}; features must be numeric, text, boolean or a date",
                        c.type_name
                    ));
                }
                if chosen.iter().any(|x| x.name == c.name) {
                    return Err(core_err!(InvalidArgument, "feature \"{f}\" is listed twice"));
                }
                if !request.exclude.contains(&c.name) {
                    chosen.push(c);
                }
            }
        }
        None => {
            for c in columns.iter().filter(|c| !reserved(c) && !request.exclude.contains(&c.name)) {
                if request.scores_written.contains(&c.name) {
                    notes.push(ColumnNote::WrittenScore(c.name.clone()));
                    continue;
                }
                match c.class {
                    ColumnClass::Uuid => notes.push(ColumnNote::Uuid(c.name.clone())),
                    ColumnClass::Temporal => notes.push(ColumnNote::Date(c.name.clone())),
                    ColumnClass::Unsupported => {
                        notes.push(ColumnNote::Unsupported { name: c.name.clone(), type_name: c.type_name.clone() })
                    }
                    _ => chosen.push(c),
                }
            }
        }
    }
    if chosen.is_empty() {
        return Err(core_err!(InvalidArgument, "no feature columns are left to train on"));
    }
    Ok((chosen, notes))
}

/// Columns read that look like row ids: text columns with a different value in every row are
/// marked for dropping (`keep[i] == false`); numeric ones with a different whole number in every
/// row are only pointed out.
pub fn id_like_columns(columns: &[Column]) -> (Vec<bool>, Vec<ColumnNote>) {
    let mut keep = vec![true; columns.len()];
    let mut notes = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let n = c.len();
        if n < ID_MIN_ROWS {
            continue;
        }
        match &c.data {
            ColumnData::Categorical { dictionary, codes } => {
                if dictionary.len() == n && !codes.contains(&NULL_CODE) {
                    notes.push(ColumnNote::DistinctText(c.name.clone()));
                    keep[i] = false;
                }
            }
            ColumnData::Numeric(values) => {
                let mut v: Vec<f64> = values.iter().flatten().copied().collect();
                if v.len() == n && v.iter().all(|x| x.fract() == 0.0) {
                    v.sort_by(f64::total_cmp);
                    v.dedup();
                    if v.len() == n {
                        notes.push(ColumnNote::DistinctWholeNumbers(c.name.clone()));
                    }
                }
            }
        }
    }
    (keep, notes)
}

/// A label needs rows, and both classes among them.
pub fn check_labels(labels: &[bool], label: &str, source: &str) -> CoreResult<()> {
    check_label_counts(labels.len(), labels.iter().filter(|&&l| l).count(), label, source)
}

/// [`check_labels`] from the count of rows with a label and of converted ones among them.
pub fn check_label_counts(rows: usize, positives: usize, label: &str, source: &str) -> CoreResult<()> {
    if rows == 0 {
        return Err(core_err!(InsufficientData, "source {source} has no rows with a non-NULL label \"{label}\""));
    }
    if positives == 0 || positives == rows {
        return Err(core_err!(
            InsufficientData,
            "label \"{label}\" has only one class ({} rows, all {}); a model needs converted and non-converted leads",
            rows,
            if positives == 0 { "not converted" } else { "converted" }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CategoricalBuilder, FeatureKind};

    fn col(name: &str, class: ColumnClass) -> SourceColumn {
        SourceColumn { name: name.into(), type_name: "t".into(), class }
    }

    #[test]
    fn label_types() {
        assert!(check_label_type(&col("y", ColumnClass::Boolean), None).is_ok());
        assert!(check_label_type(&col("y", ColumnClass::Text), Some("won")).is_ok());
        assert!(check_label_type(&col("y", ColumnClass::Text), None).unwrap_err().message.contains("options.positive_label"));
        assert!(check_label_type(&col("y", ColumnClass::Uuid), None).unwrap_err().message.contains("has type t"));
    }

    #[test]
    fn automatic_choice_skips_reserved_excluded_written_and_unusable_columns() {
        let columns = vec![
            col("y", ColumnClass::Boolean),
            col("visits", ColumnClass::Numeric { integer: true }),
            col("source", ColumnClass::Text),
            col("id", ColumnClass::Uuid),
            col("created", ColumnClass::Temporal),
            col("blob", ColumnClass::Unsupported),
            col("score", ColumnClass::Numeric { integer: false }),
            col("secret", ColumnClass::Text),
        ];
        let exclude = vec!["secret".to_string()];
        let written = vec!["score".to_string()];
        let request = FeatureRequest { explicit: None, exclude: &exclude, scores_written: &written };
        let (chosen, notes) = choose_features(&columns, request, &|c| c.name == "y").unwrap();
        let names: Vec<&str> = chosen.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["visits", "source"]);
        assert_eq!(
            notes,
            [
                ColumnNote::Uuid("id".into()),
                ColumnNote::Date("created".into()),
                ColumnNote::Unsupported { name: "blob".into(), type_name: "t".into() },
                ColumnNote::WrittenScore("score".into()),
            ]
        );
    }

    #[test]
    fn explicit_lists_are_checked() {
        let columns = vec![col("y", ColumnClass::Boolean), col("a", ColumnClass::Text), col("u", ColumnClass::Uuid)];
        let none: Vec<String> = Vec::new();
        let pick = |names: &[&str]| -> CoreResult<Vec<String>> {
            let explicit = names.iter().map(|n| columns.iter().find(|c| c.name == *n).unwrap()).collect();
            let request = FeatureRequest { explicit: Some(explicit), exclude: &none, scores_written: &none };
            choose_features(&columns, request, &|c| c.name == "y").map(|(c, _)| c.iter().map(|c| c.name.clone()).collect())
        };
        assert_eq!(pick(&["a"]).unwrap(), ["a"]);
        assert!(pick(&["y"]).unwrap_err().message.contains("cannot also be a feature"));
        assert!(pick(&["u"]).unwrap_err().message.contains("features must be numeric"));
        assert!(pick(&["a", "a"]).unwrap_err().message.contains("listed twice"));
        assert!(pick(&[]).unwrap_err().message.contains("no feature columns"));
    }

    #[test]
    fn distinct_text_is_dropped_and_distinct_numbers_pointed_out() {
        let n = ID_MIN_ROWS;
        let mut emails = CategoricalBuilder::default();
        let mut plan = CategoricalBuilder::default();
        for i in 0..n {
            emails.push(Some(&format!("lead{i}@example.com")));
            plan.push(Some(if i % 2 == 0 { "free" } else { "pro" }));
        }
        let columns = vec![
            Column { name: "email".into(), kind: FeatureKind::Categorical, data: emails.finish() },
            Column { name: "plan".into(), kind: FeatureKind::Categorical, data: plan.finish() },
            Column {
                name: "lead_no".into(),
                kind: FeatureKind::Numeric,
                data: ColumnData::Numeric((0..n).map(|i| Some(i as f64)).collect()),
            },
        ];
        let (keep, notes) = id_like_columns(&columns);
        assert_eq!(keep, [false, true, true]);
        assert_eq!(notes, [ColumnNote::DistinctText("email".into()), ColumnNote::DistinctWholeNumbers("lead_no".into())]);
    }

    #[test]
    fn labels_need_both_classes() {
        assert!(check_labels(&[], "y", "t").unwrap_err().message.contains("no rows with a non-NULL label"));
        assert!(check_labels(&[true, true], "y", "t").unwrap_err().message.contains("all converted"));
        assert!(check_labels(&[true, false], "y", "t").is_ok());
    }
}
