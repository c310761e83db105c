//! The trigger reads a row's columns up to the last feature column with its own deform
//! (src/sql/tuple_deform.rs): on stored rows of every layout it must give what
//! heap_deform_tuple gives.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::pg::tuple_deform::deform_columns;

    #[pg_test]
    fn own_deform_reads_stored_rows_as_heap_deform_tuple_does() {
        Spi::run(
            "CREATE TABLE deform_shapes (a int2, b text, c int8, gone text, d \"char\", e boolean, f float4,
                                         g numeric, h name, i date, j timestamptz, k text, l float8, n varchar(20));
             ALTER TABLE deform_shapes ALTER COLUMN k SET STORAGE external;
             -- Rows stored before a column is dropped keep its bytes.
             INSERT INTO deform_shapes
                  SELECT CASE WHEN s % 3 = 0 THEN NULL ELSE s END, repeat('b', s % 5), -s * 1000000000::bigint, 'old',
                         CASE WHEN s % 2 = 0 THEN 'y' END, s % 2 = 0, s / 3.0, s * 1.25, 'n' || s,
                         DATE '2024-01-01' + s, TIMESTAMPTZ '2024-01-01 00:00+00' + s * INTERVAL '1 hour',
                         CASE s % 4 WHEN 0 THEN NULL WHEN 1 THEN 'short' WHEN 2 THEN repeat('k', 300)
                                    ELSE (SELECT string_agg(md5(g::text || s), '') FROM generate_series(1, 200) g) END,
                         CASE WHEN s % 5 = 0 THEN NULL ELSE -s END, 'v' || s
                    FROM generate_series(1, 24) s;
             ALTER TABLE deform_shapes DROP COLUMN gone;
             INSERT INTO deform_shapes (a, b, c, d, e, f, g, h, i, j, k, l, n)
                  SELECT s, repeat('x', 130 + s), NULL, 'z', NULL, -s, NULL, 'm', NULL, NULL, repeat('c', 9000), s, NULL
                    FROM generate_series(1, 6) s;
             -- Rows stored before a column is added have fewer attributes; the default is read from the catalog.
             ALTER TABLE deform_shapes ADD COLUMN o int DEFAULT 42;
             INSERT INTO deform_shapes (a, b, o) VALUES (1, 'after', 7), (NULL, NULL, NULL);",
        )
        .unwrap();
        let relid = Spi::get_one::<pg_sys::Oid>("SELECT 'deform_shapes'::regclass::oid").unwrap().unwrap();
        unsafe {
            let rel = pg_sys::RelationIdGetRelation(relid);
            let tupdesc = (*rel).rd_att;
            let natts = (*tupdesc).natts as usize;
            let flags = pg_sys::ScanOptions::SO_TYPE_SEQSCAN | pg_sys::ScanOptions::SO_ALLOW_PAGEMODE;
            let scan = pg_sys::heap_beginscan(
                rel,
                pg_sys::GetTransactionSnapshot(),
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                flags,
            );
            let mut rows = 0;
            loop {
                let tuple = pg_sys::heap_getnext(scan, pg_sys::ScanDirection::ForwardScanDirection);
                if tuple.is_null() {
                    break;
                }
                let mut expected = vec![pg_sys::Datum::from(0usize); natts];
                let mut expected_nulls = vec![false; natts];
                pg_sys::heap_deform_tuple(tuple, tupdesc, expected.as_mut_ptr(), expected_nulls.as_mut_ptr());
                for last in [1, 5, natts - 1, natts] {
                    let mut values = vec![pg_sys::Datum::from(usize::MAX); natts];
                    let mut nulls = vec![true; natts];
                    deform_columns(tuple, tupdesc, last, &mut values, &mut nulls);
                    for i in 0..last {
                        assert_eq!(nulls[i], expected_nulls[i], "row {rows}, attribute {}, read up to {last}", i + 1);
                        if !expected_nulls[i] {
                            assert_eq!(values[i], expected[i], "row {rows}, attribute {}, read up to {last}", i + 1);
                        }
                    }
                }
                rows += 1;
            }
            pg_sys::heap_endscan(scan);
            pg_sys::RelationClose(rel);
            assert_eq!(rows, 32);
        }
    }
}
