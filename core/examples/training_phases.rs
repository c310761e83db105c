//! The core pipeline's phases (fit, calibrate, score_rows, metrics, importance) for
//! bench/gbm_vs_lightgbm.sh's model, without PostgreSQL: the leads of `bench/make_leads.py`
//! read from its CSV, a random 70/10/20 split, boosted trees of 300 trees, learning rate 0.05,
//! 31 leaves, max depth 64, no early stopping, 2 threads. Prints the wall time of each phase and
//! the test ROC AUC. Run it under `perf record` or `/usr/bin/time` to see where CPU goes (an
//! environment variable such as OMP_WAIT_POLICY applies to LightGBM's threads here as in a
//! backend).
//!
//! `python3 bench/make_leads.py 100000 7 > /tmp/leads.csv`
//! `cargo run --release -p lead_scoring_core --example training_phases -- /tmp/leads.csv`

use std::time::Instant;

use lead_scoring_core::data::{CategoricalBuilder, Column, ColumnData, FeatureKind, SplitKey, SplitMethod, TrainingData};
use lead_scoring_core::training::{train_model, Algorithm, TrainOptions};

/// make_leads.py's columns: id, n0..n8, c0..c9, part, converted.
const NUMERIC: usize = 9;
const TEXT: usize = 10;

fn read_leads(path: &str) -> TrainingData {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let mut numbers: Vec<Vec<Option<f64>>> = vec![Vec::new(); NUMERIC];
    let mut texts: Vec<CategoricalBuilder> = (0..TEXT).map(|_| CategoricalBuilder::default()).collect();
    let mut labels = Vec::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 2 + NUMERIC + TEXT + 1, "not a make_leads.py row: {line}");
        // An empty field is a missing number.
        numbers.iter_mut().enumerate().for_each(|(j, col)| col.push(fields[1 + j].parse().ok()));
        texts.iter_mut().enumerate().for_each(|(j, col)| col.push(Some(fields[1 + NUMERIC + j])));
        labels.push(fields[2 + NUMERIC + TEXT] == "true");
    }
    let numeric = numbers.into_iter().enumerate().map(|(j, v)| Column {
        name: format!("n{j}"),
        kind: FeatureKind::Numeric,
        data: ColumnData::Numeric(v),
    });
    let text = texts.into_iter().enumerate().map(|(j, b)| Column {
        name: format!("c{j}"),
        kind: FeatureKind::Categorical,
        data: b.finish(),
    });
    TrainingData { columns: numeric.chain(text).collect(), labels, targets: Vec::new(), split_key: SplitKey::None }
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: training_phases LEADS.csv");
    let data = read_leads(&path);
    let mut opts = TrainOptions { algorithm: Algorithm::Gbm, ..Default::default() };
    (opts.split.method, opts.split.train_fraction, opts.split.validation_fraction) = (SplitMethod::Random, 0.7, 0.1);
    (opts.gbm.trees, opts.gbm.learning_rate, opts.gbm.max_leaves, opts.gbm.max_depth) = (300, 0.05, 31, 64);
    (opts.gbm.early_stopping_rounds, opts.gbm.threads) = (None, 2);
    let started = Instant::now();
    let trained = train_model(&data, &opts, &mut |_, _| Ok(())).expect("training succeeds");
    println!("{} leads: {:.3} s", data.labels.len(), started.elapsed().as_secs_f64());
    for (phase, seconds) in &trained.summary.seconds {
        println!("  {phase:<12} {seconds:.3} s");
    }
    println!("test ROC AUC {}", trained.metrics["test"]["roc_auc"]);
}
