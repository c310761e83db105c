//! A boosted-trees model prepared for scoring many rows: each feature's raw value goes straight
//! to its bin among the leaf masks' (`models/leaf_masks.rs`), with no row of model inputs filled
//! in between. A text value takes one [`LevelTable`] probe to its bin (the preprocessing's
//! probe gave its level code, which the masks then looked up again); a number is scaled by the
//! preprocessing's own arithmetic and searched among the cuts. Every value lands in the bin its
//! model input would have, and the masks sum the bins as they sum a row, so the log-odds are
//! those of [`LeadModel::log_odds`] to the last bit (tested below for every kind of value).

use crate::data::{signed_log1p, Column, ColumnData, FeatureTransform, LevelTable, RawValue, Scaling, NULL_CODE};
use crate::models::{Estimator, GbmModel, LeadModel, LeafMasks};
use crate::CoreResult;

/// How one feature's value becomes its bin; `used` is its index among the masks' used inputs
/// (None when no split reads it).
enum FeatureBins {
    Number {
        name: String,
        log: bool,
        scaling: Scaling,
        used: Option<usize>,
    },
    /// The bin of each kept level and placeholder, of NULL, and of any other text ("(other)").
    Codes {
        bins: LevelTable<u32>,
        null: u32,
        other: u32,
        used: usize,
    },
    /// A text feature no split reads: it is never looked at.
    Unread,
}

/// A text feature's dictionary-encoded column with the bin of each of its codes and of NULL.
struct CodedColumn<'c> {
    codes: &'c [u32],
    bin_of_code: Vec<u32>,
    null: u32,
}

/// Rows of a table whose sums the leaf masks add together (see `LeafMasks::sums_of_bins`): 64
/// rows' bins take 5 kB at 19 inputs, beside a chunk of trees' masks in the nearest cache.
const BLOCK_ROWS: usize = 64;

/// The fast path of a boosted-trees model scored by leaf masks.
pub struct TreePlan {
    features: Vec<FeatureBins>,
    impute_numeric: bool,
}

impl TreePlan {
    /// The plan of `model`; None unless its trees are scored by leaf masks and every feature is
    /// one input, a number or a text column's level code (what gbm training makes).
    pub fn new(model: &LeadModel) -> Option<TreePlan> {
        let Estimator::Gbm(gbm) = &model.estimator else { return None };
        let masks = gbm.leaf_masks()?;
        let pre = &model.preprocessor;
        let one_input = |f: &FeatureTransform| match f {
            FeatureTransform::Numeric { scaling, .. } => !scaling.indicator,
            FeatureTransform::TextCodes { .. } => true,
            _ => false,
        };
        if model.segments.is_some() || !pre.interactions.is_empty() || !pre.features.iter().all(one_input) {
            return None;
        }
        // With one input per feature, feature i is model input i.
        let mut used = vec![None; pre.features.len()];
        for (k, input) in masks.used_inputs().enumerate() {
            *used.get_mut(input)? = Some(k);
        }
        let features = pre
            .features
            .iter()
            .enumerate()
            .map(|(i, feature)| match (feature, used[i]) {
                (FeatureTransform::Numeric { name, log, scaling }, used) => {
                    FeatureBins::Number { name: name.clone(), log: *log, scaling: scaling.clone(), used }
                }
                (FeatureTransform::TextCodes { levels, .. }, Some(k)) => {
                    // Each level and placeholder, in its bin of the code the preprocessing gives it.
                    let bin = |value: RawValue<'_>| masks.bin_start(k, pre.level_slot(i, value) as f64);
                    let keys = levels.iter().chain(&pre.missing_values);
                    let bins = LevelTable::new(keys.map(|key| (key.as_str(), bin(RawValue::Text(key)))));
                    let other = masks.bin_start(k, levels.len() as f64);
                    FeatureBins::Codes { bins, null: bin(RawValue::Null), other, used: k }
                }
                (_, _) => FeatureBins::Unread,
            })
            .collect();
        Some(TreePlan { features, impute_numeric: pre.impute_numeric })
    }

