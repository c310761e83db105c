//! Tiers: named score bands (hot / warm / cold, or grades A-D) stored with a model.
//!
//! Default rule: `hot` at or above the decision threshold (the F1-maximizing one unless set),
//! `warm` from the base rate (the share of converting leads) up to the threshold, `cold` below.
//! A lead in `warm` is more likely than average to convert but below the bar for immediate
//! sales follow-up. F1-optimal thresholds often sit at or below the base rate (for a calibrated
//! model they are about half the best F1); then the base rate cannot be warm's floor, and warm
//! runs from half the threshold up to it instead, so there are always three tiers.

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::CoreResult;

/// Most tiers one model may have (a tier is found by a scan per scored lead).
pub const MAX_TIERS: usize = 100;

/// One tier: a lead is in the first tier (highest `min_score` first) whose bound it reaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub name: String,
    pub min_score: f64,
}

/// What tier bounds measure: a probability (0 to 1), or an amount of a regression model's
/// predicted value (a deal value: any finite number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierScale {
    Probability,
    Amount,
}

/// Tiers ordered from the highest bound down. The last tier takes every lower score too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tiers(pub Vec<Tier>);

impl Tiers {
    /// The default hot / warm / cold rule described in the module docs.
    pub fn default_for(threshold: f64, base_rate: f64) -> Tiers {
        let warm_floor = if base_rate < threshold { base_rate } else { threshold / 2.0 };
        Tiers(vec![
            Tier { name: "hot".into(), min_score: threshold },
            Tier { name: "warm".into(), min_score: warm_floor },
            Tier { name: "cold".into(), min_score: 0.0 },
        ])
    }

    /// Parses `{"A": 0.8, "B": 0.5, "C": 0.2, "D": 0}` or
    /// `[{"name": "hot", "min_score": 0.6}, ...]`.
    pub fn from_json(value: &serde_json::Value) -> CoreResult<Tiers> {
        Tiers::from_json_scaled(value, TierScale::Probability)
    }

    /// [`Tiers::from_json`] with bounds on `scale`: amounts (value tiers) may be any finite number.
    pub fn from_json_scaled(value: &serde_json::Value, scale: TierScale) -> CoreResult<Tiers> {
        let bound_of = |name: &str, v: &serde_json::Value| bound_on(scale, name, v);
        let mut tiers = Vec::new();
        match value {
            serde_json::Value::Object(map) => {
                for (name, bound) in map {
                    tiers.push(Tier { name: name.clone(), min_score: bound_of(name, bound)? });
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    let name = item.get("name").and_then(|v| v.as_str()).ok_or_else(|| {
                        core_err!(InvalidArgument, "each tier needs a \"name\" string and a \"min_score\" number, got {item}")
                    })?;
                    // Unknown keys are refused like unknown option keys: a typo must not be dropped.
                    if let Some(key) = item.as_object().and_then(|o| o.keys().find(|k| *k != "name" && *k != "min_score")) {
                        return Err(core_err!(
                            InvalidArgument,
                            "tier \"{name}\" has an unknown key \"{key}\"; each tier has only \"name\" and \"min_score\""
                        ));
                    }
                    let bound = item
                        .get("min_score")
                        .ok_or_else(|| core_err!(InvalidArgument, "tier \"{name}\" has no \"min_score\""))?;
                    tiers.push(Tier { name: name.to_string(), min_score: bound_of(name, bound)? });
                }
            }
            other => {
                return Err(core_err!(
                    InvalidArgument,
                    "tiers must be an object like {{\"hot\": 0.6, \"warm\": 0.3, \"cold\": 0}}, got {other}"
                ))
            }
        }
        if tiers.is_empty() {
            return Err(core_err!(InvalidArgument, "tiers must name at least one tier"));
        }
        if tiers.iter().any(|t| t.name.trim().is_empty()) {
            return Err(core_err!(InvalidArgument, "tier names must not be empty or blank"));
        }
        if tiers.len() > MAX_TIERS {
            return Err(core_err!(InvalidArgument, "tiers name {} tiers; at most {MAX_TIERS} are allowed", tiers.len()));
        }
        tiers.sort_by(|a, b| b.min_score.total_cmp(&a.min_score));
        for pair in tiers.windows(2) {
            if pair[0].min_score == pair[1].min_score {
                return Err(core_err!(
                    InvalidArgument,
                    "tiers \"{}\" and \"{}\" have the same min_score",
                    pair[0].name,
                    pair[1].name
                ));
            }
        }
        let mut names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(core_err!(InvalidArgument, "tier names must be unique"));
        }
        Ok(Tiers(tiers))
    }

    /// The tier of a probability.
    pub fn assign(&self, probability: f64) -> &str {
        self.0
            .iter()
            .find(|t| probability >= t.min_score)
            .unwrap_or_else(|| self.0.last().expect("tiers are never empty"))
            .name
            .as_str()
    }

    /// The top tier's name (the one that triggers alerts).
    pub fn top(&self) -> &str {
        &self.0[0].name
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("tiers serialize")
    }
}

