//! A model card in markdown, from the stored catalog row of one version and its event history:
//! intended use, training data, features, algorithm and hyperparameters, metrics per part,
//! threshold and tiers, known limitations, change history.

use std::fmt::Write;

use serde_json::Value;

/// A regression model's metrics per part and its value tiers (no threshold: it predicts a value).
fn regression_metrics_section(md: &mut String, c: &CardInput) {
    let _ = writeln!(md, "\n## Metrics\n\ntask: regression (the model predicts the label's value)\n");
    let _ = writeln!(md, "| part | rows | RMSE | MAE | R² | mean label | median label | mean prediction |");
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- | --- |");
    for part in ["train", "validation", "test"] {
        let m = &c.metrics[part];
        let _ = writeln!(
            md,
            "| {part} | {} | {} | {} | {} | {} | {} | {} |",
            num(&m["rows"]),
            num(&m["rmse"]),
            num(&m["mae"]),
            num(&m["r2"]),
            num(&m["mean_label"]),
            num(&m["median_label"]),
            num(&m["mean_prediction"])
        );
    }
    let _ = writeln!(md, "\n## Value tiers\n");
    for t in c.tiers.as_array().into_iter().flatten() {
        let _ =
            writeln!(md, "- tier **{}** from predicted value {}", text(t["name"].as_str().unwrap_or("?")), num(&t["min_score"]));
    }
}

/// What the card is written from (the catalog row's fields, as stored).
pub struct CardInput {
    pub name: String,
    pub version: i32,
    pub deployed: bool,
    pub retired: bool,
    pub algorithm: String,
    pub label: String,
    pub positive_label: Option<String>,
    /// The label values that mean converted under options.outcomes (empty without it).
    pub converted_values: Vec<String>,
    pub source: String,
    pub created_at: String,
    pub created_by: String,
    /// (earliest, latest) of the time split column in the source, when the split is by time.
    pub time_window: Option<(String, String)>,
    pub features: Value,
    pub split: Value,
    pub training: Value,
    pub metrics: Value,
    pub threshold: f64,
    pub tiers: Value,
    /// Every event of the name, oldest first: `decision` events form the Decisions section,
    /// the rest the change history.
    pub events: Vec<CardEvent>,
    /// `models.approval` of the version: `pending`, `approved`, `rejected`, or none.
    pub approval: Option<String>,
    /// What the model's owner wrote on the card (`set_card()`).
    pub edited: EditedCard,
}

/// The card fields people write (`lead_scoring.set_card()`); `None` when never set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditedCard {
    /// Who answers for the model (a person or a team, as written).
    pub owner: Option<String>,
    pub intended_use: Option<String>,
    pub limitations: Option<String>,
}

/// One line of the change history.
pub struct CardEvent {
    pub at: String,
    pub event: String,
    pub version: Option<i32>,
    pub actor: String,
    pub reason: Option<String>,
    pub detail: Value,
}

fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        Some(x) => format!("{x:.4}"),
        None if v.is_null() => "n/a".into(),
        None => v.to_string(),
    }
}

/// Escapes `|` so a value cannot break a markdown table.
fn cell(s: &str) -> String {
    text(s).replace('|', "\\|")
}

/// A name or value as markdown text: `&`, `<` and `>` as entities, so that a markdown
/// renderer shows them rather than taking them for HTML (a tier named `<script>`), and no
/// line breaks.
fn text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace(['\n', '\r'], " ")
}

/// A name as a code span, or as text when it holds a backtick that would end the span early.
fn code(s: &str) -> String {
    if s.contains('`') {
        text(s)
    } else {
        format!("`{}`", s.replace(['\n', '\r'], " "))
    }
}

/// The rows per outcome class, label maturity and the data window (options.outcomes,
/// mature_after and since), when the version was trained with them.
fn outcome_lines(md: &mut String, o: &Value) {
    if !o.is_object() {
        return;
    }
    let _ = writeln!(
        md,
        "- outcomes: {} converted, {} not converted, {} open (excluded)",
        num(&o["converted"]),
        num(&o["not_converted"]),
        num(&o["open"])
    );
    let column = o["created_column"].as_str().map(code).unwrap_or_default();
    if let (Some(after), Some(mature)) = (o["immature_after"].as_str(), o["mature_after"].as_str()) {
        let _ = writeln!(
            md,
            "- label maturity: {} rows not converted and created ({column}) after {after} (as-of minus {}) excluded as too young",
            num(&o["immature"]),
            text(mature)
        );
    }
    if let Some(since) = o["since"].as_str() {
        let _ = writeln!(
            md,
            "- data window: rows created ({column}) from {} on; {} older rows dropped",
            text(since),
            num(&o["before_since"])
        );
    }
}

