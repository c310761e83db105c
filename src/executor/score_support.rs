//! Planner support for `score()`, `tier()`, `score_100()` and `expected_value()`. A call on a
//! table's whole row, `score('m', l) FROM leads l`, would make the executor form the row into one
//! composite datum that the function then takes apart again: most of the cost of scoring.
//! The support function rewrites the call to `score_fields('m', <row type>, l.c1, l.c2, ...)`,
//! which gets the columns the scan already has (`expected_value('m', 'v', l)` likewise becomes
//! `expected_value_fields('m', 'v', <row type>, l.c1, ...)`). The models are still resolved when
//! the query runs (they may be redeployed after planning), by the same names, so the result is
//! the same.
//!
//! Only rewritten where it cannot change the answer: a whole-row reference to a table of this
//! query level that is not on the nullable side of an outer join (there the whole row can be
//! NULL, and a strict `score()` returns NULL), or a row built from a named row type's columns
//! (a view folded into the query). Anything else keeps the whole-row call.

use pgrx::prelude::*;
use pgrx::PgList;

crate::pg::v1_function_info!(pg_finfo_lead_scoring_score_support);

/// `score_support(internal)`: answers `SupportRequestSimplify` with the `*_fields` call, or
/// NULL (no rewrite) for every other request and every call it cannot rewrite safely.
///
/// # Safety
/// The planner calls it with a valid `fcinfo` whose argument is a support request node.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn lead_scoring_score_support(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    let request = pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<pg_sys::Node>();
    if request.is_null() || !pgrx::is_a(request, pg_sys::NodeTag::T_SupportRequestSimplify) {
        return pg_sys::Datum::from(0usize);
    }
    let simplify = request as *mut pg_sys::SupportRequestSimplify;
    match fields_call((*simplify).root, (*simplify).fcall) {
        Some(call) => pg_sys::Datum::from(call),
        None => pg_sys::Datum::from(0usize),
    }
}

/// The `*_fields` call equivalent to `call`, if the row argument can be passed as columns.
///
/// # Safety
/// `root` and `call` must be the planner's, from a `SupportRequestSimplify`.
unsafe fn fields_call(root: *mut pg_sys::PlannerInfo, call: *mut pg_sys::FuncExpr) -> Option<*mut pg_sys::FuncExpr> {
    let args = PgList::<pg_sys::Node>::from_pg((*call).args);
    // The model names, then the row: (model, lead) or, for expected_value, (model, value_model, lead).
    let (target, names) = fields_function((*call).funcid)?;
    if args.len() != names + 1 {
        return None;
    }
    let (row_type, columns) = row_columns(root, args.get_ptr(names)?)?;
    // The names and the row type come before the columns.
    if columns.len() + names + 1 > pg_sys::FUNC_MAX_ARGS as usize {
        return None;
    }
    let mut fields_args = PgList::<pg_sys::Node>::new();
    for i in 0..names {
        fields_args.push(args.get_ptr(i)?);
    }
    fields_args
        .push(pg_sys::makeConst(pg_sys::REGTYPEOID, -1, pg_sys::InvalidOid, 4, row_type.into_datum()?, false, true).cast());
    for column in columns {
        fields_args.push(column);
    }
    let fields = pg_sys::makeFuncExpr(
        target,
        (*call).funcresulttype,
        fields_args.into_pg(),
        (*call).funccollid,
        (*call).inputcollid,
        pg_sys::CoercionForm::COERCE_EXPLICIT_CALL,
    );
    (*fields).location = (*call).location;
    Some(fields)
}

/// The row type and one expression per attribute (a NULL constant for a dropped column) of a
/// row argument that can be passed as columns.
///
/// # Safety
/// `root` and `row` must be the planner's (`row` an argument of the call being simplified).
unsafe fn row_columns(root: *mut pg_sys::PlannerInfo, row: *mut pg_sys::Node) -> Option<(pg_sys::Oid, Vec<*mut pg_sys::Node>)> {
    if pgrx::is_a(row, pg_sys::NodeTag::T_Var) {
        let var = row as *mut pg_sys::Var;
        if (*var).varattno != 0 || (*var).varlevelsup != 0 || root.is_null() || !is_plain_table_row(root, var) {
            return None;
        }
        let row_type = (*var).vartype;
        let columns = attributes(row_type)
            .into_iter()
            .enumerate()
            .map(|(i, attribute)| match attribute {
                None => pg_sys::makeNullConst(pg_sys::INT4OID, -1, pg_sys::InvalidOid).cast(),
                Some((type_oid, typmod, collation)) => {
                    pg_sys::makeVar((*var).varno, (i + 1) as pg_sys::AttrNumber, type_oid, typmod, collation, 0).cast()
                }
            })
            .collect();
        Some((row_type, columns))
    } else if pgrx::is_a(row, pg_sys::NodeTag::T_RowExpr) {
        let row_expr = row as *mut pg_sys::RowExpr;
        let row_type = (*row_expr).row_typeid;
        if row_type == pg_sys::RECORDOID || pg_sys::get_typ_typrelid(row_type) == pg_sys::InvalidOid {
            return None;
        }
        let fields = PgList::<pg_sys::Node>::from_pg((*row_expr).args);
        let attributes = attributes(row_type);
        // A row built for the row type has one field per attribute, each of the column's type.
        let matches = fields.len() == attributes.len()
            && fields.iter_ptr().zip(&attributes).all(|(f, a)| a.is_none_or(|(t, _, _)| pg_sys::exprType(f) == t));
        matches.then(|| (row_type, fields.iter_ptr().collect()))
    } else {
        None
    }
}

