//! `lead_scoring.train(...)`: reads a source, trains a model through the core pipeline and stores
//! it as a new version. Everything happens in the caller's transaction, so a failed train()
//! leaves no model row and no event behind.

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::api::training::fitting::fit;
use crate::api::training::recorded_split::{record_split, RecordedSplit};
use crate::api::training::sampled::aggregate_plan;
use crate::catalog::events::log_event;
use crate::catalog::models::{
    insert_version, latest_version_if_unchanged, lock_model_name, next_version, require_owner, NewVersion,
};
use crate::catalog::monitoring::latest_version_without_alert;
use crate::core::data::FeatureTransform;
use crate::core::data::SourceColumn;
use crate::core::data::{Part, SplitMethod};
use crate::core::models::LogisticPasses;
use crate::core::models::{encode_model, encode_scored_labels};
use crate::core::resources::PhaseTimes;
use crate::core::training::TrainedModel;
use crate::core::training::{check_label_type, check_labels, choose_features, id_like_columns, FeatureRequest};
use crate::core::training::{parse_train_options, regression_algorithm, Algorithm, Task, TrainOptions};
use crate::core::training::{EffectiveOptions, EngineReport};
use crate::errors::{core_ok, invalid, required};
use crate::executor::aggregate_engine::SqlPasses;
use crate::executor::attachment::attached_output_columns;
use crate::executor::outcome_filter::OutcomeRead;
use crate::executor::rows::{read_rows, KeyKind, LabelSpec, ReadRequest};
use crate::executor::source::{describe, find_column, primary_key_column, resolve_source, Source};

type TrainRow = (String, i32, String, bool, JsonB);

/// Trains a lead-scoring model on `source` (a table, view or SELECT query) to predict `label`,
/// stores it as the next version of `model_name` and returns its metrics per part.
#[pg_extern(volatile, parallel_unsafe)]
fn train(
    model_name: Option<&str>,
    source: Option<&str>,
    label: Option<&str>,
    features: default!(Option<Vec<Option<String>>>, "NULL"),
    algorithm: default!(Option<&str>, "'logistic'"),
    options: default!(Option<JsonB>, "'{}'"),
) -> TableIterator<
    'static,
    (name!(model_name, String), name!(version, i32), name!(algorithm, String), name!(deployed, bool), name!(metrics, JsonB)),
