//! Behaviour arriving in another table: `attach_events()` rescores the leads that new event rows
//! belong to, from a feature view (one row per lead: the lead's columns plus aggregates of its
//! events), in the same statement that inserts the events.
//!
//! It installs three triggers, all named after the model:
//! - on the events table, `lead_scoring_events_<model>`: AFTER INSERT FOR EACH STATEMENT with a
//!   transition table, running one UPDATE of the target rows whose key appears among the new
//!   events, setting score and tier from the feature view;
//! - on the target table, `lead_scoring_events_<model>`: the same after new leads are inserted;
//! - on the target table, `lead_scoring_<model>`: the BEFORE row trigger of `attach()` in
//!   "external" mode: it computes nothing itself but sends hot-lead alerts when the tier it sees
//!   rises into the top tier.

use pgrx::prelude::*;
use pgrx::{PgRelation, PgSqlErrorCode};
use serde_json::json;

use crate::api::serving::attach::{
    check_model, column_type, create_row_trigger, ensure_output_columns, require_features, run_formatted, table_oid,
};
use crate::catalog::events::log_event;
use crate::catalog::models::parse_model_spec;
use crate::errors::{invalid, raise_with_hint, required};
use crate::executor::attachment::{events_trigger_name, qualified_name, table_display, trigger_name, Attachment};

pgrx::extension_sql!(
    r#"
-- Statement trigger of attach_events(): rescores the target leads whose key occurs in the
-- inserted rows (transition table lead_scoring_changed_rows), from the feature view.
-- TG_ARGV: target, key column, model, feature view, score column, tier column. Target and view
-- are schema-qualified names (0.1.0 stored oids, which ::regclass also reads), so the triggers
-- survive pg_dump/pg_restore, which gives every relation a new oid. It runs with the search_path
-- pg_catalog, pg_temp: the key columns' `=` (varchar = varchar, say) is pg_catalog's even when
-- whoever inserts the events has a schema with a better match earlier on their path.
CREATE FUNCTION lead_scoring.rescore_from_feature_view() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    EXECUTE pg_catalog.format(
        'UPDATE %s AS lead SET %I = lead_scoring.score(%L, f.*), %I = lead_scoring.tier(%L, f.*)
           FROM %s AS f
          WHERE f.%I = lead.%I AND lead.%I IN (SELECT c.%I FROM lead_scoring_changed_rows AS c)',
        TG_ARGV[0]::regclass, TG_ARGV[4], TG_ARGV[2], TG_ARGV[5], TG_ARGV[2],
        TG_ARGV[3]::regclass, TG_ARGV[1], TG_ARGV[1], TG_ARGV[1], TG_ARGV[1]);
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION lead_scoring.rescore_from_feature_view() IS
    'lead_scoring: statement trigger installed by attach_events(); rescores the leads of new rows from a feature view';
"#,
    name = "rescore_from_feature_view",
    requires = ["catalog"]
);

fn require_column(table: pg_sys::Oid, column: &str, role: &str) {
    if column_type(table, column).is_none() {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
            format!("{role} {} has no column \"{column}\"", table_display(table)),
            "the key column must have the same name in the events table, the target and the feature view",
        );
    }
}

fn create_statement_trigger(on: pg_sys::Oid, target: pg_sys::Oid, key: &str, model: &str, view: pg_sys::Oid, a: &Attachment) {
    run_formatted(
        "SELECT pg_catalog.format('CREATE OR REPLACE TRIGGER %I AFTER INSERT ON %s
                          REFERENCING NEW TABLE AS lead_scoring_changed_rows FOR EACH STATEMENT
                          EXECUTE FUNCTION lead_scoring.rescore_from_feature_view(%L, %L, %L, %L, %L, %L)',
                       $1, $2::regclass, $3, $4, $5, $6, $7, $8)",
        &[
            events_trigger_name(model).into(),
            on.into(),
            qualified_name(target).into(),
            key.into(),
            model.into(),
            qualified_name(view).into(),
            a.score_column.as_str().into(),
            a.tier_column.as_str().into(),
        ],
    );
}

/// Keeps the score and tier of each lead in `target` current as rows arrive in `events`: after
/// every INSERT into `events` (or new leads into `target`), the leads whose `key` occurs in the
/// new rows are rescored with `model_name` from `feature_view`, a view with one row per lead
/// (the model's feature columns and `key`). `key` names the lead's key column in all three.
/// Hot-lead alerts fire as with `attach()`. Returns the names of the triggers installed.
// Eight arguments: the SQL signature users call.
#[allow(clippy::too_many_arguments)]
#[pg_extern(volatile, parallel_unsafe)]
fn attach_events(
    events: Option<PgRelation>,
    target: Option<PgRelation>,
    key: Option<&str>,
    model_name: Option<&str>,
    feature_view: Option<PgRelation>,
    score_column: default!(Option<&str>, "'lead_score'"),
    tier_column: default!(Option<&str>, "'lead_tier'"),
    alerts: default!(Option<bool>, "true"),
) -> Vec<String> {
    let events = table_oid(required(events, "events"));
    let target = table_oid(required(target, "target"));
    let key = required(key, "key");
    let model = check_model(required(model_name, "model_name"));
    let view = required(feature_view, "feature_view").oid();
    let score_column = required(score_column, "score_column");
    let tier_column = required(tier_column, "tier_column");
    let alerts = required(alerts, "alerts");
    if events == target {
        invalid("events and target must be different tables; use attach() to score a table from its own rows");
    }
    for (table, role) in [(events, "events table"), (target, "target table"), (view, "feature view")] {
        require_column(table, key, role);
    }
    require_features(view, &model, "feature view");
    if events_trigger_name(&model).len() > 63 {
        invalid(format!("model name \"{model}\" is too long to name a trigger after (at most 43 characters)"));
    }
    ensure_output_columns(target, score_column, tier_column);
    let a = Attachment {
        model: model.clone(),
        score_column: score_column.to_string(),
        tier_column: tier_column.to_string(),
        key_column: Some(key.to_string()),
        feature_view: Some(qualified_name(view)),
        alerts,
    };
    create_row_trigger(target, &a);
    create_statement_trigger(events, target, key, &model, view, &a);
    create_statement_trigger(target, target, key, &model, view, &a);
    log_event(
        &parse_model_spec(&model).name,
        None,
        "attached",
        json!({"table": table_display(target), "events": table_display(events),
               "feature_view": table_display(view), "key": key, "score_column": score_column,
               "tier_column": tier_column, "alerts": alerts}),
        None,
    );
    vec![
        format!("{} on {}", trigger_name(&model), table_display(target)),
        format!("{} on {}", events_trigger_name(&model), table_display(target)),
        format!("{} on {}", events_trigger_name(&model), table_display(events)),
    ]
}
