//! How much memory training may use, and buffers sized from data or options allocated so that
//! running out is an error, never an abort. Rust's allocator aborts the process when an
//! allocation fails, and in a PostgreSQL backend an abort restarts every session of the server,
//! so every large buffer is sized against [`MemoryLimit`] before it exists and then
//! reserved fallibly.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core_err;
use crate::CoreResult;

/// Share of the machine's physical memory one training may use unless told otherwise.
pub const DEFAULT_SHARE_OF_MACHINE: u64 = 4;
/// The limit when the machine's memory cannot be read.
const FALLBACK_LIMIT: u64 = 1 << 30;

/// The most memory one training may hold at once, and the setting that chose it (named in errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryLimit {
    pub bytes: u64,
    pub origin: LimitOrigin,
}

/// Where a [`MemoryLimit`] came from, so an error can say what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitOrigin {
    /// A quarter of the machine's memory.
    Machine,
    /// The `lead_scoring.max_memory` setting.
    Setting,
    /// `options.max_memory` of this call.
    Option,
}

impl Default for MemoryLimit {
    fn default() -> Self {
        MemoryLimit {
            bytes: physical_memory().map_or(FALLBACK_LIMIT, |m| m / DEFAULT_SHARE_OF_MACHINE),
            origin: LimitOrigin::Machine,
        }
    }
}

impl MemoryLimit {
    /// What to change to allow more, for error messages.
    pub fn advice(&self) -> &'static str {
        match self.origin {
            LimitOrigin::Machine => {
                "the limit is a quarter of this machine's memory; set lead_scoring.max_memory or options.max_memory to change it"
            }
            LimitOrigin::Setting => "the limit is lead_scoring.max_memory; in train(), options.max_memory overrides it",
            LimitOrigin::Option => "the limit is options.max_memory",
        }
    }

    /// An error unless `bytes` (None: more than can be counted) fits the limit. `what` names the
    /// buffer and what makes it large ("the design matrix: 320,000 rows x 20,001 inputs").
    pub fn check(&self, bytes: Option<u64>, what: impl FnOnce() -> String) -> CoreResult<()> {
        match bytes {
            Some(b) if b <= self.bytes => Ok(()),
            _ => Err(core_err!(
                MemoryLimit,
                "this call would need {} for {}, more than the memory limit of {} ({})",
                bytes.map_or_else(|| "more memory than can be counted".to_string(), format_bytes),
                what(),
                format_bytes(self.bytes),
                self.advice()
            )),
        }
    }
}

/// Bytes of `count` values of `T`, None on overflow.
pub fn bytes_of<T>(count: usize) -> Option<u64> {
    (count as u64).checked_mul(std::mem::size_of::<T>() as u64)
}

/// Sum of sizes, None if any is None or the sum overflows.
pub fn total(parts: &[Option<u64>]) -> Option<u64> {
    parts.iter().try_fold(0u64, |acc, p| acc.checked_add((*p)?))
}

/// A vector of `count` copies of `value`, reserved fallibly: an error naming `what` instead of an
/// abort when the memory is not there.
pub fn filled_vec<T: Clone>(count: usize, value: T, what: &str) -> CoreResult<Vec<T>> {
    let mut v = empty_vec(count, what)?;
    v.resize(count, value);
    Ok(v)
}

/// An empty vector with room for `capacity` values, reserved fallibly.
pub fn empty_vec<T>(capacity: usize, what: &str) -> CoreResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(capacity).map_err(|_| {
        core_err!(
            OutOfMemory,
            "cannot allocate {} for {what}: the server is out of memory",
            bytes_of::<T>(capacity).map_or_else(|| "more memory than can be counted".to_string(), format_bytes)
        )
    })?;
    Ok(v)
}

/// Bytes for people: "51.2 GB", "640 kB".
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let x = bytes as f64 / size as f64;
            return if x >= 100.0 { format!("{x:.0} {unit}") } else { format!("{x:.1} {unit}") };
        }
    }
    format!("{bytes} bytes")
}

