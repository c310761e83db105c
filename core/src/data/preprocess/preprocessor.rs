//! The whole fitted transform of a model, applied to rows: raw values in, model inputs out,
//! one row at a time for scoring or all training rows at once into a design matrix.

use serde::{Deserialize, Serialize};

use std::sync::Mutex;

use super::interactions::Interaction;
use super::level_index::LevelIndex;
use super::transform::{FeatureTransform, Scaling, MISSING_LEVEL};
use crate::core_err;
use crate::data::binning::bin_of;
use crate::data::dates::{day_of_week, days_before, parse_timestamp};
use crate::data::design_matrix::{DesignMatrix, SparseRows, Storage};
use crate::data::values::{Column, ColumnData, RawValue, NULL_CODE};
use crate::data::LevelTable;
use crate::resources::filled_vec;
use crate::resources::{map_tasks, worker_threads};
use crate::CoreResult;

/// A text feature's codes per row, the slot of each dictionary entry, and the slot of NULL.
type LevelSlots<'c> = (&'c [u32], Vec<usize>, usize);
/// Some rows and the part of the design matrix's values they fill.
type RowChunk<'a> = (&'a [usize], &'a mut [f64]);

/// Rows per task when the design matrix is built on worker threads.
pub(super) const TRANSFORM_CHUNK: usize = 16_384;

/// The whole fitted transform: one entry per source column, in the model's feature order, then
/// the interaction terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub features: Vec<FeatureTransform>,
    pub missing_values: Vec<String>,
    /// See [`PreprocessOptions::impute_numeric`].
    pub impute_numeric: bool,
    pub interactions: Vec<Interaction>,
    /// The slot of each text value by one probe, built on first use (never stored).
    #[serde(skip)]
    pub level_index: LevelIndex,
}

impl Preprocessor {
    /// Number of model inputs of the source columns alone (interaction terms follow them).
    pub fn feature_width(&self) -> usize {
        self.features.iter().map(FeatureTransform::width).sum()
    }

    /// The inputs that are text level codes ([`FeatureTransform::TextCodes`]), ascending.
    pub fn code_inputs(&self) -> Vec<usize> {
        let mut at = 0;
        let mut codes = Vec::new();
        for f in &self.features {
            if matches!(f, FeatureTransform::TextCodes { .. }) {
                codes.push(at);
            }
            at += f.width();
        }
        codes
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
    pub(crate) fn number(&self, name: &str, value: RawValue<'_>, date: bool) -> CoreResult<Option<f64>> {
        let x = match value {
            RawValue::Null => None,
            RawValue::Number(x) => Some(x),
            RawValue::Text(s) if self.is_placeholder(s) => None,
            RawValue::Text(s) if date => Some(parse_timestamp(s).ok_or_else(|| {
                core_err!(InvalidData, "feature \"{name}\" is a date but got the text '{s}'; use ISO 8601, such as 2025-03-01 or 2025-03-01T10:30:00Z")
            })?),
            RawValue::Text(s) => {
                Some(s.trim().parse::<f64>().map_err(|_| core_err!(InvalidData, "feature \"{name}\" is numeric but got the text '{s}'"))?)
            }
        };
        match x {
            Some(x) if !x.is_finite() => Err(core_err!(
                InvalidData,
                "feature \"{name}\" is {}; NaN and Infinity are not valid feature values",
                crate::error::sql_float(x)
            )),
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
        let tables = self.level_index.tables(&self.features, &self.missing_values);
        self.transform_into_with(raw, out, |i, levels, value| self.indexed_level_slot(tables[i].as_ref(), levels, value))
    }

    /// [`Self::scanned_level_slot`] by one probe of the feature's table (`table`, None for a
    /// feature that is not text). A number given for a text feature takes the scan: it is
    /// formatted first anyway, and the scan does not treat it as a placeholder.
    #[inline]
    fn indexed_level_slot(&self, table: Option<&LevelTable<usize>>, levels: &[String], value: RawValue<'_>) -> usize {
        match (table, value) {
            (Some(table), RawValue::Null) => table.get(MISSING_LEVEL.as_bytes()).unwrap_or(levels.len()),
            (Some(table), RawValue::Text(s)) => table.get(s.as_bytes()).unwrap_or(levels.len()),
            _ => self.scanned_level_slot(levels, value),
        }
    }

    /// The slot of `value` for text feature `feature` through the level index; see
    /// [`Self::scanned_level_slot`], which it equals.
    pub fn level_slot(&self, feature: usize, value: RawValue<'_>) -> usize {
        let table = self.level_index.tables(&self.features, &self.missing_values)[feature].as_ref();
        match &self.features[feature] {
            FeatureTransform::Categorical { levels, .. } | FeatureTransform::TextCodes { levels, .. } => {
                self.indexed_level_slot(table, levels, value)
            }
            _ => 0,
        }
    }

    /// The one-hot slot of a text feature's value: its level's position, or the last slot
    /// ("(other)") for a level not kept; NULL and placeholders are the "(missing)" level.
    /// A linear scan: used once per distinct value of a dictionary column and as the
    /// reference the level index is tested against.
    pub fn scanned_level_slot(&self, levels: &[String], value: RawValue<'_>) -> usize {
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
                FeatureTransform::TextCodes { levels, .. } => slots[0] = slot_of(i, levels, value) as f64,
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
    fn level_tables<'c>(&self, columns: &'c [Column]) -> Vec<Option<LevelSlots<'c>>> {
        self.features
            .iter()
            .zip(columns)
            .map(|(feature, column)| match (feature, &column.data) {
                (
                    FeatureTransform::Categorical { levels, .. } | FeatureTransform::TextCodes { levels, .. },
                    ColumnData::Categorical { dictionary, codes },
                ) => Some((
                    codes.as_slice(),
                    dictionary.iter().map(|d| self.scanned_level_slot(levels, RawValue::Text(d))).collect(),
                    self.scanned_level_slot(levels, RawValue::Null),
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
        tables: &[Option<LevelSlots<'_>>],
        row: usize,
        raw: &mut Vec<RawValue<'c>>,
        out: &mut [f64],
    ) -> CoreResult<()> {
        crate::data::values::row_values(columns, row, raw);
        let index = self.level_index.tables(&self.features, &self.missing_values);
        self.transform_into_with(raw, out, |i, levels, value| match &tables[i] {
            Some((codes, by_code, null_slot)) => match codes[row] {
                NULL_CODE => *null_slot,
                code => by_code[code as usize],
            },
            None => self.indexed_level_slot(index[i].as_ref(), levels, value),
        })
    }

    /// [`Self::transform_rows`] into a dense row-major matrix.
    pub fn transform_rows_dense(&self, columns: &[Column], rows: &[usize]) -> CoreResult<ndarray::Array2<f64>> {
        let width = self.width();
        let cells =
            rows.len().checked_mul(width).ok_or_else(|| core_err!(MemoryLimit, "the design matrix is too large to count"))?;
        let mut values = filled_vec(cells, 0.0, "the design matrix")?;
        if width > 0 && !rows.is_empty() {
            let tables = self.level_tables(columns);
            // Chunks of rows filled on worker threads (pure computation; each owns its rows of x).
            let chunks: Vec<Mutex<Option<RowChunk<'_>>>> = rows
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
            .map_err(|e| core_err!(Internal, "building the model inputs: {e}"))?;
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
        .map_err(|e| core_err!(Internal, "building the model inputs: {e}"))?;
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
