//! The core's error: a kind, which decides the SQLSTATE the extension raises, and the message
//! users read. The SQLSTATE of each kind is documented on its variant; the extension maps
//! kinds to PostgreSQL error codes in one place (`src/errors.rs`).

use std::fmt;

/// What went wrong, as a caller can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An option or argument value that is not allowed: an unknown option key, a value of the
    /// wrong type or out of its range, options that contradict each other.
    /// SQLSTATE 22023 `invalid_parameter_value`.
    InvalidArgument,
    /// Data that cannot be used as asked: NaN or Infinity in a feature, text in a numeric or
    /// date feature, split column values that name no part, a feature whose type changed since
    /// training. SQLSTATE 22000 `data_exception`.
    InvalidData,
    /// Valid data, but too little of it to do what was asked: no rows, one class only, fewer
    /// rows of a class than a split, a fold or resampling needs, a feature NULL in every row.
    /// SQLSTATE 22000 `data_exception`: PostgreSQL has no more specific code for too little
    /// data, and the extension raises 22000 for the same conditions it checks itself before
    /// the core runs (an empty source, a one-class label), so one handler catches both.
    InsufficientData,
    /// A column or feature named in the options or needed by a model that does not exist.
    /// SQLSTATE 42703 `undefined_column`.
    UnknownColumn,
    /// A stored model or stored predictions that fail their header, checksum, decoding or the
    /// checks of the decoded model. SQLSTATE XX001 `data_corrupted`.
    CorruptArtifact,
    /// A call that would need more memory than `lead_scoring.max_memory` / `options.max_memory`
    /// allows, or more than can be counted. SQLSTATE 54000 `program_limit_exceeded`.
    MemoryLimit,
    /// The server could not allocate memory the call needs (within the limit).
    /// SQLSTATE 53200 `out_of_memory`.
    OutOfMemory,
    /// A request this version does not support, such as `model_sql` of a gbm model.
    /// SQLSTATE 0A000 `feature_not_supported`.
    Unsupported,
    /// The fit broke down numerically: divergence, a non-finite objective, a Hessian that
    /// cannot be factorised, the booster's own failure. SQLSTATE 22P01
    /// `floating_point_exception`: PostgreSQL's code for a failed numerical computation, in
    /// class 22 with the data errors that usually cause it (separable or collinear data), so
    /// `EXCEPTION WHEN data_exception` catches it with them.
    FitFailed,
    /// The progress callback returned an error: the caller cancelled the work.
    /// SQLSTATE 57014 `query_canceled`.
    Canceled,
    /// A broken invariant of the code itself (a worker thread panicked, a caller passed
    /// mismatched inputs): a bug to report, not something the user can fix.
    /// SQLSTATE XX000 `internal_error`.
    Internal,
}

/// An error the core reports to its caller; the SQL layer turns it into a Postgres ERROR with
/// the kind's SQLSTATE and the message as is.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CoreError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> CoreError {
        CoreError { kind, message: message.into() }
    }

    /// The same error with `what` in front of its message (`"{what}: {message}"`), for a caller
    /// that adds where the error happened without changing what kind it is.
    pub fn context(self, what: impl fmt::Display) -> CoreError {
        CoreError { message: format!("{what}: {}", self.message), ..self }
    }
}

/// The message only, so what users read does not depend on the kind.
impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CoreError {}

/// Builds a [`CoreError`] of the given [`ErrorKind`] with `format!` syntax:
/// `core_err!(InvalidArgument, "option \"{key}\" must be a number, got {v}")`.
#[macro_export]
macro_rules! core_err {
    ($kind:ident, $($arg:tt)*) => {
        $crate::CoreError::new($crate::ErrorKind::$kind, format!($($arg)*))
    };
}

pub type CoreResult<T> = Result<T, CoreError>;

/// The core's estimators fit through `linfa::traits::Fit`, whose error type must take linfa's
/// (bad hyperparameters or mismatched shapes: the caller's arguments).
impl From<linfa::Error> for CoreError {
    fn from(e: linfa::Error) -> Self {
        CoreError::new(ErrorKind::InvalidArgument, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_message_and_context_keeps_the_kind() {
        let e = crate::core_err!(MemoryLimit, "needs {} MB", 5);
        assert_eq!(e.to_string(), "needs 5 MB");
        let e = e.context("training");
        assert_eq!((e.kind, e.to_string().as_str()), (ErrorKind::MemoryLimit, "training: needs 5 MB"));
    }
}

/// A float as PostgreSQL prints it (`Infinity`, `-Infinity`, `NaN`), for messages about values
/// a user typed in SQL: Rust's own `inf` is not a spelling they can search for or type back.
pub fn sql_float(x: f64) -> String {
    if x == f64::INFINITY {
        "Infinity".to_string()
    } else if x == f64::NEG_INFINITY {
        "-Infinity".to_string()
    } else {
        x.to_string()
    }
}

#[cfg(test)]
mod sql_float_tests {
    #[test]
    fn infinities_are_spelled_as_in_sql() {
        assert_eq!(super::sql_float(f64::INFINITY), "Infinity");
        assert_eq!(super::sql_float(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(super::sql_float(f64::NAN), "NaN");
        assert_eq!(super::sql_float(0.5), "0.5");
    }
}
