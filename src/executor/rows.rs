//! Reads a source into the core's columnar table in one pass, each row decoded straight from
//! the executor's slot as it is produced (row_stream.rs): nothing but the columnar table grows.

use crate::core::data::lead_key_hash;
use crate::core::data::TrainingData;
use crate::core::data::{CategoricalBuilder, Column, ColumnData};
use crate::core::data::{ColumnClass, SourceColumn};
use crate::core::data::{SplitKey, TextKey};
use crate::core::resources::MemoryLimit;
use crate::core::training::{OutcomeClass, OutcomeDefinition};
use crate::core::CoreError;
use crate::errors::{bad_data, invalid, quote_ident, raise_core};
use crate::executor::source::Source;
use crate::pg::datum::{text_of, utf8_database};
use crate::pg::row_stream::for_each_row;

/// How the label column is read.
pub struct LabelSpec<'a> {
    pub column: &'a SourceColumn,
    /// The value that means "converted", compared as text; needed for text labels.
    pub positive: Option<&'a str>,
    /// The model's outcome lists, instead of `positive`.
    pub outcomes: Option<&'a OutcomeDefinition>,
    /// A regression's label: read as a number into `targets` (NaN rows skipped and counted).
    pub numeric: bool,
}

/// Which kind of split key is read alongside the features.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Time,
    Group,
    Column,
}

/// What to read from a source.
pub struct ReadRequest<'a> {
    pub source: &'a Source,
    pub features: Vec<&'a SourceColumn>,
    /// None reads every row without a label (drift on unlabelled leads); `labels` stays empty.
    pub label: Option<LabelSpec<'a>>,
    pub key: Option<(&'a SourceColumn, KeyKind)>,
    /// The lead key column (options.key or the table's primary key): its text form is hashed per
    /// row into `ReadResult::lead_keys`, so a version records which part each lead was in.
    pub lead_key: Option<&'a SourceColumn>,
    /// Training's memory limit: reading stops with an ERROR once the columns outgrow it.
    pub memory: Option<&'a MemoryLimit>,
}

/// The rows read, plus what was skipped.
pub struct ReadResult {
    pub data: TrainingData,
    pub null_labels: usize,
    /// Rows skipped because their numeric (regression) label is NaN.
    pub nan_labels: usize,
    /// One hash of the lead key per row read (None for a NULL key); empty without `lead_key`.
    pub lead_keys: Vec<Option<u64>>,
}

fn feature_expr(c: &SourceColumn) -> String {
    match c.class {
        ColumnClass::Numeric { .. } => format!("{}::float8", quote_ident(&c.name)),
        // Seconds since 1970-01-01 UTC, as rows_binding reads a date from a scored row.
        ColumnClass::Temporal => format!("extract(epoch FROM {})::float8", quote_ident(&c.name)),
        _ => format!("{}::text", quote_ident(&c.name)),
    }
}

fn key_expr(c: &SourceColumn, kind: KeyKind) -> String {
    let q = quote_ident(&c.name);
    match (kind, c.class) {
        (KeyKind::Time, ColumnClass::Temporal) => format!("extract(epoch FROM {q})::float8"),
        (KeyKind::Time, ColumnClass::Numeric { .. }) => format!("{q}::float8"),
        (KeyKind::Time, _) => {
            invalid(format!("time split column \"{}\" has type {}; it must be a date, timestamp or number", c.name, c.type_name))
        }
        _ => format!("{q}::text"),
    }
}

/// Interprets one label value: boolean, 0/1, or equality with the positive label.
fn parse_label(text: &str, spec: &LabelSpec<'_>) -> bool {
    if let Some(outcomes) = spec.outcomes {
        // Open rows (and unlisted ones counted as open) were filtered out by the query.
        return match outcomes.class_of(text) {
            Some(class) => class == OutcomeClass::Converted,
            None => bad_data(format!(
                "label column \"{}\" has the value '{text}', which is in no list of the model's options.outcomes",
                spec.column.name
            )),
        };
    }
    if let Some(positive) = spec.positive {
        return text == positive;
    }
    match spec.column.class {
        ColumnClass::Boolean => text == "true",
        ColumnClass::Numeric { .. } => match text.parse::<f64>() {
            Ok(1.0) => true,
            Ok(0.0) => false,
            _ => bad_data(format!(
                "label column \"{}\" has the value {text}; a numeric label must be 0 or 1 (or set options.positive_label)",
                spec.column.name
            )),
        },
        _ => bad_data(format!(
            "label column \"{}\" has type {}; set options.positive_label to the value that means converted",
            spec.column.name, spec.column.type_name
        )),
    }
}

enum Builder {
    Numeric(Vec<Option<f64>>),
    Text(CategoricalBuilder),
}

impl Builder {
    fn heap_bytes(&self) -> usize {
        match self {
            Builder::Numeric(v) => v.capacity() * std::mem::size_of::<Option<f64>>(),
            Builder::Text(b) => b.heap_bytes(),
        }
    }
}

/// Rows between checks of the columns' memory against the limit.
const MEMORY_CHECK_ROWS: usize = 16_384;

