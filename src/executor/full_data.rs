//! What the aggregate engine of train() computes over every row of the source without reading
//! the rows into the backend: rows and converted rows per part, a fingerprint of the rows, the
//! preprocessing statistics of the training part and every part's metrics. Each is an SQL
//! aggregate (on Citus: partial aggregates on the workers, combined on the coordinator), except
//! the lower middle value of each number (`percentile_disc`, which Citus computes on the
//! coordinator from the column's values, spilling to disk beyond work_mem). The backend reads
//! only a bounded sample of the rows, chosen by a hash of each row's content.

use pgrx::prelude::*;

use crate::core::data::{Column, ColumnStatistics, FeatureKind, NumericMoments, Part, PreprocessOptions, RowSetHash};
use crate::core::evaluation::{part_metrics_of, Confusion, PartMetrics};
use crate::core::models::{ece_of_bins, uniform_bin_edges, LeadModel, ECE_BINS};
use crate::core::serving::{float, model_sql, numeric_value, quote_literal};
use crate::errors::{core_ok, invalid, quote_ident};
use crate::executor::source::Source;

/// Scores the SQL form of a model computes within this relative distance below the threshold
/// count as at it: the SQL sums the same terms as score() but may round differently in the
/// last bits, and the threshold is itself a score, often shared by every lead with the same
/// inputs. No two distinct scores of a model are this close in practice.
const AT_THRESHOLD: f64 = 1e-12;

/// The labeled rows of a source whose split is stored in a column.
pub struct LabeledRows<'a> {
    pub source: &'a Source,
    /// The label column, quoted.
    pub label: String,
    /// Whether a row converted, as a boolean SQL expression (as the Newton passes read it).
    pub converted: String,
    pub part_column: &'a str,
}

/// Rows and converted rows per part (train, validation, test), and the rows skipped for a NULL label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartTotals {
    pub parts: [(usize, usize); 3],
    pub null_labels: usize,
}

impl PartTotals {
    pub fn rows(&self) -> usize {
        self.parts.iter().map(|p| p.0).sum()
    }

    pub fn positives(&self) -> usize {
        self.parts.iter().map(|p| p.1).sum()
    }
}

/// The index of a part in [`PartTotals::parts`] and the metrics.
pub fn part_index(part: Part) -> usize {
    match part {
        Part::Train => 0,
        Part::Validation => 1,
        Part::Test => 2,
    }
}

