//! `experiment_report()`: per arm the leads, the leads worked, conversions and the conversion
//! rate with its Wilson interval, the median time to conversion and the deal value; on the
//! treatment row the difference with the control arm, its p-value, the test and a verdict.

use pgrx::prelude::*;

use crate::api::experiments::options::parse_options;
use crate::catalog::experiments::{assigned_leads, load_experiment, require_experiment_owner, AssignedLead};
use crate::core::evaluation::{compare_arms, median, verdict, wilson_interval};
use crate::errors::{quote_ident, required};

const CONFIDENCE: f64 = 0.95;
const ALPHA: f64 = 0.05;

/// One arm's numbers.
struct ArmSummary {
    leads: u64,
    worked: u64,
    conversions: u64,
    median_days: Option<f64>,
    mean_value: Option<f64>,
    total_value: Option<f64>,
}

/// Summarises one arm's leads, sorted by routed score (highest first): the first
/// `ceil(capacity * leads)` are worked, and only a worked lead's conversion counts.
fn summarise(leads: &[&AssignedLead], capacity: f64) -> ArmSummary {
    let n = leads.len() as u64;
    let worked = ((capacity * n as f64).ceil() as u64).min(n);
    let converted: Vec<&&AssignedLead> = leads[..worked as usize].iter().filter(|l| l.converted == Some(true)).collect();
    let days: Vec<f64> = converted.iter().filter_map(|l| l.days_to_conversion).collect();
    let values: Vec<f64> = converted.iter().filter_map(|l| l.deal_value).collect();
    let total: f64 = values.iter().sum();
    ArmSummary {
        leads: n,
        worked,
        conversions: converted.len() as u64,
        median_days: median(&days),
        mean_value: (!values.is_empty()).then(|| total / values.len() as f64),
        total_value: (!values.is_empty()).then_some(total),
    }
}

/// The report of experiment `name` (its owner, members and superusers only): one row per arm.
/// With `options.capacity` below 1 only the top share of each arm by routed score counts as
/// worked, which is how an experiment is simulated on leads whose outcomes are already known.
#[pg_extern(stable, parallel_unsafe)]
fn experiment_report(
    name: Option<&str>,
) -> TableIterator<
    'static,
    (
        name!(arm, String),
        name!(routing, String),
        name!(leads, i64),
        name!(worked, i64),
        name!(conversions, i64),
        name!(conversion_rate, Option<f64>),
        name!(rate_low, Option<f64>),
        name!(rate_high, Option<f64>),
        name!(median_days_to_conversion, Option<f64>),
        name!(mean_deal_value, Option<f64>),
        name!(total_deal_value, Option<f64>),
        name!(difference, Option<f64>),
        name!(difference_low, Option<f64>),
        name!(difference_high, Option<f64>),
        name!(p_value, Option<f64>),
        name!(test, Option<String>),
        name!(verdict, Option<String>),
    ),
> {
    let e = load_experiment(required(name, "name").trim());
    require_experiment_owner(&e);
    let opts = parse_options(&e.options);
    let col = |c: &Option<String>| c.as_ref().map(|c| format!("t.{}", quote_ident(c)));
    let days = match (col(&opts.created_column), col(&opts.converted_at_column)) {
        (Some(created), Some(converted)) => format!(
            "pg_catalog.date_part('epoch', {converted}::timestamptz OPERATOR(pg_catalog.-) {created}::timestamptz) OPERATOR(pg_catalog./) 86400"
        ),
        _ => "NULL".to_string(),
    };
    let value = col(&opts.value_column).unwrap_or_else(|| "NULL".to_string());
    let rows = assigned_leads(&e, &format!("t.{}", quote_ident(&opts.outcome)), &days, &value);
    let arm_rows = |arm: &str| rows.iter().filter(|r| r.arm == arm).collect::<Vec<_>>();
    let treatment = summarise(&arm_rows("treatment"), opts.capacity);
    let control = summarise(&arm_rows("control"), opts.capacity);
    let routing = |arm: &str| e.arms.get(arm).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let label = |arm: &str| {
        let r = routing(arm);
        if r == "model" {
            format!("{arm} (model {})", e.model)
        } else {
            format!("{arm} ({r})")
        }
    };
    let rate = |s: &ArmSummary| (s.leads > 0).then(|| s.conversions as f64 / s.leads as f64);
    let cmp = compare_arms((treatment.conversions, treatment.leads), (control.conversions, control.leads), CONFIDENCE);
    let sentence = match &cmp {
        Some(c) => {
            let mut s =
                verdict(&label("treatment"), &label("control"), (rate(&treatment).unwrap(), rate(&control).unwrap()), c, ALPHA);
            if let Some(planned) = e.sample_size {
                if e.assigned < planned && e.status == "running" {
                    s.push_str(&format!(
                        " The planned sample size is not reached yet ({} of {planned} leads): a test read early overstates significance.",
                        e.assigned
                    ));
                }
            }
            s
        }
        None => "An arm has no leads yet: nothing to compare.".to_string(),
    };
    let row = |arm: &str, s: &ArmSummary, with_test: bool| {
        let (low, high) = wilson_interval(s.conversions, s.leads, CONFIDENCE).unzip();
        let c = cmp.as_ref().filter(|_| with_test);
        (
            arm.to_string(),
            routing(arm),
            s.leads as i64,
            s.worked as i64,
            s.conversions as i64,
            rate(s),
            low,
            high,
            s.median_days,
            s.mean_value,
            s.total_value,
            c.map(|c| c.difference),
            c.map(|c| c.ci_low),
            c.map(|c| c.ci_high),
            c.map(|c| c.p_value),
            c.map(|c| c.test.name().to_string()),
            with_test.then(|| sentence.clone()),
        )
    };
    TableIterator::new(vec![row("treatment", &treatment, true), row("control", &control, false)])
}
