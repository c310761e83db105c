//! Raw feature values as they come out of a table row or a jsonb document, before preprocessing,
//! and the columnar training table built from them.

use serde::{Deserialize, Serialize};

/// How a source column is treated: numbers are imputed and scaled, text and booleans one-hot
/// encoded, dates turned into days before the as-of time and a day of week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureKind {
    Numeric,
    Categorical,
    Boolean,
    /// date / timestamp columns, read as seconds since 1970-01-01 UTC.
    Date,
}

impl FeatureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Numeric => "numeric",
            FeatureKind::Categorical => "categorical",
            FeatureKind::Boolean => "boolean",
            FeatureKind::Date => "date",
        }
    }
}

/// One raw value of one feature for one lead. Booleans arrive as `Text("true" | "false")`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawValue<'a> {
    Null,
    Number(f64),
    Text(&'a str),
}

/// One column of the training table. Text is dictionary-encoded so a million rows of a
/// ten-level column cost four bytes a row, not a String a row.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    Numeric(Vec<Option<f64>>),
    Categorical { dictionary: Vec<String>, codes: Vec<u32> },
}

/// Code used in [`ColumnData::Categorical`] for a NULL.
pub const NULL_CODE: u32 = u32::MAX;

/// A named column of the training table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: FeatureKind,
    pub data: ColumnData,
}

impl Column {
    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Numeric(v) => v.len(),
            ColumnData::Categorical { codes, .. } => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw value at `row`, borrowing text from the dictionary.
    pub fn value(&self, row: usize) -> RawValue<'_> {
        match &self.data {
            ColumnData::Numeric(v) => v[row].map_or(RawValue::Null, RawValue::Number),
            ColumnData::Categorical { dictionary, codes } => match codes[row] {
                NULL_CODE => RawValue::Null,
                c => RawValue::Text(&dictionary[c as usize]),
            },
        }
    }
}

/// Builds a dictionary-encoded text column one value at a time.
#[derive(Debug, Default)]
pub struct CategoricalBuilder {
    dictionary: Vec<String>,
    /// FxHash: SipHash of every text value was about 4% of a million-row training.
    index: rustc_hash::FxHashMap<String, u32>,
    codes: Vec<u32>,
    /// Heap bytes of the distinct values (each held twice) and their entries, for memory limits.
    text_bytes: usize,
}

impl CategoricalBuilder {
    pub fn push(&mut self, value: Option<&str>) {
        let code = match value {
            None => NULL_CODE,
            Some(s) => match self.index.get(s) {
                Some(&c) => c,
                None => {
                    let c = self.dictionary.len() as u32;
                    self.text_bytes += 2 * s.len() + 2 * std::mem::size_of::<String>() + 8;
                    self.dictionary.push(s.to_string());
                    self.index.insert(s.to_string(), c);
                    c
                }
            },
        };
        self.codes.push(code);
    }

    /// Heap bytes held so far (codes, distinct values, their index), about.
    pub fn heap_bytes(&self) -> usize {
        self.codes.capacity() * 4 + self.text_bytes
    }

    /// Number of distinct non-NULL values seen so far.
    pub fn distinct(&self) -> usize {
        self.dictionary.len()
    }

    pub fn finish(self) -> ColumnData {
        let (dictionary, codes) = self.finish_codes();
        ColumnData::Categorical { dictionary, codes }
    }

    /// The dictionary and the code of each value pushed (NULL_CODE for NULL).
    pub fn finish_codes(self) -> (Vec<String>, Vec<u32>) {
        (self.dictionary, self.codes)
    }
}

/// A raw value as text, the way a rep reads it and a segment is named: numbers as Postgres
/// prints them (integers without a decimal point); None for NULL and placeholder values.
pub fn value_text(value: &RawValue<'_>, missing_values: &[String]) -> Option<String> {
    match value {
        RawValue::Null => None,
        RawValue::Text(s) if missing_values.iter().any(|m| m == s) => None,
        RawValue::Text(s) => Some(s.to_string()),
        RawValue::Number(x) if x.fract() == 0.0 && x.abs() < 1e15 => Some(format!("{}", *x as i64)),
        RawValue::Number(x) => Some(format!("{x}")),
    }
}

/// A whole row of raw values for the columns of a table, in column order.
pub fn row_values<'a>(columns: &'a [Column], row: usize, out: &mut Vec<RawValue<'a>>) {
    out.clear();
    out.extend(columns.iter().map(|c| c.value(row)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categorical_builder_dictionary_encodes() {
        let mut b = CategoricalBuilder::default();
        for v in [Some("a"), None, Some("b"), Some("a")] {
            b.push(v);
        }
        assert_eq!(b.distinct(), 2);
        let col = Column { name: "c".into(), kind: FeatureKind::Categorical, data: b.finish() };
        assert_eq!(col.value(0), RawValue::Text("a"));
        assert_eq!(col.value(1), RawValue::Null);
        assert_eq!(col.value(3), RawValue::Text("a"));
        assert_eq!(col.len(), 4);
    }
}
