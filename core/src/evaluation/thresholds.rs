//! Decision thresholds tied to what a sales team cares about, chosen on held-out (validation)
//! predictions: the F1-maximizing threshold, the expected-value threshold (pursue a lead when
//! p x deal_value - cost_per_lead > 0, which needs calibrated probabilities), and the lowest
//! threshold that keeps precision at or above a target.

use serde::{Deserialize, Serialize};

use crate::core_err;
use crate::evaluation::metrics::{confusion, max_f1_threshold};
use crate::CoreResult;

/// A threshold and what it means on the validation leads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChoice {
    pub method: String,
    /// None for the per-lead value rule, which has no single probability threshold.
    pub threshold: Option<f64>,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Share of leads at or above the threshold (the ones sales would work).
    pub share_pursued: f64,
    /// Sum over pursued leads of p x deal_value - cost_per_lead, per 1000 leads (needs economics).
    pub expected_profit_per_1000: Option<f64>,
    /// The same with the actual outcomes: conversions x deal_value - pursued x cost, per 1000 leads.
    pub realized_profit_per_1000: Option<f64>,
}

/// Deal value and cost of working one lead, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Economics {
    pub deal_value: f64,
    pub cost_per_lead: f64,
}

impl Economics {
    pub fn new(deal_value: f64, cost_per_lead: f64) -> CoreResult<Economics> {
        if !(deal_value.is_finite() && deal_value > 0.0) {
            return Err(core_err!(InvalidArgument, "deal_value must be a positive number, got {deal_value}"));
        }
        if !(cost_per_lead.is_finite() && cost_per_lead >= 0.0) {
            return Err(core_err!(InvalidArgument, "cost_per_lead must be zero or a positive number, got {cost_per_lead}"));
        }
        if cost_per_lead >= deal_value {
            return Err(core_err!(
                InvalidArgument,
                "cost_per_lead ({cost_per_lead}) must be below deal_value ({deal_value}); no lead would be worth pursuing"
            ));
        }
        Ok(Economics { deal_value, cost_per_lead })
    }
}

fn describe(method: &str, threshold: f64, scores: &[f64], labels: &[bool], economics: Option<Economics>) -> ThresholdChoice {
    let c = confusion(scores, labels, threshold);
    let n = scores.len().max(1) as f64;
    let pursued = (c.tp + c.fp) as f64;
    let (expected, realized) = match economics {
        Some(e) => {
            let expected: f64 = scores.iter().filter(|&&s| s >= threshold).map(|&p| p * e.deal_value - e.cost_per_lead).sum();
            let realized = c.tp as f64 * e.deal_value - pursued * e.cost_per_lead;
            (Some(expected * 1000.0 / n), Some(realized * 1000.0 / n))
        }
        None => (None, None),
    };
    ThresholdChoice {
        method: method.to_string(),
        threshold: Some(threshold),
        precision: c.precision(),
        recall: c.recall(),
        f1: c.f1(),
        share_pursued: pursued / n,
        expected_profit_per_1000: expected,
        realized_profit_per_1000: realized,
    }
}

/// The threshold that maximizes F1.
pub fn f1_threshold(scores: &[f64], labels: &[bool], economics: Option<Economics>) -> CoreResult<ThresholdChoice> {
    let (t, _) = max_f1_threshold(scores, labels)
        .ok_or_else(|| core_err!(InsufficientData, "no converted leads to choose a threshold on"))?;
    Ok(describe("f1", t, scores, labels, economics))
}

/// Pursue a lead when p x deal_value - cost_per_lead > 0, i.e. p above cost / value. Only
/// meaningful on calibrated probabilities.
pub fn expected_value_threshold(scores: &[f64], labels: &[bool], economics: Economics) -> ThresholdChoice {
    let t = economics.cost_per_lead / economics.deal_value;
    describe("expected_value", t, scores, labels, Some(economics))
}

/// Pursue a lead when p x its own value - cost_per_lead > 0, each lead's value from `values`
/// (a regression model's predicted deal value; a negative one counts as 0). No probability
/// threshold: a lead of higher value is worth pursuing at a lower probability. Profits per 1000
/// leads: expected, sum of p x value - cost over the pursued leads; realized, the values of the
/// pursued leads that converted minus their cost.
pub fn per_lead_value_choice(scores: &[f64], labels: &[bool], values: &[f64], cost_per_lead: f64) -> CoreResult<ThresholdChoice> {
    if !(cost_per_lead.is_finite() && cost_per_lead >= 0.0) {
        return Err(core_err!(InvalidArgument, "cost_per_lead must be zero or a positive number, got {cost_per_lead}"));
    }
    if scores.len() != labels.len() || scores.len() != values.len() {
        return Err(core_err!(
            Internal,
            "per-lead values: {} scores, {} labels, {} values",
            scores.len(),
            labels.len(),
            values.len()
        ));
    }
    let (mut tp, mut fp, mut positives) = (0usize, 0usize, 0usize);
    let (mut expected, mut realized) = (0.0, 0.0);
    for ((&p, &y), &v) in scores.iter().zip(labels).zip(values) {
        positives += y as usize;
        let value = v.max(0.0);
        if p * value - cost_per_lead > 0.0 {
            if y {
                tp += 1;
                realized += value;
            } else {
                fp += 1;
            }
            expected += p * value - cost_per_lead;
            realized -= cost_per_lead;
        }
    }
    let n = scores.len().max(1) as f64;
    let pursued = tp + fp;
    let precision = if pursued > 0 { tp as f64 / pursued as f64 } else { 0.0 };
    let recall = if positives > 0 { tp as f64 / positives as f64 } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    Ok(ThresholdChoice {
        method: "expected_value".to_string(),
        threshold: None,
        precision,
        recall,
        f1,
        share_pursued: pursued as f64 / n,
        expected_profit_per_1000: Some(expected * 1000.0 / n),
        realized_profit_per_1000: Some(realized * 1000.0 / n),
    })
}