/// Each attribute of a named row type: (type, typmod, collation), or None when dropped.
///
/// # Safety
/// `row_type` must be a row type's oid (a lookup failure is an ERROR).
unsafe fn attributes(row_type: pg_sys::Oid) -> Vec<Option<(pg_sys::Oid, i32, pg_sys::Oid)>> {
    let tupdesc = pg_sys::lookup_rowtype_tupdesc_copy(row_type, -1);
    let natts = (*tupdesc).natts as usize;
    let found = (*tupdesc)
        .attrs
        .as_slice(natts)
        .iter()
        .map(|a| (!a.attisdropped).then_some((a.atttypid, a.atttypmod, a.attcollation)))
        .collect();
    pg_sys::FreeTupleDesc(tupdesc);
    found
}

/// Whether a whole-row variable is a row of a table (or materialized view or foreign table) in
/// this query's FROM that an outer join cannot replace by NULL.
///
/// # Safety
/// `root` must be the planner's and `var` a Var of its query.
unsafe fn is_plain_table_row(root: *mut pg_sys::PlannerInfo, var: *mut pg_sys::Var) -> bool {
    let parse = (*root).parse;
    let rtable = PgList::<pg_sys::RangeTblEntry>::from_pg((*parse).rtable);
    let Some(rte) = usize::try_from((*var).varno - 1).ok().and_then(|i| rtable.get_ptr(i)) else { return false };
    let table_kinds =
        [pg_sys::RELKIND_RELATION, pg_sys::RELKIND_PARTITIONED_TABLE, pg_sys::RELKIND_MATVIEW, pg_sys::RELKIND_FOREIGN_TABLE];
    (*rte).rtekind == pg_sys::RTEKind::RTE_RELATION
        && table_kinds.iter().any(|&k| k as std::ffi::c_char == (*rte).relkind)
        && pg_sys::get_rel_type_id((*rte).relid) == (*var).vartype
        && nullable_in((*parse).jointree.cast(), (*var).varno, false) == Some(false)
}

/// Whether range-table entry `varno` sits on the nullable side of an outer join in the join
/// tree `node` (None when it is not in the tree at all).
///
/// # Safety
/// `node` must be a node of the planner's join tree (or NULL).
unsafe fn nullable_in(node: *mut pg_sys::Node, varno: i32, nullable: bool) -> Option<bool> {
    if node.is_null() {
        return None;
    }
    if pgrx::is_a(node, pg_sys::NodeTag::T_RangeTblRef) {
        return ((*(node as *mut pg_sys::RangeTblRef)).rtindex == varno).then_some(nullable);
    }
    if pgrx::is_a(node, pg_sys::NodeTag::T_FromExpr) {
        let from = PgList::<pg_sys::Node>::from_pg((*(node as *mut pg_sys::FromExpr)).fromlist);
        return from.iter_ptr().find_map(|item| nullable_in(item, varno, nullable));
    }
    if pgrx::is_a(node, pg_sys::NodeTag::T_JoinExpr) {
        let join = node as *mut pg_sys::JoinExpr;
        let (left, right) = match (*join).jointype {
            pg_sys::JoinType::JOIN_INNER => (false, false),
            pg_sys::JoinType::JOIN_LEFT => (false, true),
            pg_sys::JoinType::JOIN_RIGHT => (true, false),
            _ => (true, true), // FULL, and any other kind: assume the worst
        };
        return nullable_in((*join).larg, varno, nullable || left)
            .or_else(|| nullable_in((*join).rarg, varno, nullable || right));
    }
    None
}

/// The `<name>_fields` function next to `score`, `tier`, `score_100` or `expected_value` (same
/// schema), and how many model names come before the row (1, or 2 for expected_value).
///
/// # Safety
/// `funcid` must be a function's oid (score, tier, score_100 or expected_value).
unsafe fn fields_function(funcid: pg_sys::Oid) -> Option<(pg_sys::Oid, usize)> {
    let name = std::ffi::CStr::from_ptr(pg_sys::get_func_name(funcid)).to_str().ok()?;
    let names = match name {
        "score" | "tier" | "score_100" => 1,
        "expected_value" => 2,
        _ => return None,
    };
    let schema = pg_sys::get_namespace_name(pg_sys::get_func_namespace(funcid));
    let target = std::ffi::CString::new(format!("{name}_fields")).ok()?;
    let mut qualified = PgList::<pg_sys::Node>::new();
    qualified.push(pg_sys::makeString(schema).cast());
    qualified.push(pg_sys::makeString(pg_sys::pstrdup(target.as_ptr())).cast());
    let mut argument_types = vec![pg_sys::TEXTOID; names];
    argument_types.extend([pg_sys::REGTYPEOID, pg_sys::ANYOID]);
    let oid = pg_sys::LookupFuncName(qualified.into_pg(), argument_types.len() as i32, argument_types.as_ptr(), true);
    (oid != pg_sys::InvalidOid).then_some((oid, names))
}
