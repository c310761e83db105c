//! What a `source` argument names (a table, a view or a SELECT query) and its columns' types.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::core::data::{ColumnClass, SourceColumn};
use crate::errors::{invalid, raise_with_hint};

/// A resolved source: SQL to put after FROM, and how to name it in messages.
#[derive(Debug, Clone)]
pub struct Source {
    pub from_sql: String,
    pub display: String,
    /// The table or view the rows come from, as regclass prints it; None for a query.
    pub relation: Option<String>,
}

/// True when `source` is a query rather than a relation name.
fn looks_like_query(source: &str) -> bool {
    let head: String = source.trim_start().chars().take(7).collect::<String>().to_ascii_lowercase();
    ["select", "with", "values", "table"].iter().any(|kw| {
        head.starts_with(kw) && head[kw.len()..].chars().next().is_none_or(|c| c.is_whitespace() || c == '(' || c == '*')
    })
}

/// True for `name`, `schema.name` or `db.schema.name`, each part a plain or double-quoted
/// identifier: the shapes Postgres accepts as a relation name.
fn is_relation_name(text: &str) -> bool {
    let mut parts = 0;
    let mut chars = text.chars().peekable();
    loop {
        match chars.peek() {
            Some('"') => {
                chars.next();
                let mut empty = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            empty = false;
                        }
                        Some('"') => break,
                        Some(_) => empty = false,
                        None => return false,
                    }
                }
                if empty {
                    return false;
                }
            }
            Some(c) if c.is_alphabetic() || *c == '_' => {
                while chars.peek().is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$') {
                    chars.next();
                }
            }
            _ => return false,
        }
        parts += 1;
        match chars.next() {
            None => return parts <= 3,
            Some('.') => {}
            Some(_) => return false,
        }
    }
}

/// Resolves a table/view name (quoted through regclass, so names cannot inject SQL) or wraps a
/// SELECT query as a subquery. A missing relation is an ERROR naming it.
pub fn resolve_source(source: &str) -> Source {
    let trimmed = source.trim().trim_end_matches(';').trim();
    if trimmed.is_empty() {
        invalid("source must name a table or view, or be a SELECT query");
    }
    if looks_like_query(trimmed) {
        return Source { from_sql: format!("({trimmed}) AS lead_scoring_source"), display: "query".to_string(), relation: None };
    }
    if !is_relation_name(trimmed) {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_INVALID_NAME,
            format!("source \"{trimmed}\" is neither a table or view name nor a SELECT query"),
            "quote names with spaces or capitals as in '\"My Leads\"', or start a query with SELECT",
        );
    }
    let qualified: Option<String> = Spi::get_one_with_args("SELECT to_regclass($1)::text", &[trimmed.into()])
        .unwrap_or_else(|e| invalid(format!("source \"{trimmed}\" is not a valid relation name: {e}")));
    match qualified {
        Some(q) => Source { from_sql: q.clone(), display: q.clone(), relation: Some(q) },
        None => raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
            format!("source \"{trimmed}\" does not exist"),
            "give a table or view name (schema-qualified if it is not on the search_path) or a SELECT query",
        ),
    }
}

/// Classifies a type by its base type (domains count as their base).
pub fn classify(type_oid: pg_sys::Oid) -> ColumnClass {
    // SAFETY: a syscache lookup by oid from the backend's main thread; an unknown oid is an ERROR.
    let base = unsafe { pg_sys::getBaseType(type_oid) };
    match base {
        pg_sys::INT2OID | pg_sys::INT4OID | pg_sys::INT8OID => ColumnClass::Numeric { integer: true },
        pg_sys::FLOAT4OID | pg_sys::FLOAT8OID | pg_sys::NUMERICOID => ColumnClass::Numeric { integer: false },
        pg_sys::TEXTOID | pg_sys::VARCHAROID | pg_sys::BPCHAROID | pg_sys::NAMEOID => ColumnClass::Text,
        pg_sys::BOOLOID => ColumnClass::Boolean,
        pg_sys::UUIDOID => ColumnClass::Uuid,
        pg_sys::DATEOID | pg_sys::TIMESTAMPOID | pg_sys::TIMESTAMPTZOID => ColumnClass::Temporal,
        _ => ColumnClass::Unsupported,
    }
}

