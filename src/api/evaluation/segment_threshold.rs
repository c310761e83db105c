//! `optimal_threshold(model, method, ..., segment => 'Webinar')`: a threshold for one segment
//! of a segmented version, on that segment's validation leads only. The validation predictions
//! train() stores do not say which segment a lead was in, so the segment's validation leads are
//! read again from the model's source by the lead keys the version recorded (as split_of()
//! finds them) and scored as score() scores them.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::api::evaluation::evaluate::score_rows;
use crate::api::evaluation::validation_leads::validation_leads;
use crate::errors::{bad_data, quote_ident, quote_literal, raise_with_hint};
use crate::executor::cache;
use crate::executor::source::resolve_source;

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
    let leads = validation_leads(&spec, "by segment", "train on a table or a view (CREATE VIEW ... AS your query)");
    let query = format!(
        "SELECT s.* FROM {relation} s WHERE s.{column}::text = {segment} AND {validation}",
        relation = leads.relation,
        column = quote_ident(&column),
        segment = quote_literal(segment),
        validation = leads.condition(),
    );
    let any = Spi::get_one::<bool>(&format!("SELECT EXISTS ({query})"))
        .unwrap_or_else(|e| bad_data(format!("cannot read the validation leads of model \"{spec}\": {e}")));
    if any != Some(true) {
        bad_data(format!("model \"{spec}\" has no validation leads with {column} = '{segment}' in {}", leads.relation));
    }
    let scored = score_rows(model.clone(), &resolve_source(&query), true, None);
    (spec, scored.scores, scored.labels)
}