    /// Log-odds before calibration of a lead whose i-th raw feature value `value(i)` reads, as
    /// [`LeadModel::log_odds`] gives them; `model` is the model the plan was made from.
    #[inline]
    pub fn log_odds_of<'a>(&self, model: &LeadModel, value: impl Fn(usize) -> RawValue<'a>) -> CoreResult<f64> {
        let (gbm, masks) = Self::trees(model);
        masks.with_bin_slots(|at| {
            self.find_bins(model, masks, value, at)?;
            Ok(gbm.log_odds_of_bins(masks, at))
        })
    }

    /// The booster and leaf masks of `model`, the model the plan was made from.
    #[inline(always)]
    fn trees(model: &LeadModel) -> (&GbmModel, &LeafMasks) {
        let Estimator::Gbm(gbm) = &model.estimator else { unreachable!("a tree plan of a gbm model") };
        (gbm, gbm.leaf_masks().expect("a tree plan's model has leaf masks"))
    }

    /// Log-odds before calibration of rows `rows` of a columnar table whose column i feeds
    /// feature i (the training data), into `out`: the same bits as [`Self::log_odds_of`] of
    /// each row's values. A text column's dictionary entries are matched to their bins once per
    /// call, not once per row.
    pub fn log_odds_of_rows(&self, model: &LeadModel, columns: &[Column], rows: &[usize], out: &mut Vec<f64>) -> CoreResult<()> {
        let (gbm, masks) = Self::trees(model);
        let coded: Vec<Option<CodedColumn<'_>>> = self
            .features
            .iter()
            .zip(columns)
            .map(|(feature, column)| match (feature, &column.data) {
                (FeatureBins::Codes { bins, null, other, .. }, ColumnData::Categorical { dictionary, codes }) => {
                    let bin_of_code = dictionary.iter().map(|d| bins.get(d.as_bytes()).unwrap_or(*other)).collect();
                    Some(CodedColumn { codes, bin_of_code, null: *null })
                }
                _ => None,
            })
            .collect();
        out.reserve(rows.len());
        // The bins of a block of rows, then the block's sums together (`LeafMasks::sums_of_bins`).
        let inputs = masks.used_inputs().len();
        let mut bins = vec![0u32; inputs * BLOCK_ROWS];
        let mut log_odds = [0.0; BLOCK_ROWS];
        for block in rows.chunks(BLOCK_ROWS) {
            for (k, &r) in block.iter().enumerate() {
                let at = &mut bins[k * inputs..(k + 1) * inputs];
                for (i, feature) in self.features.iter().enumerate() {
                    match (&coded[i], feature) {
                        (Some(column), FeatureBins::Codes { used, .. }) => {
                            at[*used] = match column.codes[r] {
                                NULL_CODE => column.null,
                                c => column.bin_of_code[c as usize],
                            }
                        }
                        (_, FeatureBins::Unread) => {}
                        _ => self.find_bin(model, masks, i, columns[i].value(r), at)?,
                    }
                }
            }
            let log_odds = &mut log_odds[..block.len()];
            gbm.log_odds_of_bin_rows(masks, &bins[..block.len() * inputs], log_odds);
            out.extend_from_slice(log_odds);
        }
        Ok(())
    }

    /// Each used input's bin start (`LeafMasks::bin_start`) into `at`, feature by feature in
    /// order, so that the first feature that cannot be read is the error, as in the
    /// preprocessing.
    #[inline(always)]
    fn find_bins<'a>(
        &self,
        model: &LeadModel,
        masks: &LeafMasks,
        value: impl Fn(usize) -> RawValue<'a>,
        at: &mut [u32],
    ) -> CoreResult<()> {
        for (i, feature) in self.features.iter().enumerate() {
            // A text feature no split reads is not even read from the row.
            if !matches!(feature, FeatureBins::Unread) {
                self.find_bin(model, masks, i, value(i), at)?;
            }
        }
        Ok(())
    }

    /// Feature i's bin start for raw value `value` into its slot of `at`: an error for a number
    /// that cannot be read, even one no split reads (as the preprocessing reads it).
    #[inline(always)]
    fn find_bin(&self, model: &LeadModel, masks: &LeafMasks, i: usize, value: RawValue<'_>, at: &mut [u32]) -> CoreResult<()> {
        let pre = &model.preprocessor;
        match &self.features[i] {
            FeatureBins::Number { name, log, scaling, used } => {
                let x = pre.number(name, value, false)?.map(|x| if *log { signed_log1p(x) } else { x });
                // The preprocessing's `scaled`, to the last bit.
                let input = match x {
                    Some(x) => (x - scaling.mean) / scaling.scale,
                    None if self.impute_numeric => (scaling.median - scaling.mean) / scaling.scale,
                    None => f64::NAN,
                };
                if let Some(k) = *used {
                    at[k] = masks.bin_start(k, input);
                }
            }
            FeatureBins::Codes { bins, null, other, used } => {
                at[*used] = match value {
                    RawValue::Null => *null,
                    RawValue::Text(s) => bins.get(s.as_bytes()).unwrap_or(*other),
                    // A number for a text column is formatted and scanned for, as the
                    // preprocessing does.
                    number @ RawValue::Number(_) => masks.bin_start(*used, pre.level_slot(i, number) as f64),
                };
            }
            FeatureBins::Unread => {}
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "tree_plan_tests.rs"]
mod tests;
