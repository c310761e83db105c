//! A trained lead model: the fitted preprocessing plus the estimator. Training and scoring both
//! go through [`LeadModel::probability`], so a score in SQL equals the model's own prediction.

use serde::{Deserialize, Serialize};

use super::calibration::Calibration;
use super::gbm::{ForustModel, TreeBooster};
use super::logistic::{sigmoid, LogisticFit};
use super::preprocess::Preprocessor;
use super::values::RawValue;
use super::CoreResult;

/// The fitted estimator. An enum rather than a trait object so artifacts stay plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Estimator {
    Logistic(LogisticFit),
    Gbm(ForustModel),
}

impl Estimator {
    pub fn algorithm(&self) -> &'static str {
        match self {
            Estimator::Logistic(_) => "logistic",
            Estimator::Gbm(_) => "gbm",
        }
    }

    /// Log-odds for one transformed input row.
    pub fn log_odds(&self, inputs: &[f64]) -> f64 {
        match self {
            Estimator::Logistic(fit) => fit.log_odds(inputs),
            Estimator::Gbm(model) => model.log_odds(inputs),
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
}

impl LeadModel {
    /// Source columns the model reads, in the order `raw` values must be given.
    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.preprocessor.features.iter().map(|f| f.name())
    }

    /// Log-odds of conversion before calibration. `scratch` is reused between calls to avoid an allocation per lead.
    pub fn log_odds(&self, raw: &[RawValue<'_>], scratch: &mut Vec<f64>) -> CoreResult<f64> {
        scratch.resize(self.preprocessor.width(), 0.0);
        self.preprocessor.transform_into(raw, scratch)?;
        Ok(self.estimator.log_odds(scratch))
    }

    /// Calibrated probability of conversion.
    pub fn probability(&self, raw: &[RawValue<'_>], scratch: &mut Vec<f64>) -> CoreResult<f64> {
        Ok(self.calibration.apply(sigmoid(self.log_odds(raw, scratch)?)))
    }

    /// Named coefficients of a logistic model (input name, coefficient); empty for trees.
    pub fn coefficients(&self) -> Vec<(String, f64)> {
        match &self.estimator {
            Estimator::Logistic(fit) => {
                self.preprocessor.output_names().into_iter().zip(fit.coefficients.iter().copied()).collect()
            }
            Estimator::Gbm(_) => Vec::new(),
        }
    }
}
