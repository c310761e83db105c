//! A column's datum read as the core's raw value, mostly from its bytes: inline varlenas
//! (text, numeric) without a call into Postgres, dates and timestamps from their integers,
//! everything else through pgrx's conversions. Each guarded call into Postgres costs a setjmp,
//! which per column per row was the largest part of scoring a row.

use pgrx::prelude::*;
use pgrx::AnyNumeric;

use crate::core::data::RawValue;
use crate::errors::bad_data;

/// How one attribute is turned into a raw value.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    Float8,
    Float4,
    Int2,
    Int4,
    Int8,
    Numeric,
    Text,
    /// bpchar: trailing blanks are not significant, as in a ::text cast.
    Bpchar,
    Name,
    Bool,
    /// date: days since 2000-01-01, read as seconds since 1970-01-01 UTC.
    Date,
    /// timestamp and timestamptz: microseconds since 2000-01-01, read as seconds since 1970-01-01 UTC.
    Timestamp,
}

/// Seconds from 1970-01-01 to 2000-01-01, Postgres' own epoch.
const POSTGRES_EPOCH_SECONDS: f64 = 946_684_800.0;

pub fn reader_for(type_oid: pg_sys::Oid) -> Option<Reader> {
    // SAFETY: a syscache lookup by oid from the backend's main thread; an unknown oid is an ERROR.
    Some(match unsafe { pg_sys::getBaseType(type_oid) } {
        pg_sys::FLOAT8OID => Reader::Float8,
        pg_sys::FLOAT4OID => Reader::Float4,
        pg_sys::INT2OID => Reader::Int2,
        pg_sys::INT4OID => Reader::Int4,
        pg_sys::INT8OID => Reader::Int8,
        pg_sys::NUMERICOID => Reader::Numeric,
        pg_sys::TEXTOID | pg_sys::VARCHAROID => Reader::Text,
        pg_sys::BPCHAROID => Reader::Bpchar,
        pg_sys::NAMEOID => Reader::Name,
        pg_sys::BOOLOID => Reader::Bool,
        pg_sys::DATEOID => Reader::Date,
        pg_sys::TIMESTAMPOID | pg_sys::TIMESTAMPTZOID => Reader::Timestamp,
        _ => return None,
    })
}

/// One attribute's value as a raw feature value.
///
/// # Safety
/// `d` must be a non-NULL datum of the type `reader` was chosen for.
#[inline(always)]
pub unsafe fn raw_value<'a>(reader: Reader, d: pg_sys::Datum, utf8_database: bool) -> RawValue<'a> {
    match reader {
        Reader::Float8 => RawValue::Number(f64::from_datum(d, false).unwrap_or(f64::NAN)),
        Reader::Float4 => RawValue::Number(f32::from_datum(d, false).map_or(f64::NAN, f64::from)),
        Reader::Int2 => RawValue::Number(i16::from_datum(d, false).map_or(f64::NAN, f64::from)),
        Reader::Int4 => RawValue::Number(i32::from_datum(d, false).map_or(f64::NAN, f64::from)),
        Reader::Int8 => RawValue::Number(i64::from_datum(d, false).map_or(f64::NAN, |x| x as f64)),
        Reader::Numeric => RawValue::Number(numeric_of(d)),
        Reader::Text => RawValue::Text(text_of(d, utf8_database)),
        Reader::Bpchar => RawValue::Text(text_of(d, utf8_database).trim_end_matches(' ')),
        Reader::Name => {
            let name = &*(d.cast_mut_ptr::<pg_sys::NameData>());
            RawValue::Text(pg_sys::name_data_to_str(name))
        }
        Reader::Bool => RawValue::Text(if bool::from_datum(d, false).unwrap_or(false) { "true" } else { "false" }),
        // 'infinity' dates (the extreme integers) become Infinity, which preprocessing rejects with the column's name.
        Reader::Date => RawValue::Number(match d.value() as i32 {
            i32::MIN | i32::MAX => f64::INFINITY,
            days => f64::from(days) * 86_400.0 + POSTGRES_EPOCH_SECONDS,
        }),
        Reader::Timestamp => RawValue::Number(match d.value() as i64 {
            i64::MIN | i64::MAX => f64::INFINITY,
            micros => micros as f64 / 1e6 + POSTGRES_EPOCH_SECONDS,
        }),
    }
}

/// The bytes of a varlena stored inline and uncompressed (a 1-byte or a 4-byte header), read
/// without a call into Postgres (each guarded call costs a setjmp: 10 text columns, 10 calls
/// a row); `None` for compressed or external values, which go through the detoaster.
/// Little-endian layout, as in postgres.h's VARATT_IS_1B / VARATT_IS_4B_U.
///
/// # Safety
/// `datum` must point to a varlena.
#[inline(always)]
pub unsafe fn plain_varlena<'a>(datum: pg_sys::Datum) -> Option<&'a [u8]> {
    let p = datum.cast_mut_ptr::<u8>();
    let first = *p;
    if first & 0x01 == 0x01 {
        if first == 0x01 {
            return None; // 1-byte external (toast pointer)
        }
        let len = ((first >> 1) & 0x7F) as usize;
        Some(std::slice::from_raw_parts(p.add(1), len - 1))
    } else if first & 0x03 == 0x00 {
        let len = (std::ptr::read_unaligned(p as *const u32) >> 2) as usize;
        Some(std::slice::from_raw_parts(p.add(4), len - 4))
    } else {
        None // 4-byte compressed
    }
}

/// A numeric datum as a double: read from its bytes when that is exact, else through Postgres.
///
/// # Safety
/// `d` must be a non-NULL numeric datum.
#[inline]
unsafe fn numeric_of(d: pg_sys::Datum) -> f64 {
    if let Some(x) = plain_varlena(d).and_then(crate::pg::numeric_bytes::exact_f64) {
        return x;
    }
    let n = AnyNumeric::from_datum(d, false).expect("non-NULL numeric");
    f64::try_from(n).unwrap_or_else(|e| bad_data(format!("numeric feature out of range: {e}")))
}

/// A text datum as &str: inline values read directly, others through pgrx (detoasting).
///
/// # Safety
/// `d` must be a non-NULL text, varchar or bpchar datum.
#[inline(always)]
pub unsafe fn text_of<'a>(d: pg_sys::Datum, utf8_database: bool) -> &'a str {
    match plain_varlena(d) {
        // A UTF8 database only ever stores valid UTF-8 text (Postgres checks it on input).
        Some(bytes) if utf8_database => std::str::from_utf8_unchecked(bytes),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => <&str>::from_datum(d, false).unwrap_or(""),
        },
        None => <&str>::from_datum(d, false).unwrap_or(""),
    }
}

/// A text datum's bytes: inline values read directly, others detoasted.
///
/// # Safety
/// `d` must be a non-NULL varlena datum.
#[inline]
pub unsafe fn varlena_bytes<'a>(d: pg_sys::Datum) -> &'a [u8] {
    plain_varlena(d).unwrap_or_else(|| <&[u8]>::from_datum(d, false).unwrap_or(&[]))
}

/// Whether this backend's database encoding is UTF8 (it never changes within a backend).
pub fn utf8_database() -> bool {
    // SAFETY: reads a backend global set at connection start.
    unsafe { pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32 }
}