/// A version's state as the card and the report name it: deployed, retired, pending approval,
/// rejected or not deployed (`approval` is `models.approval`).
pub fn version_status(deployed: bool, retired: bool, approval: Option<&str>) -> &'static str {
    match (deployed, retired, approval) {
        (true, _, _) => "deployed",
        (_, true, _) => "retired",
        (_, _, Some("pending")) => "pending approval",
        (_, _, Some("rejected")) => "rejected",
        _ => "not deployed",
    }
}

/// Renders the card.
pub fn render_model_card(c: &CardInput) -> String {
    let mut md = String::new();
    let status = version_status(c.deployed, c.retired, c.approval.as_deref());
    let positive = match (&c.positive_label, c.converted_values.as_slice()) {
        (Some(p), _) => format!(" = '{p}'"),
        (None, []) => String::new(),
        (None, values) => format!(" in ({})", values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")),
    };
    let _ = writeln!(md, "# Model card: {} (version {}, {status})\n", text(&c.name), c.version);
    let _ = writeln!(md, "Trained {} by {} on {}.\n", c.created_at, text(&c.created_by), code(&c.source));

    if let Some(owner) = &c.edited.owner {
        let _ = writeln!(md, "Owner: {}.\n", text(owner));
    }

    let _ = writeln!(md, "## Intended use\n");
    if let Some(intended) = &c.edited.intended_use {
        let _ = writeln!(md, "{}\n", text(intended));
    }
    let _ = writeln!(
        md,
        "Ranks sales leads by the probability that {} (the lead converts), so reps follow up the most \
         promising leads first and route them by tier. Use it on leads like those in {}; it is a prioritisation \
         aid for sales, not a decision about a person, and its scores mean what they say only while new leads \
         resemble the training data.\n",
        code(&format!("{}{positive}", c.label)),
        code(&c.source)
    );

    let _ = writeln!(md, "## Training data\n");
    let parts = &c.training["parts"];
    let _ = writeln!(md, "- source: {}, {} labelled rows", code(&c.source), num(&c.training["rows"]));
    let _ = writeln!(md, "- split: {}", text(&c.split.to_string()));
    if let Some((from, to)) = &c.time_window {
        let _ = writeln!(md, "- data window (split column in the source now): {from} to {to}");
    }
    outcome_lines(&mut md, &c.training["outcomes"]);
    for part in ["train", "validation", "test"] {
        let _ = writeln!(md, "- {part}: {} rows, {} converted", num(&parts[part]["rows"]), num(&parts[part]["positives"]));
    }

    let _ = writeln!(md, "\n## Features\n\n| feature | kind | preprocessing |\n| --- | --- | --- |");
    for f in c.features.as_array().into_iter().flatten() {
        let name = f["name"].as_str().unwrap_or("?");
        let kind = f["kind"].as_str().unwrap_or("?");
        let scaled = |what: &str| {
            format!(
                "{what}median {} imputed{}, scaled by mean {} and sd {}",
                num(&f["median"]),
                if f["missing_indicator"].as_bool() == Some(true) { " with a missing indicator" } else { "" },
                num(&f["mean"]),
                num(&f["scale"])
            )
        };
        let how = if let Some(bins) = f["bins"].as_array() {
            format!("{} quantile bins, one-hot, plus (missing)", bins.len())
        } else if kind == "numeric" {
            scaled(if f["log"].as_bool() == Some(true) { "log-scaled, " } else { "" })
        } else if kind == "date" {
            scaled("days before the as-of time, ") + "; day of week one-hot"
        } else if kind == "interaction" {
            format!("interaction term, {} inputs", num(&f["inputs"]))
        } else {
            let levels = f["levels"].as_array().map_or(0, Vec::len);
            format!("one-hot, {levels} levels plus (other)")
        };
        let _ = writeln!(md, "| {} | {kind} | {} |", cell(name), cell(&how));
    }

    let _ = writeln!(md, "\n## Algorithm and hyperparameters\n");
    let _ = writeln!(md, "- algorithm: {}", c.algorithm);
    for key in ["alpha", "class_weight", "calibration", "iterations", "converged", "inputs"] {
        let _ = writeln!(md, "- {key}: {}", num(&c.training[key]));
    }
    if let Some(eff) = c.training["effective_options"].as_object() {
        let _ = writeln!(md, "- effective options: {}", Value::Object(eff.clone()));
    }

    if let Some(segments) = c.training["segments"]["segments"].as_array() {
        let column = c.training["segments"]["column"].as_str().unwrap_or("?");
        let _ = writeln!(
            md,
            "\n## Segments\n\nOne model per value of `{}`; other values use the global model.\n\n| segment | model | training rows | validation ROC AUC | global model's |\n| --- | --- | --- | --- | --- |",
            cell(column)
        );
        for s in segments {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                cell(s["segment"].as_str().unwrap_or("?")),
                s["model"].as_str().unwrap_or("?"),
                num(&s["training_rows"]),
                num(&s["validation_roc_auc"]),
                num(&s["global_validation_roc_auc"])
            );
        }
    }

    if c.metrics["test"].get("rmse").is_some() {
        regression_metrics_section(&mut md, c);
    } else {
        let _ = writeln!(md, "\n## Metrics\n\n| part | rows | ROC AUC | PR AUC | log loss | Brier | precision | recall | F1 |");
        let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for part in ["train", "validation", "test"] {
            let m = &c.metrics[part];
            let _ = writeln!(
                md,
                "| {part} | {} | {} | {} | {} | {} | {} | {} | {} |",
                num(&m["rows"]),
                num(&m["roc_auc"]),
                num(&m["pr_auc"]),
                num(&m["log_loss"]),
                num(&m["brier"]),
                num(&m["precision"]),
                num(&m["recall"]),
                num(&m["f1"])
            );
        }

        let _ = writeln!(
            md,
            "\n## Threshold and tiers\n\n- threshold: {:.4} (a lead at or above it is predicted to convert)",
            c.threshold
        );
        for t in c.tiers.as_array().into_iter().flatten() {
            let _ = writeln!(md, "- tier **{}** from score {}", text(t["name"].as_str().unwrap_or("?")), num(&t["min_score"]));
        }
    }

    let _ = writeln!(md, "\n## Known limitations\n");
    if let Some(known) = &c.edited.limitations {
        let _ = writeln!(md, "- {}", text(known));
    }
    for line in limitations(c) {
        let _ = writeln!(md, "- {line}");
    }

    let (decisions, changes): (Vec<&CardEvent>, Vec<&CardEvent>) = c.events.iter().partition(|e| e.event == "decision");
    let _ = writeln!(md, "\n## Decisions\n");
    if decisions.is_empty() {
        let _ = writeln!(md, "None logged (`lead_scoring.log_decision()`).");
    } else {
        let _ = writeln!(md, "| at | version | by | decision |\n| --- | --- | --- | --- |");
        for e in decisions {
            let version = e.version.map(|v| v.to_string()).unwrap_or_default();
            let said = e.reason.as_deref().unwrap_or_default();
            let _ = writeln!(md, "| {} | {version} | {} | {} |", e.at, cell(&e.actor), cell(said));
        }
    }

    let _ = writeln!(md, "\n## Change history\n\n| at | event | version | by | reason |\n| --- | --- | --- | --- | --- |");
    for e in changes {
        let reason = e.reason.clone().unwrap_or_else(|| {
            // A card edit names the fields it changed; their texts are on the card itself.
            if e.event == "card_changed" {
                let fields: Vec<&str> = e.detail.as_object().map(|d| d.keys().map(String::as_str).collect()).unwrap_or_default();
                format!("changed {}", fields.join(", "))
            } else if e.detail.as_object().is_some_and(|d| !d.is_empty()) {
                e.detail.to_string()
            } else {
                String::new()
            }
        });
        let version = e.version.map(|v| v.to_string()).unwrap_or_default();
        let _ = writeln!(md, "| {} | {} | {version} | {} | {} |", e.at, cell(&e.event), cell(&e.actor), cell(&reason));
    }
    md
}

