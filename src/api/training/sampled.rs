//! train() with the aggregate engine: the backend reads a bounded sample of the rows
//! (`options.sample_rows`), and whatever must hold for all rows is an aggregate over the source
//! (`executor::full_data`): rows per part and the label check, the fingerprint, the
//! preprocessing of the training part, the Newton passes and every part's metrics. Calibration,
//! the threshold, tiers, importance, the leakage audit, id-like columns and the drift reference
//! come from the sample, and the training summary says so.

use pgrx::prelude::*;
use serde_json::json;

use crate::core::data::{Part, RowSetHash, SourceColumn};
use crate::core::training::{check_label_counts, uses_aggregate_engine, PartCount, SampleReport, TrainOptions, TrainedModel};
use crate::errors::{core_ok, quote_ident};
use crate::executor::full_data::{part_index, LabeledRows, PartTotals};
use crate::executor::outcome_filter::converted_sql;
use crate::executor::source::Source;

/// What the sample leaves to the backend's rows.
const FROM_SAMPLE: [&str; 7] =
    ["calibration", "threshold", "tiers", "importance", "reference", "leakage_audit", "id_like_columns"];

/// An aggregate-engine training: all labeled rows, their counts per part and the sample size.
pub struct Sampled<'a> {
    pub rows: LabeledRows<'a>,
    pub totals: PartTotals,
    pub sample_rows: usize,
}

/// The aggregate engine's plan when this train() uses it, decided before any row is read: it
/// was asked for, or `auto` applies and counts at least its threshold of labeled rows (the
/// count is an aggregate). None: the memory engine reads every row, as before; an aggregate
/// engine asked for where it cannot apply is refused after that read, as before.
pub fn aggregate_plan<'a>(
    src: &'a Source,
    label: &SourceColumn,
    opts: &TrainOptions,
    part_column: &'a str,
) -> Option<Sampled<'a>> {
    let applies = |rows: usize| uses_aggregate_engine(rows, opts).unwrap_or(false);
    let asked = applies(0);
    if !asked && !applies(usize::MAX) {
        return None;
    }
    let rows = LabeledRows {
        source: src,
        label: quote_ident(&label.name),
        converted: converted_sql(label, opts.positive_label.as_deref(), opts.outcomes.as_ref()),
        part_column,
    };
    // A value of the split column that is no part: refused here when the aggregate engine was
    // asked for, else by the memory engine's read, as before.
    let totals = match rows.part_totals() {
        Ok(totals) => totals,
        Err(value) if asked => rows.refuse_part(value),
        Err(_) => return None,
    };
    if !asked && !applies(totals.rows()) {
        return None;
    }
    Some(Sampled { rows, totals, sample_rows: opts.sample_rows })
}

impl Sampled<'_> {
    /// The label checks of the memory engine, on the counts of all labeled rows.
    pub fn check_labels(&self, label: &str, source: &str) {
        if self.totals.null_labels > 0 {
            notice!("skipped {} rows whose label \"{label}\" is NULL", self.totals.null_labels);
        }
        core_ok(check_label_counts(self.totals.rows(), self.totals.positives(), label, source));
    }

    /// The source of the sample: by the lead key when there is one, else by the row's features,
    /// label and split column.
    pub fn sample_source(&self, lead_key: Option<&SourceColumn>, row_columns: &[&str]) -> Source {
        let key_sql = match lead_key {
            Some(k) => format!("({})::text", quote_ident(&k.name)),
            None => {
                let row: Vec<String> = row_columns.iter().map(|c| quote_ident(c)).collect();
                format!("(ROW({}))::text", row.join(", "))
            }
        };
        self.rows.sample(&key_sql, self.totals.rows(), self.sample_rows)
    }

    /// The rows as a set, for the content fingerprint (an aggregate of one hash per row).
    pub fn row_set_hash(&self, columns: &[&str]) -> RowSetHash {
        self.rows.fingerprint_rows(columns)
    }

    /// Replaces what the core measured on the sample with the same over all rows: rows per
    /// part, and every part's metrics at the chosen threshold (a logistic model's probability
    /// in SQL, measured by the metric aggregates). `auto`'s boosted trees have no SQL form:
    /// their metrics stay the sample's, and the summary lists them as such.
    pub fn measure_all_rows(&self, trained: &mut TrainedModel, rows_sampled: usize) {
        let totals = &self.totals;
        trained.summary.rows = totals.rows();
        for part in Part::ALL {
            let (rows, positives) = totals.parts[part_index(part)];
            trained.summary.parts.insert(part.as_str(), PartCount { rows, positives });
        }
        let mut from_sample: Vec<&'static str> = FROM_SAMPLE.to_vec();
        if trained.model.estimator.algorithm() == "logistic" {
            let measured = self.rows.part_metrics(&trained.model, trained.threshold);
            for part in Part::ALL {
                let (metrics, ece) = &measured[part_index(part)];
                let mut m = serde_json::to_value(metrics).expect("metrics serialize");
                m["ece"] = json!(ece);
                trained.metrics[part.as_str()] = m;
            }
        } else {
            from_sample.push("metrics");
        }
        trained.summary.sample =
            Some(SampleReport { rows_sampled, rows_total: totals.rows(), sample_rows: self.sample_rows, from_sample });
    }
}
