//! Reading a heap tuple's columns up to the last one a model needs, in Rust. It gives what
//! `heap_deform_tuple` gives for those columns, but stops at the last needed one and makes no
//! call into Postgres: each guarded call costs a `sigsetjmp`, and the rescoring trigger reads
//! every row of a COPY. A tuple with fewer attributes than asked for (a column added since it
//! was stored, whose value may be a default kept in the catalog) goes to `heap_deform_tuple`.

use pgrx::pg_sys;

/// Fills `values` and `nulls` for attributes 1 to `last` of `tuple`, as `heap_deform_tuple`
/// does; entries after `last` are left as they were.
///
/// # Safety
/// `tuple` must be a valid heap tuple described by `tupdesc`; `values` and `nulls` must hold
/// at least `(*tupdesc).natts` entries, and `last` must not exceed that.
pub unsafe fn deform_columns(
    tuple: pg_sys::HeapTuple,
    tupdesc: pg_sys::TupleDesc,
    last: usize,
    values: &mut [pg_sys::Datum],
    nulls: &mut [bool],
) {
    let header = (*tuple).t_data;
    let natts = (*tupdesc).natts as usize;
    assert!(values.len() >= natts && nulls.len() >= natts, "deform buffers hold every column");
    if stored_attributes(header) < last || last > natts {
        // Missing attributes read their catalog defaults: Postgres' own code knows how.
        pg_sys::heap_deform_tuple(tuple, tupdesc, values.as_mut_ptr(), nulls.as_mut_ptr());
        return;
    }
    let attrs = (*tupdesc).attrs.as_slice(natts);
    let has_nulls = (*header).t_infomask as u32 & pg_sys::HEAP_HASNULL != 0;
    let bits = (*header).t_bits.as_ptr();
    let data = (header as *const u8).add((*header).t_hoff as usize);
    let mut offset = 0usize;
    for i in 0..last {
        if has_nulls && is_null(bits, i) {
            values[i] = pg_sys::Datum::from(0usize);
            nulls[i] = true;
            continue;
        }
        let attr = &attrs[i];
        let at = data.add(offset);
        // A varlena with a 1-byte header is stored unaligned; its first byte is never zero,
        // while alignment padding is (att_align_pointer in tupmacs.h).
        offset = if attr.attlen == -1 && *at != 0 { offset } else { align(offset, alignment(attr.attalign).unwrap_or(1)) };
        let at = data.add(offset);
        values[i] = fetch(attr, at);
        nulls[i] = false;
        offset += match attr.attlen {
            len if len > 0 => len as usize,
            -1 => varsize_any(at),
            _ => std::ffi::CStr::from_ptr(at.cast()).to_bytes_with_nul().len(),
        };
    }
}

/// The number of attributes stored in a tuple (HeapTupleHeaderGetNatts): fewer than its row
/// type has when columns were added after it was stored.
///
/// # Safety
/// `header` must point to a valid heap tuple header.
#[inline(always)]
pub(crate) unsafe fn stored_attributes(header: pg_sys::HeapTupleHeader) -> usize {
    ((*header).t_infomask2 as u32 & pg_sys::HEAP_NATTS_MASK) as usize
}

/// att_isnull: whether the null bitmap marks attribute `index` (0-based) NULL.
///
/// # Safety
/// `bits` must point to a null bitmap with at least `index + 1` bits.
#[inline(always)]
pub(crate) unsafe fn is_null(bits: *const u8, index: usize) -> bool {
    *bits.add(index >> 3) & (1 << (index & 7)) == 0
}

/// The bytes an `attalign` code stands for ('c', 's', 'i', 'd'); `None` for anything else.
#[inline(always)]
pub(crate) fn alignment(attalign: std::ffi::c_char) -> Option<usize> {
    match attalign as u8 {
        b'c' => Some(1),
        b's' => Some(2),
        b'i' => Some(4),
        b'd' => Some(8),
        _ => None,
    }
}

/// att_align_nominal: the offset rounded up to a multiple of `to` (a power of two).
#[inline(always)]
pub(crate) fn align(offset: usize, to: usize) -> usize {
    (offset + to - 1) & !(to - 1)
}

/// fetchatt: a pass-by-value column's value, sign-extended as Postgres' GetDatum macros do, or
/// a pointer to the column's bytes.
///
/// # Safety
/// `at` must point to the stored bytes of a non-NULL column described by `attr`.
#[inline(always)]
unsafe fn fetch(attr: &pg_sys::FormData_pg_attribute, at: *const u8) -> pg_sys::Datum {
    if !attr.attbyval {
        return pg_sys::Datum::from(at);
    }
    let value = match attr.attlen {
        1 => *(at as *const i8) as i64,
        2 => std::ptr::read_unaligned(at as *const i16) as i64,
        4 => std::ptr::read_unaligned(at as *const i32) as i64,
        _ => std::ptr::read_unaligned(at as *const i64),
    };
    pg_sys::Datum::from(value)
}

/// VARSIZE_ANY: the stored size of a varlena, header included, whatever its header.
///
/// # Safety
/// `at` must point to a stored varlena (any header).
#[inline(always)]
unsafe fn varsize_any(at: *const u8) -> usize {
    let first = *at;
    if first == 0x01 {
        // VARATT_IS_1B_E: an external (TOAST) pointer; its tag says how long it is.
        2 + external_pointer_size(*at.add(1))
    } else if first & 0x01 == 0x01 {
        (first >> 1) as usize // VARSIZE_1B
    } else {
        (std::ptr::read_unaligned(at as *const u32) >> 2) as usize // VARSIZE_4B
    }
}

/// VARTAG_SIZE: the payload size of an external varlena with this tag.
fn external_pointer_size(tag: u8) -> usize {
    match tag as u32 {
        pg_sys::vartag_external::VARTAG_ONDISK => std::mem::size_of::<pg_sys::varatt_external>(),
        pg_sys::vartag_external::VARTAG_INDIRECT => std::mem::size_of::<pg_sys::varatt_indirect>(),
        // VARTAG_EXPANDED_RO and _RW
        _ => std::mem::size_of::<pg_sys::varatt_expanded>(),
    }
}
