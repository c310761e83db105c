//! Explanations reps can trust: each feature's SHAP contribution to a lead's log-odds (exact for
//! logistic regression: coefficient x (input - training mean); TreeSHAP for boosted trees), the
//! one-hot levels of a column summed into that column, so that the base value plus all
//! contributions equals the model's log-odds before calibration. Also the top reasons in words
//! and the global importance (mean |SHAP|) computed once at training.

use serde::{Deserialize, Serialize};

use crate::data::format_timestamp;
use crate::data::{row_values, value_text, Column, RawValue};
use crate::data::{FeatureTransform, MISSING_LEVEL};
use crate::explain::readable::condition;
use crate::models::TreeBooster;
use crate::models::{Estimator, LeadModel};
use crate::resources::{map_tasks, worker_threads};
use crate::{core_err, CoreResult};

/// One source column's contribution for one lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureContribution {
    pub feature: String,
    /// The lead's value as text; None when missing.
    pub value: Option<String>,
    pub contribution: f64,
    /// The value as a reason names it: "industry = Software", "pricing_visits 3 to < 7".
    #[serde(default)]
    pub condition: String,
}

/// A lead's explanation: base value + sum of contributions = log-odds (before calibration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub base_value: f64,
    pub features: Vec<FeatureContribution>,
    pub log_odds: f64,
}

/// A feature's value as a rep reads it: dates as ISO dates rather than seconds.
fn shown_value(f: &FeatureTransform, value: &RawValue<'_>, missing_values: &[String]) -> Option<String> {
    match (f, value) {
        (FeatureTransform::Date { .. }, RawValue::Number(t)) => Some(format_timestamp(*t)),
        _ => value_text(value, missing_values),
    }
}

/// Explains one lead. `scratch` is reused between calls.
pub fn explain(model: &LeadModel, raw: &[RawValue<'_>], scratch: &mut Vec<f64>) -> CoreResult<Explanation> {
    // A segmented model is explained by the segment model that scored the lead.
    let model = model.for_lead(raw);
    let width = model.preprocessor.width();
    scratch.resize(width, 0.0);
    model.preprocessor.transform_into(raw, scratch)?;
    let mut per_input = vec![0.0; width];
    let base_value = match &model.estimator {
        Estimator::Logistic(fit) | Estimator::Linear(fit) => {
            let mut base = fit.intercept;
            for j in 0..width {
                let mean = model.input_means.get(j).copied().unwrap_or(0.0);
                per_input[j] = fit.coefficients[j] * (scratch[j] - mean);
                base += fit.coefficients[j] * mean;
            }
            base
        }
        Estimator::Gbm(booster) => booster.contributions(scratch, &mut per_input),
    };
    let p = &model.preprocessor;
    let mut features = Vec::with_capacity(p.features.len() + p.interactions.len());
    let mut at = 0;
    for (f, value) in p.features.iter().zip(raw) {
        let w = f.width();
        let condition = condition(f, value, &p.missing_values);
        let value = shown_value(f, value, &p.missing_values);
        features.push(FeatureContribution {
            feature: f.name().to_string(),
            value,
            contribution: per_input[at..at + w].iter().sum(),
            condition,
        });
        at += w;
    }
    // An interaction term is its own row: its effect belongs to neither column alone.
    for i in &p.interactions {
        let w = i.width();
        let shown =
            |k: usize| shown_value(&p.features[k], &raw[k], &p.missing_values).unwrap_or_else(|| MISSING_LEVEL.to_string());
        let readable = |k: usize| condition(&p.features[k], &raw[k], &p.missing_values);
        features.push(FeatureContribution {
            feature: i.name(&p.features),
            value: Some(format!("{} × {}", shown(i.a), shown(i.b))),
            contribution: per_input[at..at + w].iter().sum(),
            condition: format!("{} and {}", readable(i.a), readable(i.b)),
        });
        at += w;
    }
    let log_odds = model.estimator.log_odds(scratch);
    Ok(Explanation { base_value, features, log_odds })
}

/// A reason in a rep's words, with the raw value and contribution it was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub feature: String,
    pub value: Option<String>,
    pub contribution: f64,
    /// The value as the reason names it ("industry = Software", "pricing_visits 3 to < 7").
    pub condition: String,
    pub reason: String,
}