/// The lowest observed threshold whose precision is at least `target` (so recall is as high as
/// that precision allows).
pub fn precision_target_threshold(
    scores: &[f64],
    labels: &[bool],
    target: f64,
    economics: Option<Economics>,
) -> CoreResult<ThresholdChoice> {
    if !(target > 0.0 && target < 1.0) {
        return Err(core_err!(InvalidArgument, "precision target must be between 0 and 1 (exclusive), got {target}"));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut seen, mut best) = (0usize, 0usize, None);
    let mut i = 0;
    while i < order.len() {
        // Move past every lead tied at this score: a threshold admits all of them.
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            tp += labels[order[i]] as usize;
            seen += 1;
            i += 1;
        }
        if tp as f64 / seen as f64 >= target {
            best = Some(s);
        }
    }
    let t =
        best.ok_or_else(|| core_err!(InvalidArgument, "no threshold reaches a precision of {target} on the validation leads"))?;
    Ok(describe("precision", t, scores, labels, economics))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Vec<f64>, Vec<bool>) {
        (vec![0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1], vec![true, true, false, true, false, false, true, false])
    }

    #[test]
    fn expected_value_pursues_leads_worth_their_cost() {
        let (s, l) = data();
        let e = Economics::new(1000.0, 350.0).unwrap();
        let c = expected_value_threshold(&s, &l, e);
        assert!((c.threshold.unwrap() - 0.35).abs() < 1e-12);
        assert_eq!(c.share_pursued, 0.625); // 0.9 .. 0.4
                                            // expected: (900+800+700+600+400 - 5*350) / 8 leads * 1000
        assert!((c.expected_profit_per_1000.unwrap() - (3400.0 - 1750.0) / 8.0 * 1000.0).abs() < 1e-6);
        // realized: 3 conversions among the 5 pursued
        assert!((c.realized_profit_per_1000.unwrap() - (3000.0 - 1750.0) / 8.0 * 1000.0).abs() < 1e-6);
    }

    #[test]
    fn precision_target_takes_the_lowest_threshold_that_keeps_it() {
        let (s, l) = data();
        let c = precision_target_threshold(&s, &l, 0.75, None).unwrap();
        assert_eq!(c.threshold, Some(0.6)); // top 4: 3 of 4 converted
        assert_eq!(c.precision, 0.75);
        assert!(precision_target_threshold(&s, &l, 1.5, None).is_err());
        let none = vec![false; 8];
        assert!(precision_target_threshold(&s, &none, 0.5, None).is_err());
    }

    #[test]
    fn f1_threshold_reports_its_operating_point() {
        let (s, l) = data();
        let c = f1_threshold(&s, &l, None).unwrap();
        assert_eq!(c.method, "f1");
        assert!(c.f1 > 0.0 && c.expected_profit_per_1000.is_none());
    }

    #[test]
    fn per_lead_values_price_each_lead() {
        let (s, l) = data();
        // Values: leads 1-4 worth 1000, the rest 5000 (lead 8: negative, counted as 0).
        let v = [1000.0, 1000.0, 1000.0, 1000.0, 5000.0, 5000.0, 5000.0, -20.0];
        let c = per_lead_value_choice(&s, &l, &v, 350.0).unwrap();
        // p x value: 900, 800, 700, 600, 2000, 1500, 1000, 0: all but the last beat 350.
        assert_eq!((c.threshold, c.share_pursued), (None, 7.0 / 8.0));
        let expected = (900.0 + 800.0 + 700.0 + 600.0 + 2000.0 + 1500.0 + 1000.0 - 7.0 * 350.0) / 8.0 * 1000.0;
        assert!((c.expected_profit_per_1000.unwrap() - expected).abs() < 1e-6);
        // Converted among the pursued: leads 1, 2, 4 (1000 each) and 7 (5000).
        let realized = (3000.0 + 5000.0 - 7.0 * 350.0) / 8.0 * 1000.0;
        assert!((c.realized_profit_per_1000.unwrap() - realized).abs() < 1e-6);
        assert_eq!((c.precision, c.recall), (4.0 / 7.0, 1.0));
        // With one value for every lead it pursues what the single-threshold rule does.
        let flat = per_lead_value_choice(&s, &l, &[1000.0; 8], 350.0).unwrap();
        let single = expected_value_threshold(&s, &l, Economics::new(1000.0, 350.0).unwrap());
        assert_eq!(flat.share_pursued, single.share_pursued);
        assert!((flat.expected_profit_per_1000.unwrap() - single.expected_profit_per_1000.unwrap()).abs() < 1e-9);
        assert!(per_lead_value_choice(&s, &l, &v, -1.0).is_err());
    }

    #[test]
    fn economics_are_validated() {
        assert!(Economics::new(-5.0, 1.0).is_err());
        assert!(Economics::new(100.0, -1.0).is_err());
        assert!(Economics::new(100.0, 100.0).is_err());
        assert!(Economics::new(f64::NAN, 1.0).is_err());
    }
}
