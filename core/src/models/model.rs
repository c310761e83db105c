//! A trained lead model: the fitted preprocessing plus the estimator. Training and scoring both
//! go through [`LeadModel::probability`], so a score in SQL equals the model's own prediction.

use serde::{Deserialize, Serialize};

use crate::data::DesignMatrix;
use crate::data::Preprocessor;
use crate::data::{value_text, RawValue};
use crate::evaluation::TierScale;
use crate::models::calibration::Calibration;
use crate::models::gbm::{GbmModel, TreeBooster};
use crate::models::logistic::{sigmoid, LogisticFit};
use crate::CoreResult;

/// The fitted estimator. An enum rather than a trait object so artifacts stay plain data.
/// Unboxed although the variants differ in size: a model exists once per cache entry.
/// Stored as [`StoredEstimator`], which keeps the variant numbers artifacts were written with.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "StoredEstimator")]
pub enum Estimator {
    Logistic(LogisticFit),
    Gbm(GbmModel),
    /// Ridge regression of a numeric label (`options.task = 'regression'`): the linear
    /// predictor is the predicted value itself, with no link function and no calibration.
    Linear(LogisticFit),
}

/// The estimator as artifacts number it: variant 1 is forust-ml's boosted trees (artifact
/// formats 2 and 3), read into the same [`GbmModel`] and written back as such; variant 2 the
/// ridge regression (added in format 3); variant 3 LightGBM's boosted trees (format 4).
#[derive(Deserialize)]
enum StoredEstimator {
    Logistic(LogisticFit),
    ForustGbm(ForustJson),
    Linear(LogisticFit),
    Gbm(GbmModel),
}

/// A forust-ml booster's JSON, read into a [`GbmModel`].
struct ForustJson(GbmModel);

impl<'de> Deserialize<'de> for ForustJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        GbmModel::from_forust_json(String::deserialize(d)?).map(ForustJson).map_err(serde::de::Error::custom)
    }
}

impl From<StoredEstimator> for Estimator {
    fn from(stored: StoredEstimator) -> Estimator {
        match stored {
            StoredEstimator::Logistic(fit) => Estimator::Logistic(fit),
            StoredEstimator::Linear(fit) => Estimator::Linear(fit),
            StoredEstimator::ForustGbm(ForustJson(model)) | StoredEstimator::Gbm(model) => Estimator::Gbm(model),
        }
    }
}

impl Serialize for Estimator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Estimator::Logistic(fit) => s.serialize_newtype_variant("StoredEstimator", 0, "Logistic", fit),
            Estimator::Gbm(model) if model.is_forust() => s.serialize_newtype_variant("StoredEstimator", 1, "ForustGbm", model),
            Estimator::Linear(fit) => s.serialize_newtype_variant("StoredEstimator", 2, "Linear", fit),
            Estimator::Gbm(model) => s.serialize_newtype_variant("StoredEstimator", 3, "Gbm", model),
        }
    }
}

impl Estimator {
    pub fn algorithm(&self) -> &'static str {
        match self {
            Estimator::Logistic(_) => "logistic",
            Estimator::Gbm(_) => "gbm",
            Estimator::Linear(_) => "linear",
        }
    }

    /// Whether the estimator predicts a value (regression) rather than a probability.
    pub fn is_regression(&self) -> bool {
        match self {
            Estimator::Linear(_) => true,
            Estimator::Gbm(model) => model.is_regression(),
            Estimator::Logistic(_) => false,
        }
    }

    /// Log-odds for one transformed input row (the predicted value for a regression).
    pub fn log_odds(&self, inputs: &[f64]) -> f64 {
        match self {
            Estimator::Logistic(fit) | Estimator::Linear(fit) => fit.log_odds(inputs),
            Estimator::Gbm(model) => model.log_odds(inputs),
        }
    }

    /// Log-odds for row `i` of a design matrix, the same bits as [`Self::log_odds`] of the row
    /// written densely: a logistic model sums its nonzero inputs only (a zero adds nothing);
    /// trees read the row densified into `scratch`.
    pub fn log_odds_of_design_row(&self, x: &DesignMatrix, i: usize, scratch: &mut Vec<f64>) -> f64 {
        match (self, x) {
            (_, DesignMatrix::Dense(x)) => self.log_odds(x.row(i).to_slice().expect("row-major")),
            (Estimator::Logistic(fit) | Estimator::Linear(fit), DesignMatrix::Sparse(s)) => {
                let (idx, val) = s.row(i);
                fit.intercept + idx.iter().zip(val).map(|(&j, v)| v * fit.coefficients[j as usize]).sum::<f64>()
            }
            (Estimator::Gbm(_), DesignMatrix::Sparse(s)) => {
                scratch.resize(s.ncols(), 0.0);
                x.row_into(i, scratch);
                self.log_odds(scratch)
            }
        }
    }
}

