//! `options.outcomes`: label values mapped to converted, not converted and open (excluded),
//! parsed strictly so that no value is silently a negative.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core_err;
use crate::serving::quote_literal;
use crate::CoreResult;

/// The class of a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeClass {
    Converted,
    NotConverted,
    /// Excluded from training and evaluation: the lead has no outcome yet.
    Open,
}

/// Label values (compared as the label's text) per class, and what a value in no list is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeDefinition {
    pub converted: Vec<String>,
    pub not_converted: Vec<String>,
    pub open: Vec<String>,
    /// None: a value in no list is an error.
    pub unlisted: Option<OutcomeClass>,
}

const KEYS: &str = "converted, not_converted, open, unlisted";

impl OutcomeDefinition {
    /// Parses `{"converted": [...], "not_converted": [...], "open": [...], "unlisted": "open"}`.
    pub fn parse(v: &Value) -> CoreResult<OutcomeDefinition> {
        let map = v.as_object().ok_or_else(|| {
            core_err!(
                InvalidArgument,
                "option \"outcomes\" must be an object like {{\"converted\": [\"won\"], \"not_converted\": [\"lost\"]}}, got {v}"
            )
        })?;
        let mut def = OutcomeDefinition { converted: Vec::new(), not_converted: Vec::new(), open: Vec::new(), unlisted: None };
        for (key, x) in map {
            match key.as_str() {
                "converted" => def.converted = values(key, x)?,
                "not_converted" => def.not_converted = values(key, x)?,
                "open" => def.open = values(key, x)?,
                "unlisted" => {
                    def.unlisted = Some(match x.as_str() {
                        Some("open") => OutcomeClass::Open,
                        Some("not_converted") => OutcomeClass::NotConverted,
                        _ => {
                            return Err(core_err!(
                                InvalidArgument,
                                "option \"outcomes.unlisted\" must be \"open\" or \"not_converted\", got {x}"
                            ))
                        }
                    })
                }
                other => return Err(core_err!(InvalidArgument, "unknown option \"outcomes.{other}\"; known keys are: {KEYS}")),
            }
        }
        for (key, list) in [("converted", &def.converted), ("not_converted", &def.not_converted)] {
            if list.is_empty() {
                return Err(core_err!(InvalidArgument, "option \"outcomes.{key}\" must list at least one label value"));
            }
        }
        let lists = [("converted", &def.converted), ("not_converted", &def.not_converted), ("open", &def.open)];
        for (i, (a, first)) in lists.iter().enumerate() {
            for (b, second) in &lists[i + 1..] {
                if let Some(value) = first.iter().find(|x| second.contains(x)) {
                    return Err(core_err!(
                        InvalidArgument,
                        "label value '{value}' is in both \"outcomes.{a}\" and \"outcomes.{b}\"; a value must have one class"
                    ));
                }
            }
        }
        Ok(def)
    }

    /// The class of a label value (its text); None for a value in no list without `unlisted`.
    pub fn class_of(&self, value: &str) -> Option<OutcomeClass> {
        let has = |list: &[String]| list.iter().any(|x| x == value);
        if has(&self.converted) {
            Some(OutcomeClass::Converted)
        } else if has(&self.not_converted) {
            Some(OutcomeClass::NotConverted)
        } else if has(&self.open) {
            Some(OutcomeClass::Open)
        } else {
            self.unlisted
        }
    }

    /// SQL: true when the label text `label_text` means converted.
    pub fn converted_sql(&self, label_text: &str) -> String {
        any_of(label_text, &self.converted)
    }

    /// SQL: true for the rows trained and evaluated on (a NULL label is kept so that it is
    /// counted as skipped): all but the open ones, and unlisted values only when they are not
    /// converted. Without `unlisted`, an unlisted value is kept so that reading it is an error.
    pub fn kept_sql(&self, label_text: &str) -> String {
        let kept = match self.unlisted {
            Some(OutcomeClass::Open) | Some(OutcomeClass::Converted) => {
                any_of(label_text, &[self.converted.as_slice(), self.not_converted.as_slice()].concat())
            }
            _ if self.open.is_empty() => "true".to_string(),
            _ => format!("NOT ({})", any_of(label_text, &self.open)),
        };
        format!("({label_text} IS NULL OR {kept})")
    }
}

/// `text = ANY (ARRAY[...])` with pg_catalog's operator and type, so nothing placed earlier
/// on the caller's search_path is called.
fn any_of(label_text: &str, values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
    format!("{label_text} OPERATOR(pg_catalog.=) ANY (ARRAY[{}]::pg_catalog.text[])", items.join(", "))
}

/// A non-empty list of label values; numbers and booleans are compared as their text.
fn values(key: &str, x: &Value) -> CoreResult<Vec<String>> {
    let items = x.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
        core_err!(InvalidArgument, "option \"outcomes.{key}\" must be a non-empty array of label values, got {x}")
    })?;
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let text = match item {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(core_err!(
                    InvalidArgument,
                    "option \"outcomes.{key}\" must list strings, numbers or booleans, got {other}"
                ))
            }
        };
        if !out.contains(&text) {
            out.push(text);
        }
    }
    Ok(out)
}
