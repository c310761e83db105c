//! The rescoring trigger appends the score and tier to a row whose trailing columns are NULL
//! (src/sql/tuple_append.rs): the tuple must be the one heap_form_tuple forms, byte for byte.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::AnyNumeric;

    use crate::pg::tuple_append::{with_columns, with_trailing_columns, ColumnValue};

    /// (length, infomask bits that describe the data, null bitmap and data bytes) of a tuple.
    unsafe fn layout(tuple: pg_sys::HeapTuple) -> (u32, u16, Vec<u8>) {
        let header = (*tuple).t_data;
        let start = std::mem::offset_of!(pg_sys::HeapTupleHeaderData, t_bits);
        let bytes = std::slice::from_raw_parts(header as *const u8, (*tuple).t_len as usize)[start..].to_vec();
        let mask = (pg_sys::HEAP_HASNULL | pg_sys::HEAP_HASVARWIDTH) as u16;
        ((*tuple).t_len, (*header).t_infomask & mask, bytes)
    }

    unsafe fn form(tupdesc: pg_sys::TupleDesc, values: &[Option<pg_sys::Datum>]) -> pg_sys::HeapTuple {
        let mut datums: Vec<pg_sys::Datum> = values.iter().map(|v| v.unwrap_or(pg_sys::Datum::from(0usize))).collect();
        let mut nulls: Vec<bool> = values.iter().map(Option::is_none).collect();
        pg_sys::heap_form_tuple(tupdesc, datums.as_mut_ptr(), nulls.as_mut_ptr())
    }

    #[pg_test]
    fn appended_columns_give_the_tuple_heap_form_tuple_forms() {
        Spi::run(
            "CREATE TABLE shapes (id int, note text, amount numeric, gone int, flag boolean, score float8, tier text, later int);
             ALTER TABLE shapes DROP COLUMN gone",
        )
        .unwrap();
        let relid = Spi::get_one::<pg_sys::Oid>("SELECT 'shapes'::regclass::oid").unwrap().unwrap();
        unsafe {
            let rel = pg_sys::RelationIdGetRelation(relid);
            let tupdesc = (*rel).rd_att;
            let text = |s: &str| s.into_datum();
            let long_tier = "h".repeat(300);
            let notes = [None, Some(text("x")), Some(text(&"n".repeat(200)))];
            let flags = [None, Some(true.into_datum())];
            let tiers = ["hot", "", long_tier.as_str()];
            let mut compared = 0;
            for note in notes {
                for flag in flags {
                    for tier_name in tiers {
                        let amount = Some(AnyNumeric::try_from(12.5f64).unwrap().into_datum().unwrap());
                        let base = [Some(7i32.into_datum().unwrap()), note.flatten(), amount, None, flag.flatten()];
                        let score = 0.8125f64.into_datum().unwrap();
                        let tier = text(tier_name).unwrap();
                        let mut without = base.to_vec();
                        without.extend([None, None, None]);
                        let mut with = base.to_vec();
                        with.extend([Some(score), Some(tier), None]);
                        let columns = [(7, ColumnValue::Text(tier_name)), (6, ColumnValue::Float8(0.8125))];
                        let appended = with_trailing_columns(form(tupdesc, &without), tupdesc, &columns)
                            .expect("trailing NULL columns are appended");
                        assert_eq!(layout(appended), layout(form(tupdesc, &with)), "note {note:?}, flag {flag:?}");
                        compared += 1;
                    }
                }
            }
            assert_eq!(compared, 18);
            // Not appended: a later column holds a value, or the column already has one.
            let full = [
                1i32.into_datum(),
                None,
                None,
                None,
                None,
                Some(0.5f64.into_datum().unwrap()),
                None,
                Some(3i32.into_datum().unwrap()),
            ];
            let later = form(tupdesc, &full);
            let columns = [(6, ColumnValue::Float8(0.25)), (7, ColumnValue::Text("warm"))];
            assert!(with_trailing_columns(later, tupdesc, &columns).is_none());
            // ... and is formed the general way, with the values set and the rest kept.
            let mut expected = full;
            expected[5] = Some(0.25f64.into_datum().unwrap());
            expected[6] = text("warm");
            assert_eq!(layout(with_columns(later, tupdesc, &columns)), layout(form(tupdesc, &expected)));
            pg_sys::RelationClose(rel);
        }
    }

    #[pg_test]
    fn rows_copied_and_inserted_into_an_attached_table_read_back_whole() {
        crate::tests::fixtures::make_leads("leads", 500);
        crate::tests::fixtures::train_default("m", "leads");
        Spi::run(
            "CREATE TABLE incoming (LIKE leads);
             SELECT lead_scoring.attach('incoming', 'm', 'p', 'band', alerts => false);
             ALTER TABLE incoming ADD COLUMN stage text;
             INSERT INTO incoming (id, email, visits, source, opted_in, noise, created_at)
                  SELECT id, email, visits, source, opted_in, noise, created_at FROM leads WHERE id <= 250;
             INSERT INTO incoming (id, email, visits, source, opted_in, noise, created_at, stage)
                  SELECT id, email, visits, source, opted_in, noise, created_at, 'open' FROM leads WHERE id > 250",
        )
        .unwrap();
        let rows = Spi::get_one::<i64>(
            "SELECT count(*) FROM incoming i JOIN leads l USING (id)
              WHERE (i.email, i.visits, i.source, i.opted_in, i.noise, i.created_at) IS NOT DISTINCT FROM
                    (l.email, l.visits, l.source, l.opted_in, l.noise, l.created_at)
                AND i.p = lead_scoring.score('m', l) AND i.band = lead_scoring.tier('m', l)
                AND i.stage IS NOT DISTINCT FROM CASE WHEN i.id > 250 THEN 'open' END",
        )
        .unwrap();
        assert_eq!(rows, Some(500), "the rows with a value after the score columns are formed the general way");
    }
}
