//! `audit(source, label)`: a data-quality scorecard per column with leakage suspects;
//! `feature_report(source, label)`: correlations and VIFs of the numeric columns; and
//! [`check_leakage`], the guard train() runs on the rows it read (`options.leakage`).

use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::{json, Map, Value};

use crate::core::audit::{audit_column, feature_report as core_feature_report, leakage_reasons, ColumnAudit, LeakagePolicy};
use crate::core::data::PreprocessOptions;
use crate::core::data::TrainingData;
use crate::core::data::{CategoricalBuilder, ColumnData};
use crate::core::data::{ColumnClass, SourceColumn};
use crate::core::training::TrainOptions;
use crate::core::CoreError;
use crate::errors::{bad_data, core_ok, invalid, quote_ident, raise_core, raise_with_hint, required};
use crate::executor::source::{describe, find_column, resolve_source, Source};
use crate::pg::read_only::read_only;

const BATCH_ROWS: i64 = 10_000;

/// Every column of a source (numbers as float8, everything else as text), plus the label.
struct AuditTable {
    columns: Vec<(SourceColumn, ColumnData)>,
    labels: Option<Vec<Option<bool>>>,
}

fn label_value(text: &str, label: &SourceColumn) -> bool {
    match (label.class, text) {
        (ColumnClass::Boolean, t) => t == "true",
        (ColumnClass::Numeric { .. }, t) => match t.parse::<f64>() {
            Ok(1.0) => true,
            Ok(0.0) => false,
            _ => bad_data(format!("label column \"{}\" has the value {t}; a label must be boolean or 0/1", label.name)),
        },
        _ => unreachable!("label types are checked before reading"),
    }
}

fn check_label_column<'a>(columns: &'a [SourceColumn], label: Option<&str>, src: &Source) -> Option<&'a SourceColumn> {
    let c = find_column(columns, label?, "label", src);
    if !matches!(c.class, ColumnClass::Boolean | ColumnClass::Numeric { .. }) {
        invalid(format!("label column \"{}\" has type {}; audit needs a boolean or 0/1 label", c.name, c.type_name));
    }
    Some(c)
}

/// Reads the chosen columns through a cursor, a batch at a time.
fn read_table(src: &Source, columns: Vec<SourceColumn>, label: Option<&SourceColumn>) -> AuditTable {
    let mut exprs: Vec<String> = columns
        .iter()
        .map(|c| match c.class {
            ColumnClass::Numeric { .. } => format!("{}::float8", quote_ident(&c.name)),
            _ => format!("{}::text", quote_ident(&c.name)),
        })
        .collect();
    if let Some(l) = label {
        exprs.push(format!("{}::text", quote_ident(&l.name)));
    }
    let query = format!("SELECT {} FROM {}", exprs.join(", "), src.from_sql);
    enum B {
        Num(Vec<Option<f64>>),
        Text(CategoricalBuilder),
    }
    let mut builders: Vec<B> = columns
        .iter()
        .map(|c| if matches!(c.class, ColumnClass::Numeric { .. }) { B::Num(Vec::new()) } else { B::Text(Default::default()) })
        .collect();
    let mut labels: Vec<Option<bool>> = Vec::new();
    let n = columns.len();
    let fail = |e: pgrx::spi::Error| -> ! { invalid(format!("cannot read source {}: {e}", src.display)) };
    // The source runs read-only (crate::pg::read_only): while the cursor opens and at each fetch.
    let cursor = read_only(|| Spi::connect(|c| c.try_open_cursor(query.as_str(), &[]).map(|c| c.detach_into_name())))
        .unwrap_or_else(|e| fail(e));
    // The columns held stay within lead_scoring.max_memory, checked once per batch.
    let limit = crate::settings::max_memory();
    let mut rows_read = 0usize;
    loop {
        pgrx::check_for_interrupts!();
        let held: usize = builders
            .iter()
            .map(|b| match b {
                B::Num(v) => v.capacity() * std::mem::size_of::<Option<f64>>(),
                B::Text(b) => b.heap_bytes(),
            })
            .sum::<usize>()
            + labels.capacity();
        if let Err(e) =
            limit.check(Some(held as u64), || format!("the first {rows_read} rows of {} read into memory", src.display))
        {
            let hint = "audit fewer rows or columns (a query source with a WHERE clause or TABLESAMPLE)";
            raise_core(CoreError { message: format!("{}; {hint}", e.message), ..e });
        }
        rows_read += BATCH_ROWS as usize;
        let done = read_only(|| {
            Spi::connect(|client| {
                let mut cur = client.find_cursor(&cursor)?;
                let table = cur.fetch(BATCH_ROWS)?;
                let done = table.len() < BATCH_ROWS as usize;
                for row in table {
                    for (i, b) in builders.iter_mut().enumerate() {
                        match b {
                            B::Num(v) => {
                                let x: Option<f64> = row.get(i + 1)?;
                                if let Some(x) = x.filter(|x| !x.is_finite()) {
                                    bad_data(format!(
                                        "column \"{}\" has the value {x}; NaN and Infinity cannot be audited",
                                        columns[i].name
                                    ));
                                }
                                v.push(x)
                            }
                            B::Text(b) => b.push(row.get::<&str>(i + 1)?),
                        }
                    }
                    if let Some(l) = label {
                        labels.push(row.get::<&str>(n + 1)?.map(|t| label_value(t, l)));
                    }
                }
                if !done {
                    cur.detach_into_name();
                }
                Ok::<_, pgrx::spi::Error>(done)
            })
        })
        .unwrap_or_else(|e| fail(e));
        if done {
            break;
        }
    }
    let data = builders.into_iter().map(|b| match b {
        B::Num(v) => ColumnData::Numeric(v),
        B::Text(b) => b.finish(),
    });
    AuditTable { columns: columns.into_iter().zip(data).collect(), labels: label.map(|_| labels) }
}

