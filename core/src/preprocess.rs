//! Preprocessing fitted on the training part only and stored inside the model, so scoring runs
//! exactly the same transform as training (no training/serving skew):
//! - numbers: optionally log-scaled (`options.log`), placeholder/NULL to the training median,
//!   plus a 0/1 "missing" indicator when the training part had missing values, then standard
//!   scaling; or cut into quantile bins seen one-hot (`options.bins`);
//! - text and booleans: one-hot over the levels seen at least `min_level_count` times in
//!   training; rarer levels and levels never seen in training share one "(other)" column;
//!   NULL and placeholder values ('' and 'Select' by default) are the level "(missing)";
//! - dates: days before the model's as-of time (imputed and scaled like a number) and the day
//!   of week one-hot;
//! - interaction terms (`options.interactions`): products of two columns' inputs.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::binning::{bin_labels, bin_of, quantile_edges};
use super::dates::{day_of_week, days_before, format_timestamp, parse_timestamp, DAY_NAMES};
use super::design_matrix::{DesignMatrix, SparseRows, Storage};
use super::interactions::{fit_interactions, Interaction};
use super::memory::filled_vec;
use super::threads::{map_tasks, worker_threads};
use super::values::{Column, ColumnData, FeatureKind, RawValue, NULL_CODE};
use std::sync::Mutex;
use super::CoreResult;
use crate::core_err;

/// Rows per task when the design matrix is built on worker threads.
const TRANSFORM_CHUNK: usize = 16_384;

/// Levels kept per text column unless `options.max_levels` says otherwise.
pub const DEFAULT_MAX_LEVELS: usize = 1000;

pub const MISSING_LEVEL: &str = "(missing)";
pub const OTHER_LEVEL: &str = "(other)";

/// Settings that shape the fitted transform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessOptions {
    /// Strings that mean "no value" (form defaults such as 'Select').
    pub missing_values: Vec<String>,
    /// Levels seen fewer times than this in training are pooled into "(other)".
    pub min_level_count: usize,
    /// At most this many levels per text column are kept (the most frequent); the rest are
    /// pooled into "(other)" too, so a column with 20,000 company names stays trainable.
    pub max_levels: usize,
    /// Impute missing numbers with the median plus an indicator (linear models); when false a
    /// missing number stays NaN for a booster that routes missing values itself.
    pub impute_numeric: bool,
    /// Numeric columns put through sign(x)·ln(1 + |x|) first: skewed counts and amounts.
    pub log_columns: Vec<String>,
    /// Numeric columns cut into (up to) this many quantile bins instead of a linear term.
    pub bins: Vec<(String, usize)>,
    /// Pairs of columns whose interaction terms the model also gets.
    pub interactions: Vec<(String, String)>,
    /// Reference time of date features, in seconds since 1970-01-01 UTC.
    pub as_of: Option<f64>,
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        PreprocessOptions {
            missing_values: vec![String::new(), "Select".to_string()],
            min_level_count: 10,
            max_levels: DEFAULT_MAX_LEVELS,
            impute_numeric: true,
            log_columns: Vec::new(),
            bins: Vec::new(),
            interactions: Vec::new(),
            as_of: None,
        }
    }
}

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
    Numeric { name: String, log: bool, scaling: Scaling },
    Categorical {
        name: String,
        kind: FeatureKind,
        /// Kept levels, one output column each, then one "(other)" column.
        levels: Vec<String>,
    },
    /// Quantile bins (one input each) then a "(missing)" input.
    Binned { name: String, edges: Vec<f64> },
    /// Days before `as_of` (scaled, with its indicator), then seven day-of-week inputs.
    Date { name: String, as_of: f64, scaling: Scaling },
}

impl FeatureTransform {
    pub fn name(&self) -> &str {
        match self {
            FeatureTransform::Numeric { name, .. }
            | FeatureTransform::Categorical { name, .. }
            | FeatureTransform::Binned { name, .. }
            | FeatureTransform::Date { name, .. } => name,
        }
    }

    pub fn kind(&self) -> FeatureKind {
        match self {
            FeatureTransform::Numeric { .. } | FeatureTransform::Binned { .. } => FeatureKind::Numeric,
            FeatureTransform::Categorical { kind, .. } => *kind,
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
        }
    }