/// Limitations that always hold, plus those the stored numbers reveal.
fn limitations(c: &CardInput) -> Vec<String> {
    let mut out = vec![
        "Learned from historical leads: a change in lead sources, forms or sales process shifts the scores; \
         retrain and compare before trusting them on a changed funnel."
            .to_string(),
        "Associations, not causes: a feature's weight says what predicted conversion, not what causes it.".to_string(),
        "Levels of a text feature unseen in training are scored as (other).".to_string(),
    ];
    let test_rows = c.metrics["test"]["rows"].as_f64().unwrap_or(0.0);
    if test_rows < 200.0 {
        out.push(format!("The test part has only {test_rows} rows, so its metrics are uncertain."));
    }
    let positives = c.metrics["train"]["positives"].as_f64().unwrap_or(0.0);
    if positives < 100.0 {
        out.push(format!("Only {positives} converted leads in training: rare patterns are not learned."));
    }
    if c.training["converged"].as_bool() == Some(false) {
        out.push("The fit did not converge within max_iter iterations.".into());
    }
    let (train_auc, test_auc) = (c.metrics["train"]["roc_auc"].as_f64(), c.metrics["test"]["roc_auc"].as_f64());
    if let (Some(a), Some(b)) = (train_auc, test_auc) {
        if a - b > 0.05 {
            out.push(format!("Train ROC AUC {a:.3} exceeds test {b:.3} by more than 0.05: the model may overfit."));
        }
    }
    out
}

#[cfg(test)]
#[path = "model_card_tests.rs"]
pub(crate) mod tests;