> {
    let name = required(model_name, "model_name").trim().to_string();
    if name.is_empty() || name.contains('@') {
        invalid(format!("model_name \"{name}\" is not valid: it must be non-empty and must not contain '@'"));
    }
    let algorithm = core_ok(Algorithm::parse(required(algorithm, "algorithm")));
    let given_options = options.map(|j| j.0).unwrap_or(Value::Null);
    let mut opts = core_ok(parse_train_options(&given_options));
    opts.algorithm = algorithm;
    core_ok(algorithm.check_options_apply(&given_options));
    let regression = opts.task == Task::Regression;
    if regression {
        // gbm regression is refused before any row is read.
        core_ok(regression_algorithm(algorithm));
    }
    // options.max_memory, else the lead_scoring.max_memory setting.
    if given_options.get("max_memory").is_none() {
        opts.max_memory = crate::settings::max_memory();
    }
    let source_text = required(source, "source");
    let label = required(label, "label");
    let explicit: Option<Vec<String>> =
        features.map(|list| list.into_iter().map(|f| f.unwrap_or_else(|| invalid("features must not contain NULL"))).collect());

    // Date features count days back from options.as_of, by default this transaction's start.
    opts.preprocess.as_of.get_or_insert_with(transaction_start_epoch);
    let src = resolve_source(source_text);
    let columns = describe(&src);
    let label_col = find_column(&columns, label, "label", &src);
    // options.retrain_on_alert: nothing to train until monitor() raises an alert for the model;
    // checked before any row is read, so a frequent scheduled run costs one catalog query.
    if opts.retrain_on_alert {
        if let Some((version, algorithm, deployed, metrics)) = latest_version_without_alert(&name) {
            require_owner(&name);
            notice!(
                "model \"{name}\": no monitor() alert since version {version} was trained; no new version stored (options.retrain_on_alert)"
            );
            return TableIterator::once((name, version, algorithm, deployed, metrics));
        }
    }
    // A regression's label is a number; with options.outcomes any label type is read as text
    // through the lists.
    if regression {
        check_numeric_label(label_col);
    } else if opts.outcomes.is_none() {
        core_ok(check_label_type(label_col, opts.positive_label.as_deref()));
    }
    // With options.use_feedback, read the labels through rep feedback (sql/feedback.rs).
    let src = crate::api::governance::feedback::with_feedback(&name, src, &columns, label_col, &opts);
    // options.outcomes, mature_after and since: rows per class counted, the rest filtered out.
    let created = opts.window.created_column.as_deref().map(|c| find_column(&columns, c, "created", &src));
    let outcome_read = OutcomeRead {
        label: label_col,
        positive_label: opts.positive_label.as_deref(),
        outcomes: opts.outcomes.as_ref(),
        window: &opts.window,
        created,
        as_of: opts.preprocess.as_of.expect("as_of is set above"),
    };
    let (outcome_counts, src) = match outcome_read.apply(&src) {
        Some((counts, filtered)) => {
            notice!("{}", counts.notice());
            (Some(counts), filtered)
        }
        None => (None, src),
    };
    let key = split_key_column(&opts, &columns, &src);
    for e in &opts.exclude {
        find_column(&columns, e, "excluded", &src);
    }
    // The label, the split column and the lead key (options.key) are never features.
    let reserved = |c: &SourceColumn| {
        c.name == label_col.name || key.is_some_and(|(k, _)| k.name == c.name) || opts.key.as_deref() == Some(c.name.as_str())
    };
    let scores_written = match (&explicit, src.relation.as_deref()) {
        (None, Some(relation)) => attached_output_columns(relation),
        _ => Vec::new(),
    };
    let request = FeatureRequest {
        explicit: explicit.as_ref().map(|list| list.iter().map(|f| find_column(&columns, f, "feature", &src)).collect()),
        exclude: &opts.exclude,
        scores_written: &scores_written,
    };
    let (mut chosen, notes) = core_ok(choose_features(&columns, request, &reserved));
    notes.iter().for_each(|n| notice!("{n}"));

    // The lead key the split is recorded by: options.key, else a table's primary key.
    let lead_key = match opts.key.as_deref() {
        Some(k) => Some(find_column(&columns, k, "key", &src)),
        None => primary_key_column(&src).and_then(|k| columns.iter().find(|c| c.name == k)),
    };

    // The aggregate engine reads a sample; what must hold for all rows is an aggregate.
    let part_column = opts.split.key_column().unwrap_or_default().to_string();
    let sampled = aggregate_plan(&src, label_col, &opts, &part_column);
    let row_columns: Vec<&str> = chosen.iter().map(|c| c.name.as_str()).chain([label_col.name.as_str(), &part_column]).collect();
    let sample = sampled.as_ref().map(|s| s.sample_source(lead_key, &row_columns));
    if let Some(s) = &sampled {
        s.check_labels(&label_col.name, &src.display);
    }
    let mut clock = PhaseTimes::start();
    let mut read = read_rows(&ReadRequest {
        source: sample.as_ref().unwrap_or(&src),
        features: chosen.clone(),
        label: Some(LabelSpec {
            column: label_col,
            positive: opts.positive_label.as_deref(),
            outcomes: opts.outcomes.as_ref(),
            numeric: regression,
        }),
        key,
        lead_key: lead_key.filter(|_| sampled.is_none()),
        memory: Some(&opts.max_memory),
    });
    // A seed's split must not depend on the order the source returns its rows in.
    let rows_read = crate::core::data::put_in_content_order_with(&mut read.data, &mut read.lead_keys);
    pgrx::check_for_interrupts!();
    if explicit.is_none() {
        drop_id_like_columns(&mut read.data.columns, &mut chosen);
    }
    if read.null_labels > 0 {
        notice!("skipped {} rows whose label \"{}\" is NULL", read.null_labels, label_col.name);
    }
    if read.nan_labels > 0 {
        notice!("skipped {} rows whose label \"{}\" is NaN", read.nan_labels, label_col.name);
    }
    if !regression && sampled.is_none() {
        core_ok(check_labels(&read.data.labels, &label_col.name, &src.display));
    }
    let rows_read = match &sampled {
        Some(s) => {
            let kept = read.data.columns.iter().map(|c| c.name.as_str());
            s.row_set_hash(&kept.chain([label_col.name.as_str(), &part_column]).collect::<Vec<_>>())
        }
        None => rows_read,
    };
    let fingerprint = source_fingerprint(rows_read, &read.data, &label_col.name, &opts);
    if opts.skip_unchanged {
        let stored_options = if given_options.is_null() { json!({}) } else { given_options.clone() };
        if let Some((version, algorithm, deployed, metrics)) = latest_version_if_unchanged(&name, &fingerprint, &stored_options) {
            require_owner(&name);
            notice!(
                "model \"{name}\": the rows, features, label and options are those of version {version}; no new version stored (options.skip_unchanged)"
            );
            return TableIterator::once((name, version, algorithm, deployed, metrics));
        }
    }
    clock.lap("read");
    crate::api::data::audit::check_leakage(&read.data, &opts);
    clock.lap("audit");
    pgrx::check_for_interrupts!();

    // options.engine fits a logistic model in memory or by aggregate passes over the source.
    // An aggregate engine asked for where it cannot apply is an error here.
    let aggregate = sampled.is_some() || core_ok(crate::core::training::uses_aggregate_engine(read.data.labels.len(), &opts));
    let mut passes = sampled.as_ref().map(|s| {
        let mut p = SqlPasses::new(&src, label_col, opts.positive_label.as_deref(), opts.outcomes.as_ref(), &part_column);
        p.full_data = Some((&s.rows, s.totals.parts[0]));
        p
    });
    let mut trained = fit(&read.data, &opts, passes.as_mut().map(|p| p as &mut dyn LogisticPasses));
    trained.summary.engine = EngineReport {
        engine: if aggregate { "aggregate" } else { "memory" },
        engine_passes: passes.as_ref().map(|p| p.passes),
        engine_pass_seconds: passes.as_ref().map(|p| (p.seconds * 1000.0).round() / 1000.0),
        engine_partial_states: passes.as_ref().map(|p| p.partial_states),
    };
    trained.summary.outcomes = outcome_counts;
    if let Some(report) = trained.summary.regression.as_mut() {
        report.skipped_labels = read.null_labels + read.nan_labels;
    }
    trained.summary.source_fingerprint = Some(fingerprint);
    // The core recorded its own phases (fit, calibrate, score_rows, metrics, importance).
    clock.restart();
    let recorded = match &sampled {
        Some(s) => {
            s.measure_all_rows(&mut trained, read.data.labels.len());
            clock.lap("metrics_all_rows");
            // The parts are the split column's values; the sample's keys would be a few of them.
            RecordedSplit { extra: Default::default(), keys: None }
        }
        None => {
            let recorded = record_split(key, lead_key, &read, &trained);
            clock.lap("record_split");
            recorded
        }
    };
    store(&name, &src, label_col, &opts, given_options, &read.data, &trained, recorded, clock)
}

