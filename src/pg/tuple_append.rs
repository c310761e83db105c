//! Filling a heap tuple's trailing NULL columns without forming the tuple again. A row that
//! COPY or INSERT hands the rescoring trigger has its score and tier columns NULL, and they are
//! the table's last columns (attach() adds them): the new tuple is the old one's bytes with the
//! two values appended and their NULL bits cleared. Re-forming the whole tuple (computing every
//! column's size, then copying each) was a fifth of the trigger's cost. Anything else (a value
//! after the columns, an UPDATE's non-NULL old score, a kind of value not handled here) gets
//! `None`, and [`with_columns`] forms the tuple the general way.

use pgrx::prelude::*;

use crate::pg::tuple_deform::{align, alignment, is_null, stored_attributes};

/// The most columns appended at once (the trigger appends two).
const MAX_COLUMNS: usize = 4;

/// Header size of a short (1-byte header) varlena.
const SHORT_HEADER: usize = 1;

/// Header size of a varlena with a 4-byte header.
const LONG_HEADER: usize = 4;

/// A value the trigger stores: given as its bytes, so that no datum is allocated for a value
/// that is appended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnValue<'a> {
    Float8(f64),
    Text(&'a str),
}

impl ColumnValue<'_> {
    fn datum(self) -> pg_sys::Datum {
        match self {
            ColumnValue::Float8(x) => x.into_datum(),
            ColumnValue::Text(s) => s.into_datum(),
        }
        .expect("a non-NULL datum")
    }
}

