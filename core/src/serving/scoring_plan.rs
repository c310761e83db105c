//! A model prepared for scoring many rows, with the same probability to the last bit as
//! [`crate::models::LeadModel::probability`]. Boosted trees: see `tree_plan.rs`. Logistic
//! models: text levels are found by one hash lookup instead of comparing the value with every
//! level and placeholder, and the log-odds are summed from the nonzero inputs only, so no
//! one-hot vector is filled per row. The terms are added in the same order as the model adds
//! them (a zero input adds nothing).

use crate::core_err;
use crate::data::LevelTable;
use crate::data::RawValue;
use crate::data::{format_number, FeatureTransform, Scaling, MISSING_LEVEL};
use crate::models::{Estimator, LeadModel};
use crate::serving::tree_plan::TreePlan;
use crate::CoreResult;

enum Term {
    Numeric {
        name: String,
        mean: f64,
        scale: f64,
        missing: f64,
        coef: f64,
        indicator: Option<f64>,
    },
    /// Coefficient of each kept level (and of a placeholder, as "(missing)"), then of "(other)".
    Categorical {
        slots: LevelTable,
        missing: f64,
        other: f64,
    },
}

/// The fast path of one model; `None` from [`ScoringPlan::new`] for a model scored the
/// general way (segments, interactions, one-hot or date features on trees, trees of more than
/// 32 leaves...).
pub enum ScoringPlan {
    Logistic(LogisticPlan),
    Trees(TreePlan),
}

impl ScoringPlan {
    pub fn new(model: &LeadModel) -> Option<ScoringPlan> {
        match &model.estimator {
            Estimator::Logistic(_) => LogisticPlan::new(model).map(ScoringPlan::Logistic),
            Estimator::Gbm(_) => TreePlan::new(model).map(ScoringPlan::Trees),
            Estimator::Linear(_) => None,
        }
    }

    /// Calibrated probability, as `LeadModel::probability`, of raw values in feature order.
    pub fn probability(&self, model: &LeadModel, raw: &[RawValue<'_>]) -> CoreResult<f64> {
        if raw.len() < model.preprocessor.features.len() {
            let (given, features) = (raw.len(), model.preprocessor.features.len());
            return Err(core_err!(Internal, "{given} feature values for a model with {features} features"));
        }
        self.probability_of(model, |i| raw[i])
    }

    /// Calibrated probability with the i-th feature value read by `value(i)` when the plan
    /// needs it: a caller that reads values straight from its own storage (a call's
    /// arguments) keeps no array of them.
    #[inline]
    pub fn probability_of<'a>(&self, model: &LeadModel, value: impl Fn(usize) -> RawValue<'a>) -> CoreResult<f64> {
        let z = match self {
            ScoringPlan::Logistic(plan) => plan.log_odds_of(value, &model.preprocessor.missing_values)?,
            ScoringPlan::Trees(plan) => plan.log_odds_of(model, value)?,
        };
        Ok(model.probability_from_log_odds(z))
    }
}

/// The fast path of one logistic model.
pub struct LogisticPlan {
    intercept: f64,
    terms: Vec<Term>,
}

impl LogisticPlan {
    fn new(model: &LeadModel) -> Option<LogisticPlan> {
        let Estimator::Logistic(fit) = &model.estimator else { return None };
        let pre = &model.preprocessor;
        // The plan covers plain numbers and text; anything else takes the general path.
        let plain = |f: &FeatureTransform| {
            matches!(f, FeatureTransform::Numeric { log: false, .. } | FeatureTransform::Categorical { .. })
        };
        if !pre.impute_numeric
            || fit.coefficients.len() != pre.width()
            || model.segments.is_some()
            || !pre.interactions.is_empty()
            || !pre.features.iter().all(plain)
        {
            return None;
        }
        let mut terms = Vec::with_capacity(pre.features.len());
        let mut at = 0;
        for feature in &pre.features {
            let coef = &fit.coefficients[at..at + feature.width()];
            terms.push(match feature {
                FeatureTransform::Numeric { name, scaling: Scaling { median, mean, scale, indicator }, .. } => Term::Numeric {
                    name: name.clone(),
                    mean: *mean,
                    scale: *scale,
                    missing: (median - mean) / scale,
                    coef: coef[0],
                    indicator: indicator.then(|| coef[1]),
                },
                FeatureTransform::Categorical { levels, .. } => {
                    let other = coef[levels.len()];
                    let missing = levels.iter().position(|l| l == MISSING_LEVEL).map_or(other, |i| coef[i]);
                    // position() finds the first equal level, so the first is inserted last
                    // (the last insert wins); placeholders are checked before levels.
                    let kept = levels.iter().zip(coef).rev().map(|(level, c)| (level.as_str(), *c));
                    let slots = LevelTable::new(kept.chain(pre.missing_values.iter().map(|m| (m.as_str(), missing))));
                    Term::Categorical { slots, missing, other }
                }
                FeatureTransform::Binned { .. } | FeatureTransform::Date { .. } | FeatureTransform::TextCodes { .. } => {
                    unreachable!("checked above")
                }
            });
            at += feature.width();
        }
        Some(LogisticPlan { intercept: fit.intercept, terms })
    }