fn run<R>(what: &str, f: impl FnOnce(&pgrx::spi::SpiClient<'_>) -> Result<R, pgrx::spi::Error>) -> R {
    // The source runs read-only, as every read of a source by train() (crate::pg::read_only),
    // and without JIT (see CatalogSettings::pin_only).
    let _settings = crate::pg::catalog_settings::CatalogSettings::pin_only(&[(c"jit", c"off")]);
    crate::pg::read_only::read_only(|| Spi::connect(|client| f(client)))
        .unwrap_or_else(|e| invalid(format!("the aggregate engine's {what} failed: {e}")))
}

fn count(x: Option<i64>) -> usize {
    x.unwrap_or(0).max(0) as usize
}

impl LabeledRows<'_> {
    /// A row's part: the split column's text, trimmed and lower-cased (as the passes select it).
    pub fn part_sql(&self) -> String {
        format!("lower(btrim(({})::text, E' \\t\\r\\n'))", quote_ident(self.part_column))
    }

    /// The labeled training rows: the FROM and WHERE of every statistic of the training part.
    fn training_rows(&self, select: &str) -> String {
        format!(
            "SELECT {select} FROM {} WHERE {} IS NOT NULL AND {} = 'train'",
            self.source.from_sql,
            self.label,
            self.part_sql()
        )
    }

    /// Rows and converted rows per part; Err with a value of the split column that is none of
    /// the three parts in a labeled row (the least such value, NULL first), for the caller to
    /// refuse as the memory engine does.
    pub fn part_totals(&self) -> Result<PartTotals, Option<String>> {
        let query = format!(
            "SELECT {part}, count(*) FILTER (WHERE {label} IS NOT NULL), count(*) FILTER (WHERE {label} IS NOT NULL AND {y}),
                    count(*) FILTER (WHERE {label} IS NULL)
               FROM {from} GROUP BY 1",
            part = self.part_sql(),
            label = self.label,
            y = self.converted,
            from = self.source.from_sql
        );
        let mut totals = PartTotals { parts: [(0, 0); 3], null_labels: 0 };
        let mut others: Vec<Option<String>> = Vec::new();
        run("count of rows per part", |client| {
            for row in client.select(&query, None, &[])? {
                let (part, rows, positives) = (row.get::<String>(1)?, count(row.get(2)?), count(row.get(3)?));
                totals.null_labels += count(row.get(4)?);
                match part_of(part.as_deref()) {
                    Some(index) => totals.parts[index] = (rows, positives),
                    None if rows > 0 => others.push(part),
                    None => {}
                }
            }
            Ok(())
        });
        match others.into_iter().min() {
            Some(other) => Err(other),
            None => Ok(totals),
        }
    }

    /// The ERROR of a split column value that is none of the parts.
    pub fn refuse_part(&self, value: Option<String>) -> ! {
        invalid(format!(
            "split column \"{}\" must hold 'train', 'validation' or 'test' in every row, found {}",
            self.part_column,
            value.as_deref().map_or("NULL".to_string(), quote_literal)
        ))
    }

    /// The labeled rows as a set: their count and the sum of a hash of each row's `columns`
    /// (the features, label and split column), in any order.
    pub fn fingerprint_rows(&self, columns: &[&str]) -> RowSetHash {
        let row: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        let query = format!(
            "SELECT count(*), (coalesce(sum(hashtextextended(ROW({})::text, 0)), 0) % 18446744073709551616)::text
               FROM {} WHERE {} IS NOT NULL",
            row.join(", "),
            self.source.from_sql,
            self.label
        );
        let (rows, sum) = run("fingerprint of the rows", |client| {
            let row = client.select(&query, None, &[])?.first().get_two::<i64, String>()?;
            Ok((row.0.unwrap_or(0), row.1.unwrap_or_default()))
        });
        let sum: i128 = sum.parse().unwrap_or_else(|_| invalid(format!("unexpected sum of row hashes \"{sum}\"")));
        RowSetHash::of_row_hash_sum(rows as u64, sum.rem_euclid(1 << 64) as u64)
    }

    /// At most `sample_rows` of the `total` labeled rows: those with the smallest hash of
    /// `key_sql` (the lead key's text, or the row's), so the same rows give the same sample
    /// whatever order the source returns them in. A WHERE on the hash keeps about 1.25 times
    /// the rows wanted before the sort, so each worker sorts and sends only those.
    pub fn sample(&self, key_sql: &str, total: usize, sample_rows: usize) -> Source {
        if total <= sample_rows {
            return Source {
                from_sql: self.source.from_sql.clone(),
                display: self.source.display.clone(),
                relation: self.source.relation.clone(),
            };
        }
        let hash = format!("(hashtextextended({key_sql}, 0) & 2147483647)");
        let cutoff = ((1.25 * sample_rows as f64 / total as f64 + 1e-3).min(1.0) * 2_147_483_648.0).ceil() as i64;
        Source {
            from_sql: format!(
                "(SELECT * FROM {} WHERE {} IS NOT NULL AND {hash} < {cutoff} ORDER BY {hash}, hashtextextended({key_sql}, 1) LIMIT {sample_rows}) AS lead_scoring_sample",
                self.source.from_sql, self.label
            ),
            display: self.source.display.clone(),
            relation: self.source.relation.clone(),
        }
    }

    /// The statistics the preprocessing of `columns` needs, over all training rows: for a number
    /// (log-scaled when the model says so) its count, sum, median and squared deviations from
    /// the imputed mean; for a text column its rows per level.
    pub fn training_statistics(&self, columns: &[Column], opts: &PreprocessOptions) -> Vec<ColumnStatistics> {
        let numbers: Vec<(usize, String)> = columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c.kind {
                FeatureKind::Numeric => {
                    let log = opts.log_columns.contains(&c.name);
                    Some((i, numeric_value(&quote_ident(&c.name), log)))
                }
                FeatureKind::Date => invalid(format!(
                    "options.engine 'aggregate' does not support date features yet (feature \"{}\"); exclude it or use engine 'memory'",
                    c.name
                )),
                _ => None,
            })
            .collect();
        let moments = self.numeric_moments(&numbers);
        let mut squared = self.squared_deviations(&numbers, &moments).into_iter();
        let mut moments = moments.into_iter();
        columns
            .iter()
            .map(|c| match c.kind {
                FeatureKind::Numeric => ColumnStatistics::Numeric {
                    moments: moments.next().expect("one per number"),
                    squared_deviations: squared.next().expect("one per number"),
                },
                _ => self.level_counts(&c.name, &opts.missing_values),
            })
            .collect()
    }

    /// The training rows' view of the numbers: `c0, c1, ...` (as the passes compute them).
    fn numbers_subquery(&self, numbers: &[(usize, String)]) -> String {
        let values: Vec<String> = numbers.iter().enumerate().map(|(k, (_, v))| format!("{v} AS c{k}")).collect();
        format!("({}) AS lead_scoring_train", self.training_rows(&values.join(", ")))
    }

    fn float_array(&self, what: &str, items: &[String], numbers: &[(usize, String)]) -> Vec<Option<f64>> {
        let query = format!("SELECT ARRAY[{}]::float8[] FROM {}", items.join(", "), self.numbers_subquery(numbers));
        let values =
            run(what, |client| client.select(&query, None, &[])?.first().get_one::<Vec<Option<f64>>>()).unwrap_or_default();
        if values.len() != items.len() {
            invalid(format!("the aggregate engine's {what} returned {} values for {}", values.len(), items.len()));
        }
        values
    }

    /// Count, present values, sum and exact median of every number over the training rows.
    fn numeric_moments(&self, numbers: &[(usize, String)]) -> Vec<NumericMoments> {
        if numbers.is_empty() {
            return Vec::new();
        }
        let k = 0..numbers.len();
        let mut first = vec!["count(*)::float8".to_string()];
        first.extend(k.clone().flat_map(|k| [format!("count(c{k})::float8"), format!("sum(c{k})")]));
        let first = self.float_array("sums of the numbers", &first, numbers);
        let rows = first[0].unwrap_or(0.0) as usize;
        let present: Vec<usize> = k.clone().map(|k| first[1 + 2 * k].unwrap_or(0.0) as usize).collect();
        let sums: Vec<f64> = k.clone().map(|k| first[2 + 2 * k].unwrap_or(0.0)).collect();
        // The lower middle value (percentile_disc is the value at position ceil(m/2)), one
        // number per query: each sorts its column's training values within work_mem, and
        // several in one query would each take that much at once.
        let lower: Vec<Option<f64>> = numbers
            .iter()
            .map(|n| {
                let median = ["percentile_disc(0.5) WITHIN GROUP (ORDER BY c0)".to_string()];
                self.float_array("medians of the numbers", &median, std::slice::from_ref(n))[0]
            })
            .collect();
        // The upper middle value of an even count: the lower one again when it repeats.
        let upper: Vec<String> = k
            .clone()
            .flat_map(|k| {
                // A NaN value makes the sum NaN, which the core refuses with the column's name.
                let a = float(lower[k].filter(|x| x.is_finite()).unwrap_or(0.0));
                [format!("count(*) FILTER (WHERE c{k} <= {a})::float8"), format!("min(c{k}) FILTER (WHERE c{k} > {a})")]
            })
            .collect();
        let upper = self.float_array("medians of the numbers", &upper, numbers);
        k.map(|k| {
            let m = present[k];
            let a = lower[k].unwrap_or(f64::NAN);
            let at_or_below = upper[2 * k].unwrap_or(0.0) as usize;
            let b = if at_or_below > m / 2 { a } else { upper[2 * k + 1].unwrap_or(a) };
            let median = if m % 2 == 1 { a } else { (a + b) / 2.0 };
            NumericMoments { rows, present: m, median, sum: sums[k] }
        })
        .collect()
    }

    /// The sum of (x - mean)^2 over each number's present training values.
    fn squared_deviations(&self, numbers: &[(usize, String)], moments: &[NumericMoments]) -> Vec<f64> {
        if numbers.is_empty() {
            return Vec::new();
        }
        let items: Vec<String> = moments
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let mean = m.mean();
                let mean = if mean.is_finite() { float(mean) } else { "'NaN'::float8".into() };
                format!("coalesce(sum((c{k} - {mean}) * (c{k} - {mean})), 0)")
            })
            .collect();
        self.float_array("squared deviations of the numbers", &items, numbers).into_iter().map(|x| x.unwrap_or(0.0)).collect()
    }

    /// Training rows per level of a text column; NULL and the placeholders are missing.
    fn level_counts(&self, column: &str, placeholders: &[String]) -> ColumnStatistics {
        let col = quote_ident(column);
        let placeholder = if placeholders.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = placeholders.iter().map(|p| quote_literal(p)).collect();
            format!(" OR ({col})::text IN ({})", list.join(", "))
        };
        let level = format!("CASE WHEN {col} IS NULL{placeholder} THEN NULL ELSE ({col})::text END");
        let query = format!("{} GROUP BY 1", self.training_rows(&format!("{level}, count(*)")));
        let (mut counts, mut missing) = (Vec::new(), 0);
        run("count of levels", |client| {
            for row in client.select(&query, None, &[])? {
                match (row.get::<String>(1)?, count(row.get(2)?)) {
                    (Some(level), n) => counts.push((level, n)),
                    (None, n) => missing += n,
                }
            }
            Ok(())
        });
        ColumnStatistics::Text { counts, missing }
    }

    /// Every part's metrics over all its rows, at `threshold`, with its expected calibration
    /// error: the model's probability as SQL (`model_sql`), measured by the metric aggregates.
    /// The planner copies the probability's expression into every place the subquery's column
    /// is used (and evaluates each copy), so each query names it as few times as it can: five
    /// aggregates per part, then a bin and a sum per (part, bin) for the calibration error.
    pub fn part_metrics(&self, model: &LeadModel, threshold: f64) -> [(PartMetrics, f64); 3] {
        let scored = format!(
            "(SELECT {p} AS p, {y} AS y, {part} AS part FROM {from} WHERE {label} IS NOT NULL) AS lead_scoring_scored",
            p = core_ok(model_sql(model)),
            y = self.converted,
            part = self.part_sql(),
            from = self.source.from_sql,
            label = self.label
        );
        let t = float(threshold - threshold.abs() * AT_THRESHOLD);
        let query = format!(
            "SELECT part, lead_scoring.roc_auc(p, y), lead_scoring.pr_auc(p, y), lead_scoring.log_loss(p, y),
                    lead_scoring.brier(p, y), lead_scoring.confusion(p, y, {t})
               FROM {scored} GROUP BY part"
        );
        let mut measured: [Option<Measured>; 3] = [None, None, None];
        run("metrics of the parts", |client| {
            for row in client.select(&query, None, &[])? {
                let Some(index) = part_of(row.get::<String>(1)?.as_deref()) else { continue };
                let ranking = (row.get::<f64>(2)?, row.get::<f64>(3)?);
                let losses = (row.get::<f64>(4)?.unwrap_or(f64::NAN), row.get::<f64>(5)?.unwrap_or(f64::NAN));
                let counts = row.get::<pgrx::JsonB>(6)?.map(|j| j.0).unwrap_or_default();
                let c = |key: &str| counts[key].as_u64().unwrap_or(0);
                measured[index] = Some((Confusion { tp: c("tp"), fp: c("fp"), tn: c("tn"), fn_: c("fn") }, ranking, losses));
            }
            Ok(())
        });
        // A score's calibration bin (as uniform_bin): the edges strictly below it, counted by
        // width_bucket over the negated edges (which counts those at or below its argument).
        let edges = uniform_bin_edges(ECE_BINS);
        let negated: Vec<String> = edges.iter().rev().map(|e| float(-e)).collect();
        let query = format!(
            "SELECT part, {} - width_bucket(-p, ARRAY[{}]::float8[]) AS bin, count(*), sum(p), count(*) FILTER (WHERE y)
               FROM {scored} GROUP BY 1, 2",
            edges.len(),
            negated.join(", ")
        );
        let mut bins = [vec![(0u64, 0.0f64, 0u64); ECE_BINS], vec![(0, 0.0, 0); ECE_BINS], vec![(0, 0.0, 0); ECE_BINS]];
        run("calibration bins of the parts", |client| {
            for row in client.select(&query, None, &[])? {
                let Some(index) = part_of(row.get::<String>(1)?.as_deref()) else { continue };
                let bin = row.get::<i32>(2)?.unwrap_or(0).clamp(0, ECE_BINS as i32 - 1) as usize;
                bins[index][bin] = (count(row.get(3)?) as u64, row.get::<f64>(4)?.unwrap_or(0.0), count(row.get(5)?) as u64);
            }
            Ok(())
        });
        let mut out = measured.map(|m| {
            let (cm, ranking, losses) = m.unwrap_or((Confusion { tp: 0, fp: 0, tn: 0, fn_: 0 }, (None, None), (0.0, 0.0)));
            (part_metrics_of(cm, threshold, ranking, losses), 0.0)
        });
        for (o, b) in out.iter_mut().zip(&bins) {
            o.1 = ece_of_bins(b);
        }
        out
    }
}

/// One part's confusion counts, (ROC AUC, PR AUC) and (log loss, Brier score).
type Measured = (Confusion, (Option<f64>, Option<f64>), (f64, f64));

/// The index of a part's name in [`PartTotals::parts`]; None for any other value.
fn part_of(name: Option<&str>) -> Option<usize> {
    match name {
        Some("train") => Some(0),
        Some("validation") => Some(1),
        Some("test") => Some(2),
        _ => None,
    }
}