/// A regression (`options.task = 'regression'`) learns a number: a boolean or text label is an
/// ERROR naming the column and its type.
fn check_numeric_label(label: &SourceColumn) {
    if !matches!(label.class, crate::core::data::ColumnClass::Numeric { .. }) {
        invalid(format!(
            "label column \"{}\" has type {}; options.task 'regression' needs a numeric label (a deal value, say)",
            label.name, label.type_name
        ));
    }
}

/// The content fingerprint of the rows read, with what else makes a retrain the same: the label,
/// the algorithm asked for, and `as_of` when a date feature counts days back from it.
fn source_fingerprint(
    rows: crate::core::data::RowSetHash,
    data: &crate::core::data::TrainingData,
    label: &str,
    opts: &TrainOptions,
) -> String {
    let dated = data.columns.iter().any(|c| c.kind == crate::core::data::FeatureKind::Date);
    let as_of = if dated { format!(" as_of {:?}", opts.preprocess.as_of) } else { String::new() };
    crate::core::data::content_fingerprint(rows, data, &format!("label {label} algorithm {:?}{as_of}", opts.algorithm))
}

fn split_key_column<'a>(opts: &TrainOptions, columns: &'a [SourceColumn], src: &Source) -> Option<(&'a SourceColumn, KeyKind)> {
    let kind = match opts.split.method {
        SplitMethod::Time { .. } => KeyKind::Time,
        SplitMethod::Group { .. } => KeyKind::Group,
        SplitMethod::Column { .. } => KeyKind::Column,
        _ => return None,
    };
    let name = opts.split.key_column().expect("keyed split methods name a column");
    Some((find_column(columns, name, "split", src), kind))
}

/// Drops the columns that look like row ids (with a NOTICE each) from the table read and the
/// chosen columns alike.
fn drop_id_like_columns(columns: &mut Vec<crate::core::data::Column>, chosen: &mut Vec<&SourceColumn>) {
    let (keep, notes) = id_like_columns(columns);
    notes.iter().for_each(|n| notice!("{n}"));
    let mut it = keep.iter();
    columns.retain(|_| *it.next().unwrap());
    let mut it = keep.iter();
    chosen.retain(|_| *it.next().unwrap());
    if columns.is_empty() {
        invalid("no feature columns are left to train on after skipping id-like columns");
    }
}