/// The `k` largest positive and `k` largest negative contributions, biggest first, in words
/// such as "Lead Source = Reference: raises the score" (see `readable.rs` for the conditions).
pub fn top_reasons(explanation: &Explanation, k: usize) -> (Vec<Reason>, Vec<Reason>) {
    let to_reason = |c: &FeatureContribution| {
        let effect = if c.contribution > 0.0 { "raises the score" } else { "lowers the score" };
        Reason {
            feature: c.feature.clone(),
            value: c.value.clone(),
            contribution: c.contribution,
            condition: c.condition.clone(),
            reason: format!("{}: {effect}", c.condition),
        }
    };
    let mut pos: Vec<&FeatureContribution> = explanation.features.iter().filter(|c| c.contribution > 1e-12).collect();
    let mut neg: Vec<&FeatureContribution> = explanation.features.iter().filter(|c| c.contribution < -1e-12).collect();
    pos.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    neg.sort_by(|a, b| a.contribution.total_cmp(&b.contribution));
    (pos.into_iter().take(k).map(to_reason).collect(), neg.into_iter().take(k).map(to_reason).collect())
}

/// A feature's global importance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    pub feature: String,
    /// Mean |SHAP| over the rows it was computed on (log-odds units).
    pub importance: f64,
    /// In words: how the feature moves the score.
    pub direction: String,
    /// Logistic, numeric feature: coefficient per standard deviation, and its odds ratio.
    pub coefficient: Option<f64>,
    pub odds_ratio: Option<f64>,
    /// Logistic, text/boolean feature: coefficient per level.
    pub level_coefficients: Option<Vec<(String, f64)>>,
}

/// Leads one importance task explains: small enough that a core busy elsewhere leaves little
/// for the others to wait on, large enough that handing tasks out costs nothing.
const IMPORTANCE_TASK_ROWS: usize = 50;