/// Preprocessing, estimator and calibration together: what a model artifact holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadModel {
    pub preprocessor: Preprocessor,
    pub estimator: Estimator,
    /// Maps the estimator's probability to a calibrated one (fitted on validation).
    pub calibration: Calibration,
    /// Mean of each model input over the training rows: the baseline of logistic explanations.
    pub input_means: Vec<f64>,
    /// `options.segment_by`: models for single segments; this model is the global fallback.
    pub segments: Option<Segments>,
}

/// One model per value of a feature column (lead source, say), all reading the same columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segments {
    /// Index of the segment column among the features.
    pub feature: usize,
    /// (segment value as text, its model), for the segments that had enough rows to train.
    pub models: Vec<(String, LeadModel)>,
}

impl LeadModel {
    /// Source columns the model reads, in the order `raw` values must be given.
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.preprocessor.features.iter().map(|f| f.name())
    }

    /// The model that scores this lead: its segment's, or this (global) one.
    pub fn for_lead(&self, raw: &[RawValue<'_>]) -> &LeadModel {
        match (&self.segments, self.segments.as_ref().and_then(|s| self.segment_of(&raw[s.feature]))) {
            (Some(segments), Some(i)) => &segments.models[i].1,
            _ => self,
        }
    }

    /// The index (in `segments.models`) of the segment model that scores a lead whose segment
    /// column holds `value`; None when the global model does (no segments, a missing value, a
    /// value without a model of its own).
    pub fn segment_of(&self, value: &RawValue<'_>) -> Option<usize> {
        let segments = self.segments.as_ref()?;
        let text;
        let key: &str = match value {
            RawValue::Text(s) if !self.preprocessor.missing_values.iter().any(|m| m == s) => s,
            RawValue::Number(_) => {
                text = value_text(value, &self.preprocessor.missing_values)?;
                &text
            }
            _ => return None,
        };
        segments.models.iter().position(|(v, _)| v == key)
    }

    /// Log-odds of conversion before calibration. `scratch` is reused between calls to avoid an allocation per lead.
    pub fn log_odds(&self, raw: &[RawValue<'_>], scratch: &mut Vec<f64>) -> CoreResult<f64> {
        let model = self.for_lead(raw);
        if !std::ptr::eq(model, self) {
            return model.log_odds(raw, scratch);
        }
        scratch.resize(self.preprocessor.width(), 0.0);
        self.preprocessor.transform_into(raw, scratch)?;
        Ok(self.estimator.log_odds(scratch))
    }

    /// Calibrated probability of conversion.
    pub fn probability(&self, raw: &[RawValue<'_>], scratch: &mut Vec<f64>) -> CoreResult<f64> {
        let model = self.for_lead(raw);
        Ok(model.probability_from_log_odds(model.log_odds(raw, scratch)?))
    }

    /// The calibrated probability for this model's log-odds: the last step of every scoring path.
    /// A regression model's linear predictor is its prediction, returned as it is.
    #[inline]
    pub fn probability_from_log_odds(&self, log_odds: f64) -> f64 {
        if self.estimator.is_regression() {
            return log_odds;
        }
        self.calibration.apply(sigmoid(log_odds))
    }

    /// Whether the model predicts a value (`options.task = 'regression'`) rather than a probability.
    pub fn is_regression(&self) -> bool {
        self.estimator.is_regression()
    }

    /// What this model's tier bounds measure: amounts of the predicted value for a regression.
    pub fn tier_scale(&self) -> TierScale {
        if self.is_regression() {
            TierScale::Amount
        } else {
            TierScale::Probability
        }
    }

    /// Named coefficients of a logistic model (input name, coefficient); empty for trees.
    pub fn coefficients(&self) -> Vec<(String, f64)> {
        match &self.estimator {
            Estimator::Logistic(fit) | Estimator::Linear(fit) => {
                self.preprocessor.output_names().into_iter().zip(fit.coefficients.iter().copied()).collect()
            }
            Estimator::Gbm(_) => Vec::new(),
        }
    }
}
