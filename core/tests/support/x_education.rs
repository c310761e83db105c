//! The shared X Education leads (../shared/data/x_education_leads.csv, described in the README
//! beside it) as the extension would train on them: the leaking columns and the two ids dropped,
//! the three count and time columns numeric and every other column text, the README's reference
//! split by data row number, and the project's own preprocessor (defaults: "Select" and empty
//! mean missing, median imputation with a missing indicator, standard scaling, one-hot levels
//! seen at least 10 times) fitted on the training part. Shared by tests and examples.

// Each test or example that includes this file uses only some of it.
#![allow(dead_code)]

use lead_scoring_core::data::{fit_preprocessor, PreprocessOptions};
use lead_scoring_core::data::{CategoricalBuilder, Column, ColumnData, FeatureKind};
use ndarray::{Array1, Array2};

/// The file, relative to the core crate.
pub const CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/x_education_leads.csv");

/// Recorded after contact or derived from the outcome (the data README): never model inputs.
pub const LEAKING: &[&str] = &[
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
    "Last Activity",
    "Last Notable Activity",
];
const IDS: &[&str] = &["Prospect ID", "Lead Number"];
const TARGET: &str = "Converted";
const NUMERIC: &[&str] = &["TotalVisits", "Total Time Spent on Website", "Page Views Per Visit"];

/// One part of the split, transformed: model inputs and labels.
pub struct Part {
    pub x: Array2<f64>,
    pub y: Array1<bool>,
}

/// The transformed training and test parts, and the input names.
pub struct Leads {
    pub train: Part,
    pub test: Part,
    pub inputs: Vec<String>,
}

impl Leads {
    /// The inputs made from the numeric columns (their scaled values and missing indicators).
    pub fn numeric_inputs(&self) -> Vec<usize> {
        let numeric = |name: &str| NUMERIC.iter().any(|n| name.starts_with(n) && !name.contains(" = "));
        (0..self.inputs.len()).filter(|&j| numeric(&self.inputs[j])).collect()
    }
}

/// Reads and transforms the file (panics with the reason if it cannot).
pub fn load() -> Leads {
    let text = std::fs::read_to_string(CSV).unwrap_or_else(|e| panic!("{CSV}: {e}"));
    let mut lines = text.lines();
    let header = fields(lines.next().expect("a header"));
    let rows: Vec<Vec<Option<String>>> = lines.filter(|l| !l.is_empty()).map(fields).collect();
    let at = |name: &str| header.iter().position(|h| h.as_deref() == Some(name)).unwrap_or_else(|| panic!("no column {name}"));
    let labels: Vec<bool> = rows.iter().map(|r| r[at(TARGET)].as_deref() == Some("1")).collect();
    let mut columns = Vec::new();
    for (j, name) in header.iter().enumerate() {
        let name = name.clone().expect("named columns");
        if name == TARGET || IDS.contains(&name.as_str()) || LEAKING.contains(&name.as_str()) {
            continue;
        }
        let (kind, data) = if NUMERIC.contains(&name.as_str()) {
            let values = rows.iter().map(|r| r[j].as_deref().map(|v| v.parse::<f64>().expect("a number"))).collect();
            (FeatureKind::Numeric, ColumnData::Numeric(values))
        } else {
            let mut b = CategoricalBuilder::default();
            rows.iter().for_each(|r| b.push(r[j].as_deref()));
            (FeatureKind::Categorical, b.finish())
        };
        columns.push(Column { name, kind, data });
    }
    // The README's split on the 1-based data row number r.
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for i in 0..rows.len() {
        match (i + 1) % 5 {
            0 => test.push(i),
            1 => {}
            _ => train.push(i),
        }
    }
    let pre = fit_preprocessor(&columns, &train, &PreprocessOptions::default()).expect("the preprocessor fits");
    let part = |rows: &[usize]| Part {
        x: pre.transform_rows_dense(&columns, rows).expect("rows transform"),
        y: rows.iter().map(|&i| labels[i]).collect(),
    };
    Leads { train: part(&train), test: part(&test), inputs: pre.output_names() }
}

/// The fields of one CSV line (RFC 4180 quoting, no line breaks inside fields); an empty
/// unquoted field is None, as COPY ... (FORMAT csv) reads it as NULL.
fn fields(line: &str) -> Vec<Option<String>> {
    let (mut out, mut field, mut quoted, mut in_quotes) = (Vec::new(), String::new(), false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => in_quotes = false,
            ('"', false) => (in_quotes, quoted) = (true, true),
            (',', false) => {
                out.push(if field.is_empty() && !quoted { None } else { Some(std::mem::take(&mut field)) });
                quoted = false;
            }
            _ => field.push(c),
        }
    }
    out.push(if field.is_empty() && !quoted { None } else { Some(field) });
    out
}