/// The SQL name of a type, for messages.
pub fn type_name(oid: pg_sys::Oid) -> String {
    // SAFETY: format_type_be returns a palloc'd NUL-terminated string (or raises an ERROR), copied here.
    unsafe { std::ffi::CStr::from_ptr(pg_sys::format_type_be(oid)) }.to_string_lossy().into_owned()
}

/// The columns of a source, in order, read from a zero-row query (read-only, as every source query).
pub fn describe(source: &Source) -> Vec<SourceColumn> {
    crate::pg::read_only::read_only(|| {
        Spi::connect(|client| {
            let table = client.select(&format!("SELECT * FROM {} LIMIT 0", source.from_sql), None, &[])?;
            let n = table.columns()?;
            let mut out = Vec::with_capacity(n);
            for i in 1..=n {
                let oid = table.column_type_oid(i)?.value();
                out.push(SourceColumn { name: table.column_name(i)?, type_name: type_name(oid), class: classify(oid) });
            }
            Ok::<_, pgrx::spi::Error>(out)
        })
    })
    .unwrap_or_else(|e| invalid(format!("cannot read source {}: {e}", source.display)))
}

/// Finds a column by exact name, or raises an ERROR naming it and the source.
pub fn find_column<'a>(columns: &'a [SourceColumn], name: &str, role: &str, source: &Source) -> &'a SourceColumn {
    columns.iter().find(|c| c.name == name).unwrap_or_else(|| {
        let near: Vec<&str> = columns.iter().filter(|c| c.name.eq_ignore_ascii_case(name)).map(|c| c.name.as_str()).collect();
        let hint = if near.is_empty() {
            "column names are case-sensitive and must match exactly".to_string()
        } else {
            format!("did you mean \"{}\"?", near.join("\", \""))
        };
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN,
            format!("{role} column \"{name}\" does not exist in {}", source.display),
            hint,
        )
    })
}

/// The single-column primary key of a table source, if it has one and the caller may read it:
/// the lead key train() records the split by when options.key names none (a key column the
/// caller may not read is not recorded, rather than failing the training).
pub fn primary_key_column(source: &Source) -> Option<String> {
    let relation = source.relation.as_deref()?;
    Spi::get_one_with_args::<String>(
        "SELECT a.attname::text FROM pg_catalog.pg_index i
           JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
                                          AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]
          WHERE i.indrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass AND i.indisprimary
            AND i.indnkeyatts OPERATOR(pg_catalog.=) 1 AND pg_catalog.has_column_privilege(i.indrelid, a.attnum, 'SELECT')",
        &[relation.into()],
    )
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::looks_like_query;

    #[test]
    fn queries_are_told_from_names() {
        assert!(looks_like_query("SELECT * FROM leads"));
        assert!(looks_like_query("  with x as (select 1) select * from x"));
        assert!(looks_like_query("select*from t"));
        assert!(!looks_like_query("selected_leads"));
        assert!(!looks_like_query("crm.leads"));
        assert!(!looks_like_query("\"SELECT\""));
    }

    #[test]
    fn relation_names_are_recognised() {
        use super::is_relation_name;
        for ok in ["leads", "crm.leads", "\"My Leads\"", "crm.\"we\"\"ird\"", "db.s.t", "_x1$"] {
            assert!(is_relation_name(ok), "{ok}");
        }
        for bad in ["leads; DROP TABLE leads", "a.b.c.d", "\"unterminated", "\"\"", "1abc", "a..b", "a.", "a b"] {
            assert!(!is_relation_name(bad), "{bad}");
        }
    }
}