/// Seconds since 1970-01-01 UTC at the start of this transaction (what now() returns).
fn transaction_start_epoch() -> f64 {
    // TimestampTz counts microseconds from 2000-01-01.
    // SAFETY: reads the backend's transaction start time; train() runs inside a transaction.
    let micros = unsafe { pg_sys::GetCurrentTransactionStartTimestamp() };
    micros as f64 / 1e6 + 946_684_800.0
}

fn features_json(trained: &TrainedModel) -> Value {
    let p = &trained.model.preprocessor;
    let mut items: Vec<Value> = p.features.iter().map(FeatureTransform::describe).collect();
    items.extend(p.interactions.iter().map(|i| json!({"name": i.name(&p.features), "kind": "interaction", "inputs": i.width()})));
    Value::Array(items)
}

/// The validation part's predictions and labels, packed.
fn validation_predictions(trained: &TrainedModel) -> Vec<u8> {
    let rows = trained.parts.iter().enumerate().filter(|(_, p)| **p == Part::Validation).map(|(i, _)| i);
    let (scores, labels): (Vec<f64>, Vec<bool>) = rows.map(|i| (trained.predictions[i], trained.labels[i])).unzip();
    encode_scored_labels(&scores, &labels)
}

/// Stores the trained version with everything read and decided along the way.
#[allow(clippy::too_many_arguments)]
fn store(
    name: &str,
    src: &Source,
    label: &SourceColumn,
    opts: &TrainOptions,
    given_options: Value,
    data: &crate::core::data::TrainingData,
    trained: &TrainedModel,
    recorded: RecordedSplit,
    mut clock: PhaseTimes,
) -> TableIterator<'static, TrainRow> {
    let mut split = json!({
        "method": opts.split.method_name(),
        "column": opts.split.key_column(),
        "train": opts.split.train_fraction,
        "validation": opts.split.validation_fraction,
        "seed": opts.split.seed,
    });
    split.as_object_mut().expect("an object").extend(recorded.extra);
    let reference = crate::api::monitoring::drift::reference_json(data, trained);
    clock.lap("reference");
    lock_model_name(name);
    let version = next_version(name);
    let artifact = encode_model(&trained.model, name, version);
    clock.lap("encode");
    let mut training = trained.summary.clone();
    // This layer's phases (read, audit, record_split, reference, encode) join the core's.
    training.seconds.extend(clock.seconds());
    training.effective_options = Some(EffectiveOptions::of(opts));
    let given_options = if given_options.is_null() { json!({}) } else { given_options };

    // options.deploy decides (logged as a deploy_decision event and kept in the training
    // summary); the row is stored undeployed and deployed below through the registry.
    let (decision, decision_record) = crate::api::governance::versions::decide_deployment(name, version, opts, data, trained);
    let deploy = decision.deploy;
    if decision.pending {
        notice!("model \"{name}\" version {version} is pending approval; an approver deploys it with lead_scoring.approve('{name}', {version}, reason)");
    } else if opts.deploy_margin != 0.0 || opts.deploy_test_significant {
        let verb = if deploy { "deployed" } else { "not deployed" };
        notice!("model \"{name}\" version {version} {verb}: {}", decision.because);
    }
    let mut training = training.to_json();
    training["deploy_decision"] = decision_record;
    insert_version(NewVersion {
        name,
        version,
        algorithm: trained.model.estimator.algorithm(),
        label: &label.name,
        positive_label: opts.positive_label.as_deref(),
        source: &src.display,
        features: features_json(trained),
        options: given_options,
        split,
        training,
        metrics: trained.metrics.clone(),
        threshold: trained.threshold,
        tiers: trained.tiers.to_json(),
        artifact,
        validation_predictions: validation_predictions(trained),
        importance: serde_json::to_value(&trained.importance).expect("importance serializes"),
        reference,
        split_keys: recorded.keys,
        pending: decision.pending,
    });
    let test = &trained.metrics["test"];
    let detail = if trained.model.is_regression() {
        json!({"source": src.display, "rows": trained.summary.rows, "test_rmse": test["rmse"]})
    } else {
        json!({"source": src.display, "rows": trained.summary.rows, "test_roc_auc": test["roc_auc"]})
    };
    log_event(name, Some(version), "trained", detail, None);
    if deploy {
        crate::api::governance::versions::deploy_new_version(name, version);
    }
    crate::catalog::invalidation::models_changed();
    TableIterator::once((
        name.to_string(),
        version,
        trained.model.estimator.algorithm().to_string(),
        deploy,
        JsonB(trained.metrics.clone()),
    ))
}