/// `options.max_memory`: a number of bytes, or text with PostgreSQL's memory units ('512MB',
/// '4 GB', '100kB'), at least 1 MB.
pub fn parse_memory_size(key: &str, v: &Value) -> CoreResult<u64> {
    let bad =
        || core_err!(InvalidArgument, "option \"{key}\" must be a size such as '512MB' or '4GB', or a number of bytes, got {v}");
    let bytes = match v {
        Value::Number(n) => n.as_u64().ok_or_else(bad)?,
        Value::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (digits, unit) = (&s[..split], s[split..].trim());
            let number: u64 = digits.parse().map_err(|_| bad())?;
            let scale: u64 = match unit {
                "" | "B" => 1,
                "kB" => 1 << 10,
                "MB" => 1 << 20,
                "GB" => 1 << 30,
                "TB" => 1 << 40,
                _ => return Err(bad()),
            };
            number.checked_mul(scale).ok_or_else(bad)?
        }
        _ => return Err(bad()),
    };
    if bytes < 1 << 20 {
        return Err(core_err!(InvalidArgument, "option \"{key}\" must be at least 1MB, got {v}"));
    }
    Ok(bytes)
}

/// Physical memory of this machine in bytes, if the OS says.
pub fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration.
    let (pages, page) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    (pages > 0 && page > 0).then(|| pages as u64 * page as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_parse_with_postgres_units() {
        assert_eq!(parse_memory_size("max_memory", &json!("512MB")).unwrap(), 512 << 20);
        assert_eq!(parse_memory_size("max_memory", &json!("4 GB")).unwrap(), 4 << 30);
        assert_eq!(parse_memory_size("max_memory", &json!(2_000_000)).unwrap(), 2_000_000);
        for bad in [json!("4 gigs"), json!("-1GB"), json!(-5), json!(1.5), json!(true), json!("99999999999TB")] {
            assert!(parse_memory_size("max_memory", &bad).unwrap_err().message.contains("must be a size"), "{bad}");
        }
        assert!(parse_memory_size("max_memory", &json!("100kB")).unwrap_err().message.contains("at least 1MB"));
    }

    #[test]
    fn a_check_names_the_buffer_the_size_and_the_setting() {
        let limit = MemoryLimit { bytes: 1 << 30, origin: LimitOrigin::Option };
        assert!(limit.check(Some(1 << 30), || "x".into()).is_ok());
        let err = limit.check(bytes_of::<f64>(320_000 * 20_001), || "the design matrix".into()).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::MemoryLimit);
        let err = err.message;
        assert!(
            err.contains("47.7 GB")
                && err.contains("the design matrix")
                && err.contains("1.0 GB")
                && err.contains("options.max_memory"),
            "{err}"
        );
        assert!(limit.check(None, || "x".into()).unwrap_err().message.contains("more memory than can be counted"));
        assert_eq!(total(&[Some(1), bytes_of::<f64>(usize::MAX)]), None);
        assert_eq!(total(&[Some(1), Some(2)]), Some(3));
    }

    #[test]
    fn an_impossible_reservation_is_an_error_not_an_abort() {
        let err = filled_vec(usize::MAX / 16, 0.0f64, "a test buffer").unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::OutOfMemory);
        let err = err.message;
        assert!(err.contains("a test buffer") && err.contains("out of memory"), "{err}");
        assert_eq!(filled_vec(3, 1u8, "small").unwrap(), vec![1, 1, 1]);
    }

    #[test]
    fn the_default_is_a_share_of_the_machine() {
        let limit = MemoryLimit::default();
        assert_eq!(limit.origin, LimitOrigin::Machine);
        if let Some(m) = physical_memory() {
            assert_eq!(limit.bytes, m / DEFAULT_SHARE_OF_MACHINE);
        }
    }
}