    /// Most of this column's inputs that can be nonzero in one row.
    pub fn max_nonzeros(&self) -> usize {
        match self {
            FeatureTransform::Numeric { scaling, .. } => 1 + scaling.indicator as usize,
            FeatureTransform::Categorical { .. } | FeatureTransform::Binned { .. } => 1,
            FeatureTransform::Date { scaling, .. } => 2 + scaling.indicator as usize,
        }
    }

    /// Names of the model inputs, for coefficients and explanations.
    pub fn output_names(&self) -> Vec<String> {
        let mut names = match self {
            FeatureTransform::Numeric { name, log: false, .. } => vec![name.clone()],
            FeatureTransform::Numeric { name, log: true, .. } => vec![format!("log {name}")],
            FeatureTransform::Date { name, .. } => vec![format!("{name} days before as-of")],
            FeatureTransform::Categorical { name, levels, .. } => {
                return levels.iter().chain([&OTHER_LEVEL.to_string()]).map(|l| format!("{name} = {l}")).collect()
            }
            FeatureTransform::Binned { name, edges } => {
                return bin_labels(edges)
                    .iter()
                    .chain([&MISSING_LEVEL.to_string()])
                    .map(|l| format!("{name} {l}"))
                    .collect()
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
            FeatureTransform::Numeric { .. } | FeatureTransform::Date { .. } => (0, 1),
            _ => (0, self.width()),
        }
    }

    /// The fitted transform as the models catalog shows it.
    pub fn describe(&self) -> Value {
        let scaling_json = |s: &Scaling| {
            json!({"median": s.median, "mean": s.mean, "scale": s.scale, "missing_indicator": s.indicator})
        };
        match self {
            FeatureTransform::Numeric { name, log, scaling } => {
                let mut v = json!({"name": name, "kind": "numeric", "log": log});
                merge(&mut v, scaling_json(scaling));
                v
            }
            FeatureTransform::Categorical { name, kind, levels } => {
                json!({"name": name, "kind": kind.as_str(), "levels": levels, "other_level": true})
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

/// The whole fitted transform: one entry per source column, in the model's feature order, then
/// the interaction terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub features: Vec<FeatureTransform>,
    pub missing_values: Vec<String>,
    /// See [`PreprocessOptions::impute_numeric`].
    pub impute_numeric: bool,
    pub interactions: Vec<Interaction>,
}

impl Preprocessor {
    /// Number of model inputs of the source columns alone (interaction terms follow them).
    pub fn feature_width(&self) -> usize {
        self.features.iter().map(FeatureTransform::width).sum()
    }

    /// Total number of model inputs.
    pub fn width(&self) -> usize {
        self.feature_width() + self.interactions.iter().map(Interaction::width).sum::<usize>()
    }

    pub fn output_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.features.iter().flat_map(|f| f.output_names()).collect();
        for i in &self.interactions {
            names.extend(i.output_names(&self.features));
        }
        names
    }

    fn is_placeholder(&self, s: &str) -> bool {
        self.missing_values.iter().any(|m| m == s)
    }

    /// A number out of a raw value: NULL and placeholders are None; NaN and text are errors.
    fn number(&self, name: &str, value: RawValue<'_>, date: bool) -> CoreResult<Option<f64>> {
        let x = match value {
            RawValue::Null => None,
            RawValue::Number(x) => Some(x),
            RawValue::Text(s) if self.is_placeholder(s) => None,
            RawValue::Text(s) if date => Some(parse_timestamp(s).ok_or_else(|| {
                core_err!("feature \"{name}\" is a date but got the text '{s}'; use ISO 8601, such as 2025-03-01 or 2025-03-01T10:30:00Z")
            })?),
            RawValue::Text(s) => {
                Some(s.trim().parse::<f64>().map_err(|_| core_err!("feature \"{name}\" is numeric but got the text '{s}'"))?)
            }
        };
        match x {
            Some(x) if !x.is_finite() => {
                Err(core_err!("feature \"{name}\" is {x}; NaN and Infinity are not valid feature values"))
            }
            _ => Ok(x),
        }
    }

    fn scaled(&self, x: Option<f64>, s: &Scaling, out: &mut [f64]) {
        out[0] = match x {
            Some(x) => (x - s.mean) / s.scale,
            None if self.impute_numeric => (s.median - s.mean) / s.scale,
            None => f64::NAN,
        };
        if s.indicator {
            out[1] = x.is_none() as u8 as f64;
        }
    }

    /// Writes the model inputs for one lead into `out` (length [`Self::width`]).
    /// `raw` holds one value per feature, in feature order.
    pub fn transform_into(&self, raw: &[RawValue<'_>], out: &mut [f64]) -> CoreResult<()> {
        self.transform_into_with(raw, out, |_, levels, value| self.level_slot(levels, value))
    }

    /// The one-hot slot of a text feature's value: its level's position, or the last slot
    /// ("(other)") for a level not kept; NULL and placeholders are the "(missing)" level.
    fn level_slot(&self, levels: &[String], value: RawValue<'_>) -> usize {
        let number_text;
        let level = match value {
            RawValue::Null => MISSING_LEVEL,
            RawValue::Text(s) if self.is_placeholder(s) => MISSING_LEVEL,
            RawValue::Text(s) => s,
            RawValue::Number(x) => {
                number_text = format_number(x);
                &number_text
            }
        };
        levels.iter().position(|l| l == level).unwrap_or(levels.len())
    }

    /// [`Self::transform_into`] with the slot of each text feature's value given by
    /// `slot_of(feature index, levels, value)`.
    #[inline]
    fn transform_into_with(
        &self,
        raw: &[RawValue<'_>],
        out: &mut [f64],
        slot_of: impl Fn(usize, &[String], RawValue<'_>) -> usize,
    ) -> CoreResult<()> {
        debug_assert_eq!(raw.len(), self.features.len());
        debug_assert_eq!(out.len(), self.width());
        let mut at = 0;
        for (i, (feature, &value)) in self.features.iter().zip(raw).enumerate() {
            let slots = &mut out[at..at + feature.width()];
            match feature {
                FeatureTransform::Numeric { name, log, scaling } => {
                    let x = self.number(name, value, false)?.map(|x| if *log { signed_log1p(x) } else { x });
                    self.scaled(x, scaling, slots);
                }
                FeatureTransform::Binned { name, edges } => {
                    slots.fill(0.0);
                    match self.number(name, value, false)? {
                        Some(x) => slots[bin_of(x, edges)] = 1.0,
                        None => slots[edges.len() + 1] = 1.0,
                    }
                }
                FeatureTransform::Date { name, as_of, scaling } => {
                    let t = self.number(name, value, true)?;
                    self.scaled(t.map(|t| days_before(t, *as_of)), scaling, slots);
                    let days = &mut slots[1 + scaling.indicator as usize..];
                    days.fill(0.0);
                    if let Some(t) = t {
                        days[day_of_week(t)] = 1.0;
                    }
                }
                FeatureTransform::Categorical { levels, .. } => {
                    slots.fill(0.0);
                    slots[slot_of(i, levels, value)] = 1.0;
                }
            }
            at += feature.width();
        }
        let (inputs, terms) = out.split_at_mut(at);
        let mut t = 0;
        for interaction in &self.interactions {
            let w = interaction.width();
            interaction.fill(inputs, &mut terms[t..t + w]);
            t += w;
        }
        Ok(())
    }

    /// Most inputs of one row that can be nonzero (a text column's one-hot inputs count once).
    pub fn max_nonzeros(&self) -> usize {
        let features: usize = self.features.iter().map(FeatureTransform::max_nonzeros).sum();
        features + self.interactions.iter().map(|i| i.max_nonzeros(&self.features)).sum::<usize>()
    }

    /// How the design matrix of `rows` rows is stored, and its size in bytes (None: too large to count).
    pub fn design_size(&self, rows: usize) -> (Storage, Option<u64>) {
        let (width, nonzeros) = (self.width(), self.max_nonzeros());
        let storage = Storage::for_inputs(width, nonzeros);
        (storage, storage.bytes(rows, width, nonzeros))
    }

    /// Transforms the given rows of a columnar table into their design matrix, sparse when the
    /// rows are mostly zeros ([`Storage::for_inputs`]). The caller checks [`Self::design_size`]
    /// against its memory limit first; the buffers are reserved fallibly.
    pub fn transform_rows(&self, columns: &[Column], rows: &[usize]) -> CoreResult<DesignMatrix> {
        match self.design_size(rows.len()).0 {
            Storage::Dense => self.transform_rows_dense(columns, rows).map(DesignMatrix::Dense),
            Storage::Sparse => self.transform_rows_sparse(columns, rows).map(DesignMatrix::Sparse),
        }
    }

    /// Per feature read from a dictionary-encoded column: its codes, the slot of each
    /// dictionary entry and the slot of NULL, so levels are matched once per distinct value.
    fn level_tables<'c>(&self, columns: &'c [Column]) -> Vec<Option<(&'c [u32], Vec<usize>, usize)>> {
        self.features
            .iter()
            .zip(columns)
            .map(|(feature, column)| match (feature, &column.data) {
                (FeatureTransform::Categorical { levels, .. }, ColumnData::Categorical { dictionary, codes }) => Some((
                    codes.as_slice(),
                    dictionary.iter().map(|d| self.level_slot(levels, RawValue::Text(d))).collect(),
                    self.level_slot(levels, RawValue::Null),
                )),
                _ => None,
            })
            .collect()
    }

    /// The inputs of table row `row` into `out`, text levels looked up through `tables`;
    /// `raw` is scratch space for the row's values.
    #[inline]
    fn transform_row<'c>(
        &self,
        columns: &'c [Column],
        tables: &[Option<(&[u32], Vec<usize>, usize)>],
        row: usize,
        raw: &mut Vec<RawValue<'c>>,
        out: &mut [f64],
    ) -> CoreResult<()> {
        super::values::row_values(columns, row, raw);
        self.transform_into_with(raw, out, |i, levels, value| match &tables[i] {
            Some((codes, by_code, null_slot)) => match codes[row] {
                NULL_CODE => *null_slot,
                code => by_code[code as usize],
            },
            None => self.level_slot(levels, value),
        })
    }

    /// [`Self::transform_rows`] into a dense row-major matrix.
    pub fn transform_rows_dense(&self, columns: &[Column], rows: &[usize]) -> CoreResult<ndarray::Array2<f64>> {
        let width = self.width();
        let cells = rows.len().checked_mul(width).ok_or_else(|| core_err!("the design matrix is too large to count"))?;
        let mut values = filled_vec(cells, 0.0, "the design matrix")?;
        if width > 0 && !rows.is_empty() {
            let tables = self.level_tables(columns);
            // Chunks of rows filled on worker threads (pure computation; each owns its rows of x).
            let chunks: Vec<Mutex<Option<(&[usize], &mut [f64])>>> = rows
                .chunks(TRANSFORM_CHUNK)
                .zip(values.chunks_mut(TRANSFORM_CHUNK * width))
                .map(|chunk| Mutex::new(Some(chunk)))
                .collect();
            let threads = if chunks.len() > 1 { worker_threads(4) } else { 1 };
            let filled = map_tasks(chunks.len(), threads, |c| -> CoreResult<()> {
                let (rows, out) = chunks[c].lock().expect("each chunk is taken once").take().expect("each chunk is taken once");
                let mut raw = Vec::with_capacity(columns.len());
                for (k, &row) in rows.iter().enumerate() {
                    self.transform_row(columns, &tables, row, &mut raw, &mut out[k * width..(k + 1) * width])?;
                }
                Ok(())
            })
            .map_err(|e| core_err!("building the model inputs: {e}"))?;
            filled.into_iter().collect::<CoreResult<Vec<()>>>()?;
        }
        Ok(ndarray::Array2::from_shape_vec((rows.len(), width), values).expect("rows x width values"))
    }

    /// [`Self::transform_rows`] into sparse rows: each chunk of rows on a worker thread, through
    /// one dense scratch row, then the chunks joined in order.
    fn transform_rows_sparse(&self, columns: &[Column], rows: &[usize]) -> CoreResult<SparseRows> {
        let (width, nonzeros) = (self.width(), self.max_nonzeros());
        let tables = self.level_tables(columns);
        let chunks: Vec<&[usize]> = rows.chunks(TRANSFORM_CHUNK).collect();
        let threads = if chunks.len() > 1 { worker_threads(4) } else { 1 };
        let parts = map_tasks(chunks.len(), threads, |c| -> CoreResult<SparseRows> {
            let mut part = SparseRows::with_capacity(width, chunks[c].len(), nonzeros)?;
            let mut scratch = filled_vec(width, 0.0, "a row of model inputs")?;
            let mut raw = Vec::with_capacity(columns.len());
            for &row in chunks[c] {
                self.transform_row(columns, &tables, row, &mut raw, &mut scratch)?;
                part.push_dense_row(&scratch)?;
            }
            Ok(part)
        })
        .map_err(|e| core_err!("building the model inputs: {e}"))?;
        let mut all = SparseRows::with_capacity(width, rows.len(), nonzeros)?;
        for part in parts {
            all.append(&part?)?;
        }
        Ok(all)
    }
}

/// Log scaling that keeps zero at zero and is defined for negative amounts (refunds, say).
pub fn signed_log1p(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

/// Numbers given for a text feature (for example in jsonb) match the level written the way
/// Postgres prints them: integers without a decimal point.
pub(crate) fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Checks that every column the preprocessing options name is a feature of the right kind.
fn check_named_columns(columns: &[Column], opts: &PreprocessOptions) -> CoreResult<()> {
    let find = |option: &str, name: &str| {
        columns.iter().find(|c| c.name == name).ok_or_else(|| {
            core_err!("option \"{option}\" names \"{name}\", which is not one of the model's features")
        })
    };
    for name in &opts.log_columns {
        if find("log", name)?.kind != FeatureKind::Numeric {
            return Err(core_err!("option \"log\" names \"{name}\", which is not numeric"));
        }
    }
    for (name, _) in &opts.bins {
        if find("bins", name)?.kind != FeatureKind::Numeric {
            return Err(core_err!("option \"bins\" names \"{name}\", which is not numeric"));
        }
        if opts.log_columns.contains(name) {
            return Err(core_err!("column \"{name}\" is in both \"log\" and \"bins\"; binning makes log scaling moot"));
        }
    }
    // Interaction pairs are checked where they are resolved, in fit_interactions.
    Ok(())
}

/// A text column whose levels were cut to `options.max_levels`: how many were frequent enough
/// to keep (seen at least `min_level_count` times) and how many were kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CappedLevels {
    pub feature: String,
    pub frequent_levels: usize,
    pub kept_levels: usize,
}

/// Fits the transform on the training rows of `columns`.
pub fn fit_preprocessor(columns: &[Column], train_rows: &[usize], opts: &PreprocessOptions) -> CoreResult<Preprocessor> {
    fit_preprocessor_reporting(columns, train_rows, opts).map(|(p, _)| p)
}

/// [`fit_preprocessor`], also saying which text columns had their levels capped.
pub fn fit_preprocessor_reporting(
    columns: &[Column],
    train_rows: &[usize],
    opts: &PreprocessOptions,
) -> CoreResult<(Preprocessor, Vec<CappedLevels>)> {
    let mut capped = Vec::new();
    if train_rows.is_empty() {
        return Err(core_err!("the training part is empty"));
    }
    check_named_columns(columns, opts)?;
    let mut features = Vec::with_capacity(columns.len());
    for column in columns {
        let name = column.name.as_str();
        features.push(match &column.data {
            ColumnData::Numeric(values) if column.kind == FeatureKind::Date => {
                let as_of = opts.as_of.ok_or_else(|| core_err!("date feature \"{name}\" needs an as-of time"))?;
                let days: Vec<Option<f64>> = train_rows.iter().map(|&r| values[r].map(|t| days_before(t, as_of))).collect();
                let scaling = fit_scaling(name, &days, opts.impute_numeric)?;
                FeatureTransform::Date { name: name.to_string(), as_of, scaling }
            }
            ColumnData::Numeric(values) => match opts.bins.iter().find(|(b, _)| b == name) {
                Some((_, bins)) => {
                    let mut present = present_values(name, train_rows.iter().map(|&r| values[r]))?;
                    super::float_sort::sort_floats(&mut present);
                    FeatureTransform::Binned { name: name.to_string(), edges: quantile_edges(&present, *bins) }
                }
                None => {
                    let log = opts.log_columns.iter().any(|l| l == name);
                    let train: Vec<Option<f64>> =
                        train_rows.iter().map(|&r| values[r].map(|x| if log { signed_log1p(x) } else { x })).collect();
                    FeatureTransform::Numeric { name: name.to_string(), log, scaling: fit_scaling(name, &train, opts.impute_numeric)? }
                }
            },
            ColumnData::Categorical { dictionary, codes } => {
                let (transform, cap) = fit_categorical(column, dictionary, codes, train_rows, opts);
                capped.extend(cap);
                transform
            }
        });
    }
    let interactions = fit_interactions(&features, &opts.interactions)?;
    let preprocessor = Preprocessor { features, missing_values: opts.missing_values.clone(), impute_numeric: opts.impute_numeric, interactions };
    Ok((preprocessor, capped))
}

/// The non-missing training values of a column; an error for NaN or when every value is missing.
fn present_values(name: &str, values: impl Iterator<Item = Option<f64>>) -> CoreResult<Vec<f64>> {
    let mut present = Vec::new();
    for x in values.flatten() {
        if !x.is_finite() {
            return Err(core_err!("feature \"{name}\" contains {x}; NaN and Infinity are not valid feature values"));
        }
        present.push(x);
    }
    if present.is_empty() {
        return Err(core_err!("feature \"{name}\" is NULL in every training row; exclude it"));
    }
    Ok(present)
}

fn fit_scaling(name: &str, train: &[Option<f64>], impute: bool) -> CoreResult<Scaling> {
    let mut present = present_values(name, train.iter().copied())?;
    let missing = train.len() - present.len();
    super::float_sort::sort_floats(&mut present);
    let m = present.len();
    let median = if m % 2 == 1 { present[m / 2] } else { (present[m / 2 - 1] + present[m / 2]) / 2.0 };
    // Scaling statistics are taken after imputation, as a scikit-learn imputer-then-scaler pipeline does.
    let n = train.len() as f64;
    let sum: f64 = present.iter().sum::<f64>() + median * missing as f64;
    let mean = sum / n;
    let sq: f64 = present.iter().map(|x| (x - mean).powi(2)).sum::<f64>() + (median - mean).powi(2) * missing as f64;
    let std = (sq / n).sqrt();
    // A constant column keeps scale 1 (it then carries no signal, and no division by zero).
    let scale = if std > 1e-12 * mean.abs().max(1.0) { std } else { 1.0 };
    Ok(Scaling { median, mean, scale, indicator: impute && missing > 0 })
}

fn fit_categorical(
    column: &Column,
    dictionary: &[String],
    codes: &[u32],
    train_rows: &[usize],
    opts: &PreprocessOptions,
) -> (FeatureTransform, Option<CappedLevels>) {
    let mut counts = vec![0usize; dictionary.len()];
    let mut missing = 0usize;
    for &r in train_rows {
        match codes[r] {
            NULL_CODE => missing += 1,
            c if opts.missing_values.iter().any(|m| *m == dictionary[c as usize]) => missing += 1,
            c => counts[c as usize] += 1,
        }
    }
    let mut kept: Vec<(usize, &str)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &k)| k >= opts.min_level_count.max(1))
        .map(|(c, &k)| (k, dictionary[c].as_str()))
        .collect();
    if missing >= opts.min_level_count.max(1) {
        kept.push((missing, MISSING_LEVEL));
    }
    // Most frequent first; ties by name so the order never depends on the row order.
    kept.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let frequent = kept.len();
    let cap = opts.max_levels.max(1);
    kept.truncate(cap);
    let transform = FeatureTransform::Categorical {
        name: column.name.clone(),
        kind: column.kind,
        levels: kept.into_iter().map(|(_, l)| l.to_string()).collect(),
    };
    let capped = (frequent > cap).then(|| CappedLevels { feature: column.name.clone(), frequent_levels: frequent, kept_levels: cap });
    (transform, capped)
}

#[cfg(test)]
#[path = "preprocess_tests.rs"]
mod tests;