/// A copy of `source` with each of `columns` (attribute number, value) set: appended when the
/// columns are the tuple's trailing NULLs (the usual INSERT or COPY row), else formed by
/// `heap_modify_tuple_by_cols`.
///
/// # Safety
/// `source` must be a valid heap tuple described by `tupdesc`; each column number must be
/// valid and its column of the value's type (float8, or text or varchar).
pub unsafe fn with_columns(
    source: pg_sys::HeapTuple,
    tupdesc: pg_sys::TupleDesc,
    columns: &[(i32, ColumnValue<'_>)],
) -> pg_sys::HeapTuple {
    if let Some(appended) = with_trailing_columns(source, tupdesc, columns) {
        return appended;
    }
    let mut attnos = [0i32; MAX_COLUMNS];
    let mut datums = [pg_sys::Datum::from(0usize); MAX_COLUMNS];
    let no_nulls = [false; MAX_COLUMNS];
    assert!(columns.len() <= MAX_COLUMNS, "at most {MAX_COLUMNS} columns are set at once");
    for (i, &(attno, value)) in columns.iter().enumerate() {
        attnos[i] = attno;
        datums[i] = value.datum();
    }
    pg_sys::heap_modify_tuple_by_cols(
        source,
        tupdesc,
        columns.len() as i32,
        attnos.as_mut_ptr(),
        datums.as_mut_ptr(),
        no_nulls.as_ptr().cast_mut(),
    )
}

/// `source` with each of `columns` (attribute number, value) set, by appending the values
/// after the existing data; `None` when that is not the same as forming the tuple.
///
/// # Safety
/// As for [`with_columns`].
pub unsafe fn with_trailing_columns(
    source: pg_sys::HeapTuple,
    tupdesc: pg_sys::TupleDesc,
    columns: &[(i32, ColumnValue<'_>)],
) -> Option<pg_sys::HeapTuple> {
    let header = (*source).t_data;
    let natts = (*tupdesc).natts as usize;
    let tuple_natts = stored_attributes(header);
    // A tuple with fewer attributes reads the missing ones from their defaults, not as NULL.
    if (*header).t_infomask as u32 & pg_sys::HEAP_HASNULL == 0 || tuple_natts != natts || columns.is_empty() {
        return None;
    }
    // At most a few columns, in attribute order, without a heap allocation per row.
    let mut sorted = [(0i32, ColumnValue::Float8(0.0)); MAX_COLUMNS];
    let columns = sorted.get_mut(..columns.len()).map(|c| {
        c.copy_from_slice(columns);
        c.sort_unstable_by_key(|c| c.0);
        &*c
    })?;
    let first = columns[0].0 as usize;
    let bits = (*header).t_bits.as_ptr();
    if first < 1 || columns.last()?.0 as usize > natts || !(first..=natts).all(|attno| is_null(bits, attno - 1)) {
        return None;
    }
    let attrs = (*tupdesc).attrs.as_slice(natts);
    // The appended bytes, laid out as heap_fill_tuple lays them out, at offsets from the start
    // of the data area (which is MAXALIGNed, so relative alignment is absolute alignment).
    let hoff = (*header).t_hoff as usize;
    let mut end = (*source).t_len as usize - hoff;
    let mut pieces = [(0usize, Piece::Word(0)); MAX_COLUMNS];
    let mut varwidth = false;
    for (i, &(attno, value)) in columns.iter().enumerate() {
        let attr = &attrs[attno as usize - 1];
        let piece = match value {
            ColumnValue::Float8(x) if attr.attbyval && attr.attlen == 8 => {
                end = align(end, alignment(attr.attalign)?);
                Piece::Word(x.to_bits())
            }
            ColumnValue::Text(s) if attr.attlen == -1 => {
                let bytes = s.as_bytes();
                varwidth = true;
                if bytes.len() + SHORT_HEADER <= pg_sys::VARATT_SHORT_MAX as usize
                    && attr.attstorage != pg_sys::TYPSTORAGE_PLAIN as std::ffi::c_char
                {
                    Piece::Short(bytes) // heap_fill_tuple stores these with a 1-byte header, unaligned
                } else {
                    end = align(end, alignment(attr.attalign)?);
                    Piece::Long(bytes)
                }
            }
            _ => return None,
        };
        pieces[i] = (end, piece);
        end += piece.len();
    }
    let len = hoff + end;
    let tuple = pg_sys::palloc0(std::mem::size_of::<pg_sys::HeapTupleData>() + len) as pg_sys::HeapTuple;
    let data = (tuple as *mut u8).add(std::mem::size_of::<pg_sys::HeapTupleData>());
    std::ptr::copy_nonoverlapping(header as *const u8, data, (*source).t_len as usize);
    for (offset, piece) in &pieces[..columns.len()] {
        piece.write(data.add(hoff + offset));
    }
    (*tuple).t_len = len as u32;
    (*tuple).t_self = (*source).t_self;
    (*tuple).t_tableOid = (*source).t_tableOid;
    (*tuple).t_data = data as pg_sys::HeapTupleHeader;
    let new_header = (*tuple).t_data;
    // As heap_form_tuple: the datum length in the header's first word.
    std::ptr::write_unaligned(new_header as *mut u32, (len as u32) << 2);
    if varwidth {
        (*new_header).t_infomask |= pg_sys::HEAP_HASVARWIDTH as u16;
    }
    let new_bits = (*new_header).t_bits.as_mut_ptr();
    for &(attno, _) in columns {
        *new_bits.add((attno as usize - 1) >> 3) |= 1 << ((attno as usize - 1) & 7);
    }
    Some(tuple)
}

#[derive(Clone, Copy)]
enum Piece<'a> {
    Word(u64),
    Short(&'a [u8]),
    Long(&'a [u8]),
}

impl Piece<'_> {
    fn len(&self) -> usize {
        match self {
            Piece::Word(_) => 8,
            Piece::Short(bytes) => bytes.len() + SHORT_HEADER,
            Piece::Long(bytes) => bytes.len() + LONG_HEADER,
        }
    }

    /// Writes the value's bytes at `at`.
    ///
    /// # Safety
    /// `at` must have room for the value's stored size, aligned as its column requires.
    unsafe fn write(&self, at: *mut u8) {
        match *self {
            Piece::Word(w) => std::ptr::write_unaligned(at as *mut u64, w),
            Piece::Short(bytes) => {
                *at = (((bytes.len() + SHORT_HEADER) as u8) << 1) | 0x01; // SET_VARSIZE_1B
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), at.add(SHORT_HEADER), bytes.len());
            }
            Piece::Long(bytes) => {
                std::ptr::write_unaligned(at as *mut u32, ((bytes.len() + LONG_HEADER) as u32) << 2); // SET_VARSIZE_4B
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), at.add(LONG_HEADER), bytes.len());
            }
        }
    }
}