type AuditRow = (
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    bool,
    Option<JsonB>,
    Option<f64>,
    Option<bool>,
    Option<String>,
);

/// A data-quality scorecard of every column of `source` (a table, view or SELECT query). With a
/// boolean or 0/1 `label`: conversion rate per level, univariate ROC AUC and leakage suspects.
#[pg_extern(volatile, parallel_unsafe)]
fn audit(
    source: Option<&str>,
    label: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(column_name, String),
        name!(data_type, String),
        name!(rows, i64),
        name!(nulls, i64),
        name!(placeholders, i64),
        name!(distinct_values, i64),
        name!(duplicate_rows, i64),
        name!(outliers, Option<i64>),
        name!(min, Option<f64>),
        name!(max, Option<f64>),
        name!(mean, Option<f64>),
        name!(id_like, bool),
        name!(conversion_by_level, Option<JsonB>),
        name!(univariate_auc, Option<f64>),
        name!(leakage_suspect, Option<bool>),
        name!(reason, Option<String>),
    ),
> {
    let src = resolve_source(required(source, "source"));
    let columns = describe(&src);
    let label_col = check_label_column(&columns, label, &src).cloned();
    let duplicates = read_only(|| {
        Spi::get_one::<i64>(&format!("SELECT count(*) - count(DISTINCT md5(t::text)) FROM (SELECT * FROM {}) t", src.from_sql))
    })
    .unwrap_or_else(|e| invalid(format!("cannot read source {}: {e}", src.display)))
    .unwrap_or(0);
    let table = read_table(&src, columns, label_col.as_ref());
    let opts = PreprocessOptions::default();
    let rows: Vec<AuditRow> = table
        .columns
        .iter()
        .map(|(c, data)| {
            // A column of many rows takes a while: a cancel stops between columns.
            pgrx::check_for_interrupts!();
            let is_label = label_col.as_ref().is_some_and(|l| l.name == c.name);
            let labels = if is_label { None } else { table.labels.as_deref() };
            let mut a = audit_column(data, labels, &opts);
            if c.class == ColumnClass::Uuid && a.rows >= crate::core::audit::MIN_ROWS && a.nulls == 0 {
                a.id_like = true;
            }
            if is_label {
                a.reason = Some("the label".to_string());
            }
            audit_row(c, a, duplicates)
        })
        .collect();
    TableIterator::new(rows)
}

