//! A version's validation leads, read again from its source. train() stores their scores and
//! labels but not their features, so a threshold that needs more of a lead (its segment, its own
//! deal value) selects them again by the lead keys the version recorded, as split_of() finds them.

use pgrx::PgSqlErrorCode;

use crate::api::training::split_of::version_keys;
use crate::catalog::models::parse_model_spec;
use crate::catalog::split_keys::split_record;
use crate::errors::{quote_ident, quote_literal, raise_with_hint};

/// Where a version's validation leads are: its source relation and the recorded key column.
pub struct ValidationLeads {
    /// The source relation, as train() recorded it (quoted where it needs to be).
    pub relation: String,
    spec: String,
    key_column: String,
}

impl ValidationLeads {
    /// The condition, on a source aliased `s`, that keeps the version's validation leads.
    pub fn condition(&self) -> String {
        format!("lead_scoring.split_of({}, s.{}::text) = 'validation'", quote_literal(&self.spec), quote_ident(&self.key_column))
    }
}

/// The validation leads of `spec` (name@version). An ERROR with `hint` when the version was
/// trained on a query, which cannot be read again ("... cannot be read again {purpose}"), and
/// an ERROR with its own hint when the version recorded no lead keys.
pub fn validation_leads(spec: &str, purpose: &str, hint: &str) -> ValidationLeads {
    let record = split_record(&parse_model_spec(spec));
    if record.source == "query" {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("model \"{spec}\" was trained on a query, so its validation leads cannot be read again {purpose}"),
            hint,
        );
    }
    let keys = version_keys(spec, None);
    ValidationLeads { relation: record.source, spec: spec.to_string(), key_column: keys.column.clone() }
}