    /// Log-odds before calibration with the i-th feature value read by `value(i)` when its
    /// term needs it.
    #[inline]
    fn log_odds_of<'a>(&self, value: impl Fn(usize) -> RawValue<'a>, placeholders: &[String]) -> CoreResult<f64> {
        let mut sum = 0.0;
        for (i, term) in self.terms.iter().enumerate() {
            let value = &value(i);
            match term {
                Term::Numeric { name, mean, scale, missing, coef, indicator } => {
                    let x = match *value {
                        RawValue::Null => None,
                        RawValue::Number(x) => Some(x),
                        RawValue::Text(s) if placeholders.iter().any(|m| m == s) => None,
                        RawValue::Text(s) => Some(
                            s.trim()
                                .parse::<f64>()
                                .map_err(|_| core_err!(InvalidData, "feature \"{name}\" is numeric but got the text '{s}'"))?,
                        ),
                    };
                    match x {
                        Some(x) if !x.is_finite() => {
                            return Err(core_err!(
                                InvalidData,
                                "feature \"{name}\" is {}; NaN and Infinity are not valid feature values",
                                crate::error::sql_float(x)
                            ))
                        }
                        Some(x) => sum += (x - mean) / scale * coef,
                        None => {
                            sum += missing * coef;
                            if let Some(c) = indicator {
                                sum += c;
                            }
                        }
                    }
                }
                Term::Categorical { slots, missing, other } => {
                    let c = match *value {
                        RawValue::Null => Some(*missing),
                        RawValue::Text(s) => slots.get(s.as_bytes()),
                        RawValue::Number(x) => slots.get(format_number(x).as_bytes()),
                    };
                    sum += c.unwrap_or(*other);
                }
            }
        }
        Ok(self.intercept + sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::FeatureKind;
    use crate::data::Preprocessor;
    use crate::models::Calibration;
    use crate::models::LogisticFit;

    fn model() -> LeadModel {
        LeadModel {
            preprocessor: Preprocessor {
                features: vec![
                    FeatureTransform::Numeric {
                        name: "visits".into(),
                        log: false,
                        scaling: Scaling { median: 3.0, mean: 3.7, scale: 2.3, indicator: true },
                    },
                    FeatureTransform::Categorical {
                        name: "source".into(),
                        kind: FeatureKind::Categorical,
                        levels: vec!["Google".into(), MISSING_LEVEL.into(), "15".into()],
                    },
                    FeatureTransform::Numeric {
                        name: "minutes".into(),
                        log: false,
                        scaling: Scaling { median: 0.5, mean: 0.61, scale: 0.33, indicator: false },
                    },
                ],
                missing_values: vec!["".into(), "Select".into()],
                impute_numeric: true,
                interactions: Vec::new(),
                level_index: Default::default(),
            },
            estimator: Estimator::Logistic(LogisticFit {
                intercept: -0.71,
                coefficients: vec![0.31, 0.17, 1.13, -0.77, 0.53, -2.03, 0.41],
                iterations: 5,
                converged: true,
                objective: 1.0,
            }),
            calibration: Calibration::Platt { a: -1.1, b: 0.2 },
            input_means: vec![0.0; 7],
            segments: None,
        }
    }

    #[test]
    fn same_probability_to_the_last_bit() {
        let m = model();
        let plan = ScoringPlan::new(&m).unwrap();
        let mut scratch = Vec::new();
        let values = [
            vec![RawValue::Number(2.0), RawValue::Text("Google"), RawValue::Number(0.25)],
            vec![RawValue::Null, RawValue::Null, RawValue::Null],
            vec![RawValue::Text("Select"), RawValue::Text(""), RawValue::Text(" 1.5 ")],
            vec![RawValue::Number(-7.5), RawValue::Text("never seen"), RawValue::Number(1e9)],
            vec![RawValue::Number(0.0), RawValue::Number(15.0), RawValue::Number(0.61)],
            vec![RawValue::Number(1.0), RawValue::Text("(missing)"), RawValue::Number(-0.0)],
        ];
        for raw in &values {
            let slow = m.probability(raw, &mut scratch).unwrap();
            let fast = plan.probability(&m, raw).unwrap();
            assert_eq!(slow.to_bits(), fast.to_bits(), "{raw:?}: {slow} vs {fast}");
        }
        let bad = [RawValue::Number(f64::NAN), RawValue::Null, RawValue::Null];
        assert!(plan.probability(&m, &bad).unwrap_err().message.contains("NaN"));
        let text = [RawValue::Text("many"), RawValue::Null, RawValue::Null];
        assert!(plan.probability(&m, &text).unwrap_err().message.contains("numeric but got the text"));
    }
}
