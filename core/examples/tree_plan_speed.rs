//! Nanoseconds per lead of scoring a boosted model from raw values two ways, alternating, on the
//! same model and leads: the general path (`LeadModel::probability`: the preprocessing fills a
//! row of model inputs, the leaf masks search each input's bin) and the tree plan
//! (`serving/tree_plan.rs`: bins straight from the raw values). The model is shaped as
//! bench/score_speed_gbm.sh trains it: 9 numbers and 10 text columns (3 to 48 levels, some
//! placeholders and NULLs), 300 trees of up to 31 leaves. Every probability is checked bit for bit.
//!
//! `cargo run --release -p lead_scoring_core --example tree_plan_speed -- [LEADS] [ROUNDS]`

use std::hint::black_box;
use std::time::Instant;

use lead_scoring_core::data::{FeatureKind, FeatureTransform, Preprocessor, RawValue, Scaling, SeededRng};
use lead_scoring_core::models::{fit_gbm, Calibration, Estimator, GbmData, GbmOptions, LeadModel};
use lead_scoring_core::serving::ScoringPlan;

const NUMERIC: usize = 9;
const TEXT: usize = 10;

type Lead = (Vec<Option<f64>>, Vec<Option<String>>);

/// A lead's raw values in feature order: the numbers, then the texts.
fn as_raw(lead: &Lead) -> Vec<RawValue<'_>> {
    let nums = lead.0.iter().map(|x| x.map_or(RawValue::Null, RawValue::Number));
    nums.chain(lead.1.iter().map(|t| t.as_deref().map_or(RawValue::Null, RawValue::Text))).collect()
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a whole number"));
    let (n, rounds) = (args.next().unwrap_or(20_000), args.next().unwrap_or(20));
    let levels: Vec<Vec<String>> =
        (0..TEXT).map(|j| (0..3 + 5 * j).map(|l| format!("level {l} of column {j}")).collect()).collect();
    let mut features: Vec<FeatureTransform> = (0..NUMERIC)
        .map(|j| FeatureTransform::Numeric {
            name: format!("n{j}"),
            log: j % 3 == 0,
            scaling: Scaling { median: 5.0, mean: 5.0, scale: 3.0, indicator: false },
        })
        .collect();
    features.extend((0..TEXT).map(|j| FeatureTransform::TextCodes {
        name: format!("t{j}"),
        kind: FeatureKind::Categorical,
        levels: levels[j].clone(),
    }));
    let pre = Preprocessor {
        features,
        missing_values: vec!["Select".into()],
        impute_numeric: false,
        interactions: Vec::new(),
        level_index: Default::default(),
    };
    // Raw leads as owned text, then borrowed as RawValues.
    let mut rng = SeededRng::new(3);
    let mut u = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut raw_leads: Vec<Lead> = Vec::new();
    for _ in 0..n.max(20_000) {
        let nums = (0..NUMERIC).map(|j| if u() < 0.1 { None } else { Some(u() * 10.0 * (j + 1) as f64) }).collect();
        let texts = (0..TEXT)
            .map(|j| match u() {
                p if p < 0.05 => None,
                p if p < 0.1 => Some("Select".to_string()),
                _ => Some(levels[j][(u() * levels[j].len() as f64) as usize].clone()),
            })
            .collect();
        raw_leads.push((nums, texts));
    }
    let cols = pre.width();
    let (mut x, mut y, mut inputs) = (Vec::new(), Vec::new(), vec![0.0; cols]);
    for lead in &raw_leads[..20_000] {
        pre.transform_into(&as_raw(lead), &mut inputs).unwrap();
        let z: f64 = inputs
            .iter()
            .enumerate()
            .map(|(j, v)| match j {
                _ if v.is_nan() => 0.3,
                j if j < NUMERIC => v * if j % 2 == 0 { 0.3 } else { -0.3 },
                j => ((v * 7.0 + j as f64) % 5.0 - 2.0) * 0.15,
            })
            .sum();
        y.push(u() < 1.0 / (1.0 + (-z).exp()));
        x.extend_from_slice(&inputs);
    }
    let data =
        GbmData { x, rows: 20_000, cols, y, weights: vec![1.0; 20_000], categorical: (NUMERIC..cols).collect(), targets: None };
    let opts =
        GbmOptions { trees: 300, max_depth: 64, max_leaves: 31, early_stopping_rounds: None, threads: 2, ..Default::default() };
    let gbm = fit_gbm(data, None, &opts, &mut |_, _| Ok(())).expect("LightGBM fits");
    let model = LeadModel {
        preprocessor: pre,
        estimator: Estimator::Gbm(gbm),
        calibration: Calibration::Platt { a: -1.0, b: 0.0 },
        input_means: vec![0.0; cols],
        segments: None,
    };
    let plan = ScoringPlan::new(&model).expect("a tree plan");
    let Estimator::Gbm(gbm) = &model.estimator else { unreachable!() };
    println!("leaf masks {} KiB", gbm.leaf_masks().expect("leaf masks").bytes() / 1024);
    let leads: Vec<Vec<RawValue<'_>>> = raw_leads[..n].iter().map(as_raw).collect();
    let mut scratch = Vec::new();
    let (mut general, mut planned) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        let start = Instant::now();
        let a: Vec<u64> =
            leads.iter().map(|r| black_box(model.probability(black_box(r), &mut scratch).unwrap()).to_bits()).collect();
        general = general.min(start.elapsed().as_nanos() as f64 / n as f64);
        let start = Instant::now();
        let b: Vec<u64> = leads.iter().map(|r| black_box(plan.probability(&model, black_box(r)).unwrap()).to_bits()).collect();
        planned = planned.min(start.elapsed().as_nanos() as f64 / n as f64);
        assert!(a == b, "the plan differs from the general path");
    }
    println!("{n} leads, best of {rounds} rounds each, alternating");
    println!("{:<52} {general:>8.1} ns a lead", "general path (preprocessing row, then leaf masks)");
    println!("{:<52} {planned:>8.1} ns a lead", "tree plan (bins straight from raw values)");
}
