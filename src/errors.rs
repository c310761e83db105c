//! ERROR reporting with proper SQLSTATEs, and identifier quoting for dynamic SQL.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::core::{CoreError, ErrorKind};

/// Raises an ERROR with the given SQLSTATE and message.
pub fn raise(code: PgSqlErrorCode, message: impl Into<String>) -> ! {
    ErrorReport::new(code, message.into(), "lead_scoring").report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// Raises an ERROR with a hint line.
pub fn raise_with_hint(code: PgSqlErrorCode, message: impl Into<String>, hint: impl Into<String>) -> ! {
    ErrorReport::new(code, message.into(), "lead_scoring").set_hint(hint.into()).report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// Bad argument values (options, thresholds, names).
pub fn invalid(message: impl Into<String>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message)
}

/// Data that cannot be used as asked (one-class labels, NaN features, too few rows).
pub fn bad_data(message: impl Into<String>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, message)
}

/// The SQLSTATE of each kind of core error: the one place core kinds meet PostgreSQL codes
/// (the core documents why each kind has its code, on the variant).
pub fn sqlstate(kind: ErrorKind) -> PgSqlErrorCode {
    use PgSqlErrorCode as C;
    match kind {
        ErrorKind::InvalidArgument => C::ERRCODE_INVALID_PARAMETER_VALUE,
        ErrorKind::InvalidData | ErrorKind::InsufficientData => C::ERRCODE_DATA_EXCEPTION,
        ErrorKind::UnknownColumn => C::ERRCODE_UNDEFINED_COLUMN,
        ErrorKind::CorruptArtifact => C::ERRCODE_DATA_CORRUPTED,
        ErrorKind::MemoryLimit => C::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        ErrorKind::OutOfMemory => C::ERRCODE_OUT_OF_MEMORY,
        ErrorKind::Unsupported => C::ERRCODE_FEATURE_NOT_SUPPORTED,
        ErrorKind::FitFailed => C::ERRCODE_FLOATING_POINT_EXCEPTION,
        ErrorKind::Canceled => C::ERRCODE_QUERY_CANCELED,
        ErrorKind::Internal => C::ERRCODE_INTERNAL_ERROR,
    }
}

/// Raises a core error with its kind's SQLSTATE and its message. A core that stopped because
/// a cancel is pending raises the server's own cancel ERROR (user request or statement
/// timeout), processed here on the main thread, before falling back to the core's message.
pub fn raise_core(e: CoreError) -> ! {
    if e.kind == ErrorKind::Canceled {
        pgrx::check_for_interrupts!();
    }
    raise(sqlstate(e.kind), e.message)
}

/// Unwraps a core result, raising a core error with its kind's SQLSTATE.
pub fn core_ok<T>(r: Result<T, CoreError>) -> T {
    r.unwrap_or_else(|e| raise_core(e))
}

/// Rejects a NULL argument of a non-strict function with an ERROR naming the argument.
pub fn required<T>(value: Option<T>, argument: &str) -> T {
    value.unwrap_or_else(|| raise(PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED, format!("{argument} must not be NULL")))
}

/// Quotes an identifier for dynamic SQL, always, so any name (spaces, quotes, capitals) is
/// taken literally and nothing can be injected through it.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a text as a string literal for dynamic SQL, as PostgreSQL's quote_literal() does: a
/// text with a backslash becomes an E'' literal with the backslashes doubled, so it reads the
/// same whatever standard_conforming_strings says.
pub fn quote_literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if quoted.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_quotes_and_backslashes() {
        assert_eq!(quote_literal("Webinar"), "'Webinar'");
        assert_eq!(quote_literal("O'Brien"), "'O''Brien'");
        assert_eq!(quote_literal(r"a\b'c"), r"E'a\\b''c'");
    }

    #[test]
    fn quoting_escapes_embedded_quotes() {
        assert_eq!(quote_ident("Lead Source"), "\"Lead Source\"");
        assert_eq!(quote_ident("a\"; DROP TABLE x; --"), "\"a\"\"; DROP TABLE x; --\"");
    }
}