fn bound_on(scale: TierScale, name: &str, v: &serde_json::Value) -> CoreResult<f64> {
    match (scale, v.as_f64()) {
        (TierScale::Probability, Some(x)) if (0.0..=1.0).contains(&x) => Ok(x),
        (TierScale::Probability, _) => {
            Err(core_err!(InvalidArgument, "tier \"{name}\" needs a min_score between 0 and 1, got {v}"))
        }
        (TierScale::Amount, Some(x)) if x.is_finite() => Ok(x),
        (TierScale::Amount, _) => Err(core_err!(
            InvalidArgument,
            "tier \"{name}\" needs a min_score that is a finite amount of the predicted value, got {v}"
        )),
    }
}

/// Value tiers at quantiles of `values` (a regression's predictions on validation): each tier of
/// `quantiles` starts at its bound's quantile (0.9: the value 90% of the predictions are below),
/// so `{"Gold": 0.9, ...}` puts the top 10% in Gold. The result holds amounts; the lowest tier
/// takes every lower value. A bound is the prediction at rank `floor(q n)` (0-based, ascending):
/// a prediction, never a value between two, so exactly the top `1 - q` share reaches it (ties aside).
pub fn tiers_from_quantiles(quantiles: &Tiers, values: &[f64]) -> CoreResult<Tiers> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return Err(core_err!(InsufficientData, "value tiers need predictions on the validation part; it has none"));
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let mut tiers: Vec<Tier> = Vec::with_capacity(quantiles.0.len());
    for t in &quantiles.0 {
        let at = ((t.min_score * n as f64).floor() as usize).min(n - 1);
        let mut bound = sorted[at];
        // Equal predictions at two quantiles would give two tiers one bound: the lower tier
        // then starts just below the higher one's.
        if let Some(above) = tiers.last() {
            bound = bound.min(above.min_score.next_down());
        }
        tiers.push(Tier { name: t.name.clone(), min_score: bound });
    }
    Ok(Tiers(tiers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tiers_follow_the_documented_rule() {
        let t = Tiers::default_for(0.6, 0.3);
        assert_eq!(t.assign(0.6), "hot");
        assert_eq!(t.assign(0.59), "warm");
        assert_eq!(t.assign(0.3), "warm");
        assert_eq!(t.assign(0.1), "cold");
        // Threshold below the base rate: warm runs from half the threshold.
        let low = Tiers::default_for(0.2, 0.3);
        assert_eq!(low.assign(0.25), "hot");
        assert_eq!(low.assign(0.1), "warm");
        assert_eq!(low.assign(0.09), "cold");
    }

    #[test]
    fn grades_from_an_object_are_ordered_by_bound() {
        let t = Tiers::from_json(&serde_json::json!({"D": 0, "A": 0.8, "C": 0.2, "B": 0.5})).unwrap();
        let names: Vec<&str> = t.0.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, vec!["A", "B", "C", "D"]);
        assert_eq!(t.assign(0.5), "B");
        assert_eq!(t.top(), "A");
    }

    #[test]
    fn lowest_tier_takes_everything_below() {
        let t = Tiers::from_json(&serde_json::json!([{"name": "hot", "min_score": 0.7}, {"name": "rest", "min_score": 0.4}]))
            .unwrap();
        assert_eq!(t.assign(0.1), "rest");
    }

    #[test]
    fn amount_tiers_take_any_finite_bound() {
        let v = serde_json::json!({"Gold": 50000, "Silver": 10000, "Bronze": 0});
        assert!(Tiers::from_json(&v).is_err(), "probability tiers stay within 0 and 1");
        let t = Tiers::from_json_scaled(&v, TierScale::Amount).unwrap();
        assert_eq!((t.assign(50000.0), t.assign(49999.0), t.assign(-5.0)), ("Gold", "Silver", "Bronze"));
        assert!(Tiers::from_json_scaled(&serde_json::json!({"Gold": "a lot"}), TierScale::Amount).is_err());
    }

    #[test]
    fn quantile_tiers_split_the_values_as_asked() {
        let q = Tiers::from_json(&serde_json::json!({"Gold": 0.9, "Silver": 0.6, "Bronze": 0})).unwrap();
        let values: Vec<f64> = (1..=10).map(|v| v as f64 * 100.0).collect();
        let t = tiers_from_quantiles(&q, &values).unwrap();
        // Ranks floor(0.9 * 10) = 9 and floor(0.6 * 10) = 6 of 100..1000, and the smallest.
        let bounds: Vec<f64> = t.0.iter().map(|x| x.min_score).collect();
        assert_eq!(bounds, vec![1000.0, 700.0, 100.0]);
        let count = |name: &str| values.iter().filter(|&&v| t.assign(v) == name).count();
        assert_eq!((count("Gold"), count("Silver"), count("Bronze")), (1, 3, 6));
        // All predictions equal: the tiers still have distinct, descending bounds.
        let flat = tiers_from_quantiles(&q, &[5.0; 4]).unwrap();
        assert!(flat.0.windows(2).all(|w| w[0].min_score > w[1].min_score), "{flat:?}");
        assert_eq!(flat.assign(5.0), "Gold");
        assert!(tiers_from_quantiles(&q, &[]).is_err());
    }

    #[test]
    fn bad_tiers_are_rejected() {
        assert!(Tiers::from_json(&serde_json::json!({"hot": 1.5})).is_err());
        assert!(Tiers::from_json(&serde_json::json!({})).is_err());
        assert!(Tiers::from_json(&serde_json::json!("hot")).is_err());
        assert!(Tiers::from_json(&serde_json::json!({"a": 0.5, "b": 0.5})).is_err());
    }
}