/// Mean |SHAP| per feature over `rows` (at most `max_rows` of them, evenly spaced, so the cost
/// stays bounded), with the direction of each feature's effect. The leads are explained on
/// worker threads (pure computation; a deep boosted model's TreeSHAP costs up to a millisecond
/// a lead) and summed in sample order, so the result does not depend on the thread count.
pub fn feature_importance(model: &LeadModel, columns: &[Column], rows: &[usize], max_rows: usize) -> CoreResult<Vec<Importance>> {
    let step = rows.len().div_ceil(max_rows.max(1)).max(1);
    let sample: Vec<usize> = rows.iter().step_by(step).copied().collect();
    let tasks: Vec<&[usize]> = sample.chunks(IMPORTANCE_TASK_ROWS).collect();
    let threads = if tasks.len() > 1 { worker_threads(4) } else { 1 };
    let explained = map_tasks(tasks.len(), threads, |t| -> CoreResult<Vec<Explanation>> {
        let (mut raw, mut scratch) = (Vec::with_capacity(columns.len()), Vec::new());
        tasks[t]
            .iter()
            .map(|&r| {
                row_values(columns, r, &mut raw);
                explain(model, &raw, &mut scratch)
            })
            .collect()
    })
    .map_err(|e| core_err!(Internal, "feature importance: {e}"))?;
    let nf = model.preprocessor.features.len();
    let rows_per_lead = nf + model.preprocessor.interactions.len();
    let mut abs_sum = vec![0.0; rows_per_lead];
    // For direction: (value, contribution) of numeric features; (level, contribution) of others.
    let mut numeric_pairs: Vec<Vec<(f64, f64)>> = vec![Vec::new(); nf];
    let mut level_sums: Vec<std::collections::BTreeMap<String, (f64, usize)>> = vec![Default::default(); nf];
    let mut raw = Vec::with_capacity(columns.len());
    let explanations: Vec<Vec<Explanation>> = explained.into_iter().collect::<CoreResult<_>>()?;
    for (&r, e) in sample.iter().zip(explanations.into_iter().flatten()) {
        row_values(columns, r, &mut raw);
        for (i, c) in e.features.iter().enumerate() {
            abs_sum[i] += c.contribution.abs();
            if i >= nf {
                continue;
            }
            match (&raw[i], &model.preprocessor.features[i]) {
                (RawValue::Number(x), FeatureTransform::Numeric { .. } | FeatureTransform::Date { .. }) => {
                    numeric_pairs[i].push((*x, c.contribution))
                }
                (
                    _,
                    FeatureTransform::Categorical { .. } | FeatureTransform::Binned { .. } | FeatureTransform::TextCodes { .. },
                ) => {
                    let level = c.value.clone().unwrap_or_else(|| MISSING_LEVEL.to_string());
                    let entry = level_sums[i].entry(level).or_insert((0.0, 0));
                    entry.0 += c.contribution;
                    entry.1 += 1;
                }
                _ => {}
            }
        }
    }
    let n = sample.len().max(1) as f64;
    let coefficients = model.coefficients();
    let mut offset = 0;
    let mut out = Vec::with_capacity(rows_per_lead);
    for (i, f) in model.preprocessor.features.iter().enumerate() {
        let direction = match f {
            FeatureTransform::Numeric { .. } => match correlation(&numeric_pairs[i]) {
                Some(c) if c > 0.05 => "higher values raise the score".to_string(),
                Some(c) if c < -0.05 => "higher values lower the score".to_string(),
                _ => "no consistent direction".to_string(),
            },
            // Epoch seconds grow with recency, so a positive correlation means newer dates score higher.
            FeatureTransform::Date { .. } => match correlation(&numeric_pairs[i]) {
                Some(c) if c > 0.05 => "more recent dates raise the score".to_string(),
                Some(c) if c < -0.05 => "more recent dates lower the score".to_string(),
                _ => "no consistent direction".to_string(),
            },
            FeatureTransform::Categorical { .. } | FeatureTransform::Binned { .. } | FeatureTransform::TextCodes { .. } => {
                let means: Vec<(&String, f64)> = level_sums[i].iter().map(|(l, (s, k))| (l, s / *k as f64)).collect();
                let best = means.iter().max_by(|a, b| a.1.total_cmp(&b.1));
                let worst = means.iter().min_by(|a, b| a.1.total_cmp(&b.1));
                match (best, worst) {
                    (Some(b), Some(w)) if b.0 != w.0 => format!("highest for {}, lowest for {}", b.0, w.0),
                    _ => "no consistent direction".to_string(),
                }
            }
        };
        let (coefficient, level_coefficients) = if coefficients.is_empty() {
            (None, None)
        } else {
            match f {
                FeatureTransform::Numeric { .. } => (Some(coefficients[offset].1), None),
                // Keyed by level ("Reference", "< 25", "on Monday"): the column's name is the row's.
                _ => {
                    let name = f.name();
                    let strip = |n: &str| {
                        let rest = n.strip_prefix(name).unwrap_or(n);
                        rest.strip_prefix(" = ").or_else(|| rest.strip_prefix(' ')).unwrap_or(rest).to_string()
                    };
                    let lc = coefficients[offset..offset + f.width()].iter().map(|(n, c)| (strip(n), *c)).collect();
                    (None, Some(lc))
                }
            }
        };
        out.push(Importance {
            feature: f.name().to_string(),
            importance: abs_sum[i] / n,
            direction,
            // A regression's coefficient is in the label's unit per input step: no odds.
            odds_ratio: coefficient.filter(|_| !model.is_regression()).map(f64::exp),
            coefficient,
            level_coefficients,
        });
        offset += f.width();
    }
    for (k, term) in model.preprocessor.interactions.iter().enumerate() {
        let w = term.width();
        let names = &model.preprocessor.features;
        out.push(Importance {
            feature: term.name(names),
            importance: abs_sum[nf + k] / n,
            direction: format!("the effect of {} depends on {}", names[term.a].name(), names[term.b].name()),
            coefficient: None,
            odds_ratio: None,
            level_coefficients: (!coefficients.is_empty()).then(|| coefficients[offset..offset + w].to_vec()),
        });
        offset += w;
    }
    out.sort_by(|a, b| b.importance.total_cmp(&a.importance));
    Ok(out)
}

