//! The rows read under `options.outcomes`, `mature_after` and `since`: a WHERE clause over the
//! source (cheapest, and excluded rows never reach memory), and one aggregate query counting
//! the rows of each label value inside and outside the window. Every operator and function in
//! the generated SQL is named with pg_catalog (README "search_path").

use pgrx::prelude::*;

use crate::core::data::{ColumnClass, SourceColumn};
use crate::core::serving::quote_literal;
use crate::core::training::{tally_outcomes, DataWindow, LabelValueRows, OutcomeClass, OutcomeCounts, OutcomeDefinition};
use crate::errors::{core_ok, invalid, quote_ident};
use crate::executor::source::Source;

/// How a training reads its label and which rows it keeps.
pub struct OutcomeRead<'a> {
    pub label: &'a SourceColumn,
    pub positive_label: Option<&'a str>,
    pub outcomes: Option<&'a OutcomeDefinition>,
    pub window: &'a DataWindow,
    /// The date or timestamp column of `window` (checked by the caller to exist).
    pub created: Option<&'a SourceColumn>,
    /// Seconds since 1970-01-01 UTC that maturity counts back from.
    pub as_of: f64,
}

/// The label as text, compared with the outcome lists.
pub fn label_text(label: &SourceColumn) -> String {
    format!("({})::pg_catalog.text", quote_ident(&label.name))
}

/// SQL: true when a row's label means converted, as train() reads it.
pub fn converted_sql(label: &SourceColumn, positive: Option<&str>, outcomes: Option<&OutcomeDefinition>) -> String {
    match outcomes {
        Some(def) => def.converted_sql(&label_text(label)),
        None => label_sql(label, positive),
    }
}

/// The label as a boolean SQL expression, read as train()'s row reader reads it. Operators are
/// named with their schema: an `=` for (float8, integer) placed earlier on the caller's
/// search_path would otherwise be a better match than pg_catalog's and run in every pass.
fn label_sql(label: &SourceColumn, positive: Option<&str>) -> String {
    let q = quote_ident(&label.name);
    match (positive, label.class) {
        (Some(p), _) => format!("({q})::text OPERATOR(pg_catalog.=) {}::text", quote_literal(p)),
        (None, ColumnClass::Boolean) => format!("({q})::text OPERATOR(pg_catalog.=) 'true'::text"),
        (None, _) => format!("({q})::float8 OPERATOR(pg_catalog.=) 1::float8"),
    }
}

/// A source whose rows are those of `source` for which `condition` holds.
pub fn filtered_source(source: &Source, condition: &str) -> Source {
    Source {
        from_sql: format!("(SELECT * FROM {} WHERE {condition}) AS lead_scoring_source", source.from_sql),
        display: source.display.clone(),
        relation: source.relation.clone(),
    }
}

/// The source a model trained with `outcomes` is evaluated on: open rows excluded, unlisted
/// values kept when they are negatives (or refused by the row reader when the model has no
/// policy for them).
pub fn evaluated_source(source: &Source, label: &SourceColumn, outcomes: Option<&OutcomeDefinition>) -> Source {
    match outcomes {
        Some(def) => filtered_source(source, &def.kept_sql(&label_text(label))),
        None => source.clone(),
    }
}

impl OutcomeRead<'_> {
    fn applies(&self) -> bool {
        self.outcomes.is_some() || self.window.is_set()
    }

    fn created_epoch(&self) -> Option<String> {
        self.created.map(|c| format!("pg_catalog.date_part('epoch', {})", quote_ident(&c.name)))
    }

    /// Checks `created_column`'s type, counts the rows per class (the ERRORs of
    /// `tally_outcomes`), and returns the counts and the source restricted to the rows kept.
    pub fn apply(&self, source: &Source) -> Option<(OutcomeCounts, Source)> {
        if !self.applies() {
            return None;
        }
        if let Some(c) = self.created.filter(|c| c.class != ColumnClass::Temporal) {
            invalid(format!("created column \"{}\" has type {}; it must be a date or timestamp", c.name, c.type_name));
        }
        let label = quote_ident(&self.label.name);
        let text = label_text(self.label);
        let (since, mature) = match self.created_epoch() {
            Some(e) => (self.window.since_sql(&e), self.window.mature_sql(&e, self.as_of)),
            None => ("true".to_string(), "true".to_string()),
        };
        let count_query = format!(
            "SELECT {text}, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE NOT {since}),
                    pg_catalog.count(*) FILTER (WHERE {since} AND NOT {mature})
               FROM {} WHERE {label} IS NOT NULL GROUP BY 1",
            source.from_sql
        );
        let values = read_value_rows(&count_query, &source.display);
        let counts = core_ok(tally_outcomes(&values, |v| self.class_of(v), self.window, self.as_of, &self.label.name));

        let mut kept = Vec::new();
        if let Some(def) = self.outcomes {
            kept.push(def.kept_sql(&text));
        }
        if self.window.since.is_some() {
            kept.push(since);
        }
        if self.window.mature_after.is_some() {
            let converted = converted_sql(self.label, self.positive_label, self.outcomes);
            kept.push(format!("({mature} OR {label} IS NULL OR {converted})"));
        }
        let source = if kept.is_empty() { source.clone() } else { filtered_source(source, &kept.join(" AND ")) };
        Some((counts, source))
    }

    /// A value's class as the row reader reads it.
    fn class_of(&self, value: &str) -> Option<OutcomeClass> {
        if let Some(def) = self.outcomes {
            return def.class_of(value);
        }
        let converted = match (self.positive_label, self.label.class) {
            (Some(p), _) => value == p,
            (None, ColumnClass::Boolean) => value == "true",
            (None, _) => value.parse::<f64>().is_ok_and(|x| x == 1.0),
        };
        Some(if converted { OutcomeClass::Converted } else { OutcomeClass::NotConverted })
    }
}

fn read_value_rows(query: &str, display: &str) -> Vec<LabelValueRows> {
    crate::pg::read_only::read_only(|| {
        Spi::connect(|client| {
            let mut out = Vec::new();
            for row in client.select(query, None, &[])? {
                let count = |i: usize| -> Result<u64, pgrx::spi::Error> { Ok(row.get::<i64>(i)?.unwrap_or_default() as u64) };
                out.push(LabelValueRows {
                    value: row.get::<String>(1)?.unwrap_or_default(),
                    rows: count(2)?,
                    before_since: count(3)?,
                    immature: count(4)?,
                });
            }
            Ok::<_, pgrx::spi::Error>(out)
        })
    })
    .unwrap_or_else(|e| invalid(format!("cannot count the label values of {display}: {e}")))
}
