//! `optimal_threshold(model, method, ..., segment => 'Webinar')`: a threshold for one segment
//! of a segmented version, on that segment's validation leads only. The validation predictions
//! train() stores do not say which segment a lead was in, so the segment's validation leads are
//! read again from the model's source by the lead keys the version recorded (as split_of()
//! finds them) and scored as score() scores them.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::api::evaluation::evaluate::score_rows;
use crate::api::training::split_of::version_keys;
use crate::catalog::models::parse_model_spec;
use crate::catalog::split_keys::split_record;
use crate::errors::{bad_data, quote_ident, raise_with_hint};
use crate::executor::cache;
use crate::executor::source::resolve_source;

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// (name@version, scores, labels) of the validation leads of `segment`.
pub fn segment_validation(model_name: &str, segment: &str) -> (String, Vec<f64>, Vec<bool>) {
    let model = cache::get(model_name);
    model.require_classification("optimal_threshold()");
    let spec = format!("{}@{}", model.row.name, model.row.version);
    let Some(segments) = &model.model.segments else {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("model \"{spec}\" has no segments, so it has no threshold per segment"),
            "leave segment NULL, or train with options.segment_by",
        )
    };
    let column = model.model.feature_names().nth(segments.feature).expect("the segment column is a feature").to_string();
    let record = split_record(&parse_model_spec(&spec));
    if record.source == "query" {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("model \"{spec}\" was trained on a query, so its validation leads cannot be read again by segment"),
            "train on a table or a view (CREATE VIEW ... AS your query)",
        );
    }
    let keys = version_keys(&spec, None);
    let query = format!(
        "SELECT s.* FROM {relation} s
          WHERE s.{column}::text = {segment} AND lead_scoring.split_of({model}, s.{key}::text) = 'validation'",
        relation = record.source,
        column = quote_ident(&column),
        segment = literal(segment),
        model = literal(&spec),
        key = quote_ident(&keys.column),
    );
    let any = Spi::get_one::<bool>(&format!("SELECT EXISTS ({query})"))
        .unwrap_or_else(|e| bad_data(format!("cannot read the validation leads of model \"{spec}\": {e}")));
    if any != Some(true) {
        bad_data(format!("model \"{spec}\" has no validation leads with {column} = '{segment}' in {}", record.source));
    }
    let scored = score_rows(model.clone(), &resolve_source(&query), true, None);
    (spec, scored.scores, scored.labels)
}