fn correlation(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 3 {
        return None;
    }
    let (mx, my) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TrainingData;
    use crate::data::{CategoricalBuilder, ColumnData, FeatureKind};
    use crate::data::{SeededRng, SplitKey};
    use crate::training::train_model;
    use crate::training::{Algorithm, TrainOptions};

    /// visits is the strongest planted signal, source the second, noise none.
    fn data(n: usize) -> TrainingData {
        let mut rng = SeededRng::new(11);
        let u = |rng: &mut SeededRng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (mut visits, mut noise, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        let mut source = CategoricalBuilder::default();
        for _ in 0..n {
            let v = (u(&mut rng) * 10.0).floor();
            let s = ["Google", "Reference", "Chat"][rng.below(3)];
            let z: f64 = -3.0 + 0.6 * v + if s == "Reference" { 1.0 } else { 0.0 };
            labels.push(u(&mut rng) < 1.0 / (1.0 + (-z).exp()));
            visits.push(if rng.below(10) == 0 { None } else { Some(v) });
            noise.push(Some(u(&mut rng)));
            source.push(Some(s));
        }
        TrainingData {
            columns: vec![
                Column { name: "visits".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(visits) },
                Column { name: "source".into(), kind: FeatureKind::Categorical, data: source.finish() },
                Column { name: "noise".into(), kind: FeatureKind::Numeric, data: ColumnData::Numeric(noise) },
            ],
            labels,
            targets: Vec::new(),
            split_key: SplitKey::None,
        }
    }

    fn check_additivity_and_ranking(algorithm: Algorithm) {
        let d = data(4000);
        let opts = TrainOptions { algorithm, ..Default::default() };
        let trained = train_model(&d, &opts, &mut |_, _| Ok(())).unwrap();
        let mut raw = Vec::new();
        let mut scratch = Vec::new();
        let mut s2 = Vec::new();
        for r in 0..200 {
            row_values(&d.columns, r, &mut raw);
            let e = explain(&trained.model, &raw, &mut scratch).unwrap();
            let total = e.base_value + e.features.iter().map(|c| c.contribution).sum::<f64>();
            let log_odds = trained.model.log_odds(&raw, &mut s2).unwrap();
            assert!((total - log_odds).abs() < 1e-6, "{algorithm:?}: {total} vs {log_odds}");
            assert_eq!(e.features.len(), 3, "one-hot levels are summed into their column");
        }
        let rows: Vec<usize> = (0..4000).collect();
        let imp = feature_importance(&trained.model, &d.columns, &rows, 1000).unwrap();
        assert_eq!(imp[0].feature, "visits", "{algorithm:?}: {imp:?}");
        assert_eq!(imp[2].feature, "noise", "{algorithm:?}: {imp:?}");
        assert_eq!(imp[0].direction, "higher values raise the score");
    }

    #[test]
    fn logistic_explanations_add_up_and_rank_the_planted_signal_first() {
        check_additivity_and_ranking(Algorithm::Logistic);
    }

    #[test]
    fn tree_explanations_add_up_and_rank_the_planted_signal_first() {
        check_additivity_and_ranking(Algorithm::Gbm);
    }

    /// Explained on threads, summed in sample order: the mean |SHAP| of exactly the evenly
    /// spaced sample, bit for bit what explaining those leads one by one gives.
    #[test]
    fn importance_is_the_exact_mean_abs_shap_of_its_evenly_spaced_sample() {
        let d = data(3000);
        let opts = TrainOptions { algorithm: Algorithm::Gbm, ..Default::default() };
        let trained = train_model(&d, &opts, &mut |_, _| Ok(())).unwrap();
        let rows: Vec<usize> = (0..3000).collect();
        let imp = feature_importance(&trained.model, &d.columns, &rows, 700).unwrap();
        // 3000 rows, at most 700: every 5th row, 600 leads (several tasks).
        let (mut raw, mut scratch, mut sums) = (Vec::new(), Vec::new(), vec![0.0; 3]);
        for r in (0..3000).step_by(5) {
            row_values(&d.columns, r, &mut raw);
            let e = explain(&trained.model, &raw, &mut scratch).unwrap();
            e.features.iter().enumerate().for_each(|(i, c)| sums[i] += c.contribution.abs());
        }
        for (i, name) in ["visits", "source", "noise"].iter().enumerate() {
            let got = imp.iter().find(|m| m.feature == *name).unwrap().importance;
            assert_eq!(got.to_bits(), (sums[i] / 600.0).to_bits(), "{name}: {got} vs {}", sums[i] / 600.0);
        }
    }

    #[test]
    fn reasons_read_like_sentences() {
        let e = Explanation {
            base_value: -1.0,
            features: vec![
                FeatureContribution {
                    feature: "Lead Source".into(),
                    value: Some("Reference".into()),
                    contribution: 1.2,
                    condition: "Lead Source = Reference".into(),
                },
                FeatureContribution {
                    feature: "TotalVisits".into(),
                    value: None,
                    contribution: -0.4,
                    condition: "TotalVisits is missing".into(),
                },
                FeatureContribution {
                    feature: "City".into(),
                    value: Some("Mumbai".into()),
                    contribution: 0.0,
                    condition: "City = Mumbai".into(),
                },
            ],
            log_odds: -0.2,
        };
        let (pos, neg) = top_reasons(&e, 5);
        assert_eq!(pos.len(), 1);
        assert_eq!(pos[0].reason, "Lead Source = Reference: raises the score");
        assert_eq!(neg[0].reason, "TotalVisits is missing: lowers the score");
    }
}
