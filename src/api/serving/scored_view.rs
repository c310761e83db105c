//! `create_scored_view()`: a view for BI tools with every column of a table or view plus the
//! lead's score, score 0-100, tier and top reasons.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::api::serving::attach::{check_model, column_type, require_features, run_formatted};
use crate::errors::{raise_with_hint, required};
use crate::executor::attachment::table_display;

/// Columns the view adds after the source's own.
pub const ADDED_COLUMNS: &[&str] = &["score", "score_100", "tier", "top_reasons"];

/// Creates (or replaces) the view `view_name` with every column of `source` (a table or view)
/// plus `score` (0 to 1), `score_100`, `tier` and `top_reasons` (jsonb, the top 3 reasons each
/// way, as `lead_scoring.top_reasons` gives them). For a regression model `score` is the
/// predicted value and `score_100` is NULL. The view names
/// the model, not a version, so it always scores with the deployed version. Returns the view's
/// name.
#[pg_extern(volatile, parallel_unsafe)]
fn create_scored_view(view_name: Option<&str>, source: Option<&str>, model_name: Option<&str>) -> String {
    let view_name = required(view_name, "view_name");
    let source = required(source, "source");
    let model = check_model(required(model_name, "model_name"));
    if source.trim_start().get(..6).is_some_and(|w| w.eq_ignore_ascii_case("select")) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("source \"{source}\" is a query; create_scored_view needs a table or view name"),
            "create a view over the query and pass its name",
        );
    }
    let source_oid = Spi::get_one_with_args::<pg_sys::Oid>("SELECT to_regclass($1)::oid", &[source.into()])
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
                format!("source \"{source}\" does not exist"),
                "give a table or view name, quoted as in SQL if it has capitals or spaces",
            )
        });
    require_features(source_oid, &model, "source");
    for column in ADDED_COLUMNS {
        if column_type(source_oid, column).is_some() {
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_DUPLICATE_COLUMN,
                format!("source {} already has a column \"{column}\", which the scored view adds", table_display(source_oid)),
                "select the source's columns under other names in a view and pass that view",
            );
        }
    }
    let reasons = ", lead_scoring.top_reasons(%3$L, s.*, 3) AS top_reasons";
    // A regression model's score is a value, not a probability in percent: score_100 is NULL.
    let score_100 = if crate::executor::cache::get(&model).model.is_regression() {
        "NULL::integer"
    } else {
        "lead_scoring.score_100(%3$L, s.*)"
    };
    let template = format!(
        "CREATE OR REPLACE VIEW %1$s AS SELECT s.*, lead_scoring.score(%3$L, s.*) AS score,
                {score_100} AS score_100, lead_scoring.tier(%3$L, s.*) AS tier{reasons}
           FROM %2$s AS s"
    );
    let qualified = Spi::get_one_with_args::<String>(
        "SELECT pg_catalog.string_agg(pg_catalog.quote_ident(part), '.') FROM pg_catalog.unnest(pg_catalog.parse_ident($1)) AS part",
        &[view_name.into()],
    )
    .unwrap_or_else(|e| crate::errors::invalid(format!("view_name \"{view_name}\" is not a valid name: {e}")))
    .unwrap_or_default();
    run_formatted(
        "SELECT pg_catalog.format($1, $2, $3::regclass, $4)",
        &[template.as_str().into(), qualified.as_str().into(), source_oid.into(), model.as_str().into()],
    );
    qualified
}
