//! Reading a model's features out of any table's row (a composite datum) quickly: the model's
//! columns are resolved to attribute numbers and readers once per row type, then each row is
//! read with `heap_getattr` and no name lookups.

use std::cell::{RefCell, RefMut};
use std::num::NonZeroUsize;
use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::{PgMemoryContexts, PgSqlErrorCode};

use crate::core::data::RawValue;
use crate::core::models::LeadModel;
use crate::errors::raise_with_hint;
use crate::executor::source::type_name;
use crate::pg::datum::{raw_value, reader_for, utf8_database, Reader};
use crate::pg::tuple_deform::deform_columns;

/// Attribute numbers and readers of a model's features for one row type.
pub struct RowBinding {
    pub type_oid: pg_sys::Oid,
    pub typmod: i32,
    tupdesc: pg_sys::TupleDesc,
    fields: Vec<(NonZeroUsize, Reader)>,
    /// The highest attribute number among `fields`: rows are read up to it and no further.
    last_column: usize,
    /// Reused buffers for deforming a row once (heap_getattr per column re-walks the row from
    /// its start once a NULL or a text column comes before: quadratic in the column count).
    /// Only the entries up to `last_column` are filled.
    values: RefCell<Vec<pg_sys::Datum>>,
    nulls: RefCell<Vec<bool>>,
    /// Text can be taken as UTF-8 without checking it again.
    utf8_database: bool,
}

impl Drop for RowBinding {
    fn drop(&mut self) {
        // SAFETY: `tupdesc` is the binding's own copy (lookup_rowtype_tupdesc_copy in `bind`), freed once.
        unsafe { pg_sys::FreeTupleDesc(self.tupdesc) };
    }
}

/// A model as row bindings see it: its features, its name for errors, and where the bindings of
/// the row types it has met are kept (the model cache's entry, so they go when it goes).
pub trait BoundModel {
    fn lead_model(&self) -> &LeadModel;
    /// Name and version, for errors.
    fn name_and_version(&self) -> (&str, i32);
    fn row_bindings(&self) -> &RowBindings;
}

/// The bindings of one model to the row types it has scored (usually one).
#[derive(Default)]
pub struct RowBindings(RefCell<Vec<Rc<RowBinding>>>);

/// Resolves the model's features against a row type, naming any missing column.
fn bind(model: &impl BoundModel, type_oid: pg_sys::Oid, typmod: i32) -> RowBinding {
    let (name, version) = model.name_and_version();
    let lead_model = model.lead_model();
    // Kept across calls, so it lives in TopMemoryContext and is freed when the binding drops.
    // SAFETY: copies the row type's descriptor into TopMemoryContext (an unknown type is an
    // ERROR); the binding owns the copy and frees it when dropped.
    let tupdesc =
        unsafe { PgMemoryContexts::TopMemoryContext.switch_to(|_| pg_sys::lookup_rowtype_tupdesc_copy(type_oid, typmod)) };
    let binding_error = |message: String, hint: String| -> ! {
        // SAFETY: frees the copy made above before the ERROR, which leaves this function for good.
        unsafe { pg_sys::FreeTupleDesc(tupdesc) };
        raise_with_hint(PgSqlErrorCode::ERRCODE_UNDEFINED_COLUMN, message, hint)
    };
    // SAFETY: `tupdesc` is the valid copy made above; `attrs` holds `natts` entries.
    let natts = unsafe { (*tupdesc).natts } as usize;
    let attrs = unsafe { (*tupdesc).attrs.as_slice(natts) };
    let mut fields = Vec::with_capacity(lead_model.preprocessor.features.len());
    for feature in lead_model.feature_names() {
        let found = attrs.iter().enumerate().find(|(_, a)| !a.attisdropped && a.name() == feature);
        let Some((i, attr)) = found else {
            binding_error(
                format!("the row given to lead_scoring has no column \"{feature}\", which model \"{name}@{version}\" needs"),
                "score rows of a table or view that has every feature column the model was trained on".into(),
            );
        };
        let Some(reader) = reader_for(attr.atttypid) else {
            binding_error(
                format!("column \"{feature}\" has type {}, which cannot be a model feature", type_name(attr.atttypid)),
                "cast it to a number, text, boolean or date in a view".into(),
            );
        };
        fields.push((NonZeroUsize::new(i + 1).expect("attribute numbers start at 1"), reader));
    }
    RowBinding {
        type_oid,
        typmod,
        tupdesc,
        last_column: fields.iter().map(|(attno, _)| attno.get()).max().unwrap_or(0),
        fields,
        values: RefCell::new(vec![pg_sys::Datum::from(0usize); natts]),
        nulls: RefCell::new(vec![true; natts]),
        utf8_database: utf8_database(),
    }
}

/// The binding for a row type, created on first sight and kept in the model's cache entry.
pub(crate) fn binding_for(model: &impl BoundModel, type_oid: pg_sys::Oid, typmod: i32) -> Rc<RowBinding> {
    let kept = &model.row_bindings().0;
    if let Some(b) = kept.borrow().iter().find(|b| b.type_oid == type_oid && b.typmod == typmod) {
        return b.clone();
    }
    let b = Rc::new(bind(model, type_oid, typmod));
    kept.borrow_mut().push(b.clone());
    b
}