fn audit_row(c: &SourceColumn, a: ColumnAudit, duplicates: i64) -> AuditRow {
    (
        c.name.clone(),
        c.type_name.clone(),
        a.rows as i64,
        a.nulls as i64,
        a.placeholders as i64,
        a.distinct as i64,
        duplicates,
        a.outliers.map(|x| x as i64),
        a.min,
        a.max,
        a.mean,
        a.id_like,
        a.conversion_by_level.map(JsonB),
        a.univariate_auc,
        a.leakage_suspect,
        a.reason,
    )
}

/// Correlations between the numeric columns of `source` (the label left out) and each one's
/// variance inflation factor, so redundant features are visible. NULLs count as the median.
#[pg_extern(volatile, parallel_unsafe)]
fn feature_report(
    source: Option<&str>,
    label: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(feature, String),
        name!(vif, Option<f64>),
        name!(most_correlated_with, Option<String>),
        name!(correlation, Option<f64>),
        name!(correlations, JsonB),
    ),
> {
    let src = resolve_source(required(source, "source"));
    let columns = describe(&src);
    let label_name = label.map(|l| find_column(&columns, l, "label", &src).name.clone());
    let numeric: Vec<SourceColumn> = columns
        .into_iter()
        .filter(|c| matches!(c.class, ColumnClass::Numeric { .. }) && Some(&c.name) != label_name.as_ref())
        .collect();
    if numeric.is_empty() {
        invalid(format!("source {} has no numeric columns besides the label", src.display));
    }
    let table = read_table(&src, numeric, None);
    let values: Vec<Vec<Option<f64>>> = table
        .columns
        .iter()
        .map(|(_, d)| match d {
            ColumnData::Numeric(v) => v.clone(),
            ColumnData::Categorical { .. } => unreachable!("only numeric columns are read"),
        })
        .collect();
    let report = core_ok(core_feature_report(&values, &crate::pg::interrupts::PendingCancel));
    let names: Vec<&str> = table.columns.iter().map(|(c, _)| c.name.as_str()).collect();
    let rows: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut all = Map::new();
            let mut best: Option<(usize, f64)> = None;
            for (j, other) in names.iter().enumerate().filter(|(j, _)| *j != i) {
                let r = report.correlations[i][j];
                all.insert(other.to_string(), json!(r));
                if let Some(r) = r {
                    if best.is_none_or(|(_, b)| r.abs() > b.abs()) {
                        best = Some((j, r));
                    }
                }
            }
            (
                name.to_string(),
                report.vif[i],
                best.map(|(j, _)| names[j].to_string()),
                best.map(|(_, r)| r),
                JsonB(Value::Object(all)),
            )
        })
        .collect();
    TableIterator::new(rows)
}

/// train()'s leakage guard, run on the rows it read: a WARNING naming the suspects
/// (`options.leakage` = "warn", the default), an ERROR ("error"), or nothing ("ignore").
pub fn check_leakage(data: &TrainingData, opts: &TrainOptions) {
    if opts.leakage == LeakagePolicy::Ignore {
        return;
    }
    let labels: Vec<Option<bool>> = data.labels.iter().map(|&l| Some(l)).collect();
    let reasons = core_ok(leakage_reasons(&data.columns, &labels, &opts.preprocess));
    let suspects: Vec<String> =
        data.columns.iter().zip(reasons).filter_map(|(c, reason)| Some(format!("\"{}\" ({})", c.name, reason?))).collect();
    if suspects.is_empty() {
        return;
    }
    let message = format!("possible target leakage in {}", suspects.join(", "));
    let hint =
        "exclude these columns with options.exclude if they are recorded after the outcome, or set options.leakage to \"ignore\"";
    match opts.leakage {
        LeakagePolicy::Error => raise_with_hint(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, message, hint),
        _ => warning!("{message}; {hint}"),
    }
}