/// Reads the requested columns of every row with a non-NULL label.
pub fn read_rows(req: &ReadRequest<'_>) -> ReadResult {
    let mut exprs: Vec<String> = req.features.iter().map(|c| feature_expr(c)).collect();
    let nf = req.features.len();
    // A boolean label is read as a boolean (no text formatting per row); others as text.
    let bool_label = req
        .label
        .as_ref()
        .is_some_and(|l| !l.numeric && l.positive.is_none() && l.outcomes.is_none() && l.column.class == ColumnClass::Boolean);
    let numeric_label = req.label.as_ref().is_some_and(|l| l.numeric);
    if let Some(label) = &req.label {
        let cast = match (bool_label, numeric_label) {
            (true, _) => "boolean",
            (_, true) => "float8",
            _ => "text",
        };
        exprs.push(format!("{}::{cast}", quote_ident(&label.column.name)));
    }
    // Index of the split key after the features and the optional label.
    let key_at = nf + usize::from(req.label.is_some());
    if let Some((c, kind)) = req.key {
        exprs.push(key_expr(c, kind));
    }
    let lead_key_at = exprs.len();
    if let Some(c) = req.lead_key {
        exprs.push(format!("{}::text", quote_ident(&c.name)));
    }
    let query = format!("SELECT {} FROM {}", exprs.join(", "), req.source.from_sql);

    let mut builders: Vec<Builder> = req
        .features
        .iter()
        .map(|c| match c.class {
            ColumnClass::Numeric { .. } | ColumnClass::Temporal => Builder::Numeric(Vec::new()),
            _ => Builder::Text(CategoricalBuilder::default()),
        })
        .collect();
    let mut labels = Vec::new();
    let mut targets: Vec<f64> = Vec::new();
    let mut nan_labels = 0usize;
    let mut times: Vec<Option<f64>> = Vec::new();
    let mut keys = CategoricalBuilder::default();
    let mut lead_keys: Vec<Option<u64>> = Vec::new();
    let mut null_labels = 0usize;

    let utf8 = utf8_database();
    let mut rows_read = 0usize;
    for_each_row(&query, &mut |values, nulls| {
        rows_read += 1;
        if let Some(limit) = req.memory.filter(|_| rows_read.is_multiple_of(MEMORY_CHECK_ROWS)) {
            let held = builders.iter().map(Builder::heap_bytes).sum::<usize>()
                + labels.capacity()
                + targets.capacity() * 8
                + times.capacity() * 16
                + keys.heap_bytes()
                + lead_keys.capacity() * 16;
            if let Err(e) = limit
                .check(Some(held as u64), || format!("the first {rows_read} rows of {} read into memory", req.source.display))
            {
                let hint =
                    "train on fewer rows or columns (a query source with a WHERE clause), or use options.engine 'aggregate'";
                raise_core(CoreError { message: format!("{}; {hint}", e.message), ..e });
            }
        }
        // The query's columns: the features, then the label, the split key and the lead key.
        if let Some(spec) = &req.label {
            if nulls[nf] {
                null_labels += 1;
                return;
            }
            if numeric_label {
                let value = f64::from_bits(values[nf].value() as u64); // DatumGetFloat8
                if value.is_nan() {
                    nan_labels += 1;
                    return;
                }
                if value.is_infinite() {
                    bad_data(format!(
                        "label column \"{}\" has the value {}; a regression's label must be a finite number",
                        spec.column.name,
                        crate::core::error::sql_float(value)
                    ));
                }
                targets.push(value);
                labels.push(false);
            } else {
                labels.push(if bool_label {
                    values[nf].value() != 0 // DatumGetBool
                } else {
                    // SAFETY: a non-NULL text datum of this row.
                    parse_label(unsafe { text_of(values[nf], utf8) }, spec)
                });
            }
        }
        for (i, b) in builders.iter_mut().enumerate() {
            match b {
                Builder::Numeric(v) => {
                    let x = (!nulls[i]).then(|| f64::from_bits(values[i].value() as u64));
                    if let Some(x) = x.filter(|x| !x.is_finite()) {
                        bad_data(format!(
                            "feature \"{}\" has the value {}; NaN and Infinity are not valid feature values",
                            req.features[i].name,
                            crate::core::error::sql_float(x)
                        ));
                    }
                    v.push(x);
                }
                // SAFETY: a non-NULL text datum of this row.
                Builder::Text(b) => b.push((!nulls[i]).then(|| unsafe { text_of(values[i], utf8) })),
            }
        }
        match req.key {
            Some((_, KeyKind::Time)) => times.push((!nulls[key_at]).then(|| f64::from_bits(values[key_at].value() as u64))),
            // SAFETY: a non-NULL text datum of this row.
            Some(_) => keys.push((!nulls[key_at]).then(|| unsafe { text_of(values[key_at], utf8) })),
            None => {}
        }
        if req.lead_key.is_some() {
            // SAFETY: a non-NULL text datum of this row.
            lead_keys.push((!nulls[lead_key_at]).then(|| lead_key_hash(unsafe { text_of(values[lead_key_at], utf8) })));
        }
    });

    let columns = builders
        .into_iter()
        .zip(&req.features)
        .map(|(b, c)| Column {
            name: c.name.clone(),
            kind: c.class.feature_kind().expect("features are classified before reading"),
            data: match b {
                Builder::Numeric(v) => ColumnData::Numeric(v),
                Builder::Text(b) => b.finish(),
            },
        })
        .collect();
    let split_key = match req.key {
        None => SplitKey::None,
        Some((_, KeyKind::Time)) => SplitKey::Time(times),
        Some((_, KeyKind::Group)) => SplitKey::Group(TextKey::from_builder(keys)),
        Some((_, KeyKind::Column)) => SplitKey::Column(TextKey::from_builder(keys)),
    };
    ReadResult { data: TrainingData { columns, labels, targets, split_key }, null_labels, nan_labels, lead_keys }
}