/// Reads the model's raw feature values out of a composite datum (a whole table row).
///
/// # Safety
/// `datum` must be a non-NULL composite (row) datum.
pub unsafe fn read_row_features<'a>(model: &impl BoundModel, datum: pg_sys::Datum, out: &mut Vec<RawValue<'a>>) {
    // A whole-row argument is almost always a plain 4-byte-header varlena: skip the detoast
    // call. A short (1-byte header) or external composite must go through the detoaster.
    let header = if *datum.cast_mut_ptr::<u8>() & 0x03 == 0x00 {
        datum.cast_mut_ptr::<u8>() as pg_sys::HeapTupleHeader
    } else {
        pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) as pg_sys::HeapTupleHeader
    };
    let type_oid = pgrx::heap_tuple_header_get_type_id(header);
    let typmod = pgrx::heap_tuple_header_get_typmod(header);
    let mut tuple = pg_sys::HeapTupleData {
        t_len: pgrx::heap_tuple_header_get_datum_length(header) as u32,
        t_self: pg_sys::ItemPointerData::default(),
        t_tableOid: pg_sys::InvalidOid,
        t_data: header,
    };
    binding_for(model, type_oid, typmod).read_tuple(&mut tuple, out);
}

impl RowBinding {
    /// Reads the model's raw feature values out of a heap tuple of this row type, such as a
    /// trigger's NEW or OLD row (whose header carries no type id).
    ///
    /// # Safety
    /// `tuple` must be a valid heap tuple of this binding's row type.
    pub unsafe fn read_tuple<'a>(&self, tuple: *mut pg_sys::HeapTupleData, out: &mut Vec<RawValue<'a>>) {
        let row = self.deform(tuple);
        out.clear();
        out.extend((0..self.fields.len()).map(|i| row.value(i)));
    }

    /// The tuple's columns up to the last feature column, read once; [`DeformedRow::value`]
    /// then gives each feature's raw value.
    ///
    /// # Safety
    /// `tuple` must be a valid heap tuple of this binding's row type, and outlive the values
    /// read from the result.
    #[inline]
    pub unsafe fn deform(&self, tuple: *mut pg_sys::HeapTupleData) -> DeformedRow<'_> {
        let mut values = self.values.borrow_mut();
        let mut nulls = self.nulls.borrow_mut();
        deform_columns(tuple, self.tupdesc, self.last_column, &mut values, &mut nulls);
        DeformedRow { binding: self, values, nulls }
    }

    /// The model's `i`-th raw feature value from a call's arguments that hold a row's columns,
    /// one argument per attribute from argument `first` on: what `score(m, l)` is rewritten to
    /// at plan time (score_support.rs), so the row is never formed nor deformed.
    ///
    /// # Safety
    /// The arguments from `first` on must have been checked for this binding's row type
    /// (`check_field_arguments`); `i` must be below the model's feature count.
    #[inline(always)]
    pub unsafe fn argument_value<'a>(&self, args: &[pg_sys::NullableDatum], first: usize, i: usize) -> RawValue<'a> {
        let (attno, reader) = self.fields[i];
        let arg = &args[first + attno.get() - 1];
        if arg.isnull {
            RawValue::Null
        } else {
            raw_value(reader, arg.value, self.utf8_database)
        }
    }
}

/// A row read by [`RowBinding::deform`]: its feature columns, until the next row is read.
pub struct DeformedRow<'b> {
    binding: &'b RowBinding,
    values: RefMut<'b, Vec<pg_sys::Datum>>,
    nulls: RefMut<'b, Vec<bool>>,
}

impl DeformedRow<'_> {
    /// The model's `i`-th raw feature value.
    ///
    /// # Safety
    /// `i` must be below the model's feature count, and the tuple read must outlive `'a`.
    #[inline(always)]
    pub unsafe fn value<'a>(&self, i: usize) -> RawValue<'a> {
        let (attno, reader) = self.binding.fields[i];
        let at = attno.get() - 1;
        if self.nulls[at] {
            RawValue::Null
        } else {
            raw_value(reader, self.values[at], self.binding.utf8_database)
        }
    }
}

/// Checks that a call's arguments from `first` on have exactly the column types of `row_type`,
/// one per attribute (a dropped column's argument may have any type): reading them with the
/// row type's readers is then safe. Errors name the first mismatch.
///
/// # Safety
/// `fcinfo` must be a valid call with an expression (`flinfo->fn_expr`).
pub unsafe fn check_field_arguments(fcinfo: pg_sys::FunctionCallInfo, first: usize, row_type: pg_sys::Oid) {
    let tupdesc = pg_sys::lookup_rowtype_tupdesc_copy(row_type, -1);
    let natts = (*tupdesc).natts as usize;
    let attrs = (*tupdesc).attrs.as_slice(natts);
    let given = (*fcinfo).nargs as usize - first.min((*fcinfo).nargs as usize);
    let mismatch = if given != natts {
        Some(format!("{given} column values for a row type with {natts} columns"))
    } else {
        attrs.iter().enumerate().filter(|(_, a)| !a.attisdropped).find_map(|(i, a)| {
            let t = pg_sys::get_fn_expr_argtype((*fcinfo).flinfo, (first + i) as i32);
            (t != a.atttypid).then(|| format!("column \"{}\" is {}, not {}", a.name(), type_name(a.atttypid), type_name(t)))
        })
    };
    pg_sys::FreeTupleDesc(tupdesc);
    if let Some(m) = mismatch {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            format!("the columns given do not match row type {}: {m}", type_name(row_type)),
            "call score(model, l) with the whole row; the *_fields functions are what the planner rewrites it to",
        );
    }
}
