//! `pg/datum.rs` reads a column's datum as a raw value from its bytes; each reader must give what
//! the server's own conversion gives: `::float8` for numbers and numerics, `extract(epoch ...)`
//! for dates and timestamps, the text itself (bpchar without its padding, as `::text` casts).

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::AnyNumeric;

    use crate::core::data::RawValue;
    use crate::pg::datum::{raw_value, reader_for, utf8_database};

    /// The raw value of `datum`, a non-NULL value of type `type_oid`.
    fn read(type_oid: pg_sys::Oid, datum: pg_sys::Datum) -> RawValue<'static> {
        let reader = reader_for(type_oid).expect("a feature type");
        // SAFETY: `datum` is a non-NULL datum of `type_oid`, made just before by the caller,
        // and lives until the end of the test's transaction.
        unsafe { raw_value(reader, datum, utf8_database()) }
    }

    fn number(v: RawValue<'_>) -> f64 {
        match v {
            RawValue::Number(x) => x,
            other => panic!("expected a number, got {other:?}"),
        }
    }

    /// `expr` (SQL of the given type) read as a number equals `float_sql` evaluated by the server,
    /// bit for bit (both NaN counts as equal).
    fn same_number<T: IntoDatum + FromDatum>(type_oid: pg_sys::Oid, expr: &str, float_sql: &str) {
        let value = Spi::get_one::<T>(&format!("SELECT {expr}")).unwrap().expect("non-NULL");
        let datum = value.into_datum().expect("a datum");
        let ours = number(read(type_oid, datum));
        let server = Spi::get_one::<f64>(&format!("SELECT {float_sql}")).unwrap().expect("non-NULL");
        assert!(ours.to_bits() == server.to_bits() || (ours.is_nan() && server.is_nan()), "{expr}: {ours} against {server}");
    }

    #[pg_test]
    fn integers_and_floats_read_as_their_float8_cast() {
        for v in ["'-32768'", "0", "32767"] {
            same_number::<i16>(pg_sys::INT2OID, &format!("{v}::int2"), &format!("{v}::int2::float8"));
        }
        for v in ["'-2147483648'", "7", "2147483647"] {
            same_number::<i32>(pg_sys::INT4OID, &format!("{v}::int4"), &format!("{v}::int4::float8"));
        }
        for v in ["'-9223372036854775808'", "9007199254740993", "9223372036854775807"] {
            same_number::<i64>(pg_sys::INT8OID, &format!("{v}::int8"), &format!("{v}::int8::float8"));
        }
        for v in ["'0.1'", "'-3.4e38'", "'NaN'", "'Infinity'"] {
            same_number::<f32>(pg_sys::FLOAT4OID, &format!("{v}::float4"), &format!("{v}::float4::float8"));
        }
        for v in ["'0.1'", "'1e308'", "'-0'", "'NaN'", "'-Infinity'"] {
            same_number::<f64>(pg_sys::FLOAT8OID, &format!("{v}::float8"), &format!("{v}::float8"));
        }
    }

    #[pg_test]
    fn numerics_read_as_their_float8_cast() {
        let values = [
            "0",
            "1",
            "-1",
            "0.1",
            "123.456",
            "-0.000001",
            "99999999999999999999.5",
            "1e-300",
            "12345678901234567890123456789",
            "0.30000000000000000000000000001",
            "'NaN'",
            "1e20",
            "-7.5e-12",
        ];
        for v in values {
            same_number::<AnyNumeric>(pg_sys::NUMERICOID, &format!("{v}::numeric"), &format!("{v}::numeric::float8"));
        }
    }

    #[pg_test]
    fn dates_and_timestamps_read_as_seconds_since_1970() {
        for d in ["'2024-02-29'", "'1970-01-01'", "'1900-03-01'", "'4000-12-31'"] {
            same_number::<pgrx::datum::Date>(
                pg_sys::DATEOID,
                &format!("{d}::date"),
                &format!("extract(epoch FROM {d}::date)::float8"),
            );
        }
        for t in ["'2024-02-29 13:45:01.123456'", "'1969-12-31 23:59:59.5'", "'2000-01-01 00:00'"] {
            same_number::<pgrx::datum::Timestamp>(
                pg_sys::TIMESTAMPOID,
                &format!("{t}::timestamp"),
                &format!("extract(epoch FROM {t}::timestamp)::float8"),
            );
            same_number::<pgrx::datum::TimestampWithTimeZone>(
                pg_sys::TIMESTAMPTZOID,
                &format!("{t}::timestamptz"),
                &format!("extract(epoch FROM {t}::timestamptz)::float8"),
            );
        }
        // Infinite dates become Infinity, which preprocessing then rejects naming the column.
        let infinite = Spi::get_one::<pgrx::datum::Date>("SELECT 'infinity'::date").unwrap().unwrap();
        assert!(number(read(pg_sys::DATEOID, infinite.into_datum().unwrap())).is_infinite());
    }

    #[pg_test]
    fn text_varchar_and_bpchar_read_as_their_text_cast() {
        let long = "é".repeat(300);
        for (sql_type, oid) in [("text", pg_sys::TEXTOID), ("varchar(1000)", pg_sys::VARCHAROID), ("char(12)", pg_sys::BPCHAROID)]
        {
            for v in ["", "Google", "  both  ", "Ünïcödé", long.as_str()] {
                let expr = format!("'{v}'::{sql_type}");
                let value = Spi::get_one::<String>(&format!("SELECT ({expr})::text")).unwrap().unwrap_or_default();
                // The bytes as the column type stores them: bpchar keeps its padding to 12.
                let stored_sql =
                    if oid == pg_sys::BPCHAROID { format!("rpad(({expr})::text, 12)") } else { format!("({expr})::text") };
                let stored = Spi::get_one::<String>(&format!("SELECT {stored_sql}")).unwrap().unwrap_or_default();
                let datum = stored.as_str().into_datum().unwrap();
                match read(oid, datum) {
                    RawValue::Text(t) => assert_eq!(t, value, "{expr}"),
                    other => panic!("{expr}: expected text, got {other:?}"),
                }
            }
        }
    }
}
