//! `lead_scoring.split_of(model, key, version)`: which part of a version's split a lead was in
//! ('train', 'validation', 'test'), or NULL for a lead the version never saw. train() records
//! per part the hashes of the lead keys' text form (`models.split_keys`); the key given here is
//! hashed the same way. Each backend keeps the decoded keys of the versions it was asked about
//! until the catalog changes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::{AnyElement, PgSqlErrorCode};

use crate::catalog::invalidation::generation;
use crate::catalog::models::{parse_model_spec, ModelSpec};
use crate::catalog::split_keys::split_record;
use crate::core::data::{lead_key_hash, Part, PartKeys};
use crate::errors::{core_ok, invalid, raise_with_hint, required};

/// One version's decoded keys and what its key column is.
pub struct VersionKeys {
    pub name: String,
    pub version: i32,
    pub keys: PartKeys,
    /// The lead key column and its type, as train() recorded them.
    pub column: String,
    pub type_name: String,
    /// Type categories of argument types already checked against the key's (oid -> agrees).
    checked_types: RefCell<HashMap<pg_sys::Oid, bool>>,
}

thread_local! {
    static CACHE: RefCell<(u64, HashMap<(String, Option<i32>), Rc<VersionKeys>>)> = RefCell::new((0, HashMap::new()));
}

/// The keys of `model` ('name' or 'name@3') at `version` (None: as the spec says, else the
/// deployed version); an ERROR when the model, the version or its recorded keys are missing.
pub fn version_keys(model: &str, version: Option<i32>) -> Rc<VersionKeys> {
    let mut spec = parse_model_spec(model);
    if let Some(v) = version {
        if v <= 0 {
            invalid(format!("version must be a positive number, got {v}"));
        }
        match spec.version {
            Some(named) if named != v => {
                invalid(format!("model \"{model}\" names version {named} but version => {v} was given; give one of them"))
            }
            _ => spec.version = Some(v),
        }
    }
    recorded_keys(&spec).unwrap_or_else(|(name, version)| {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("version {version} of model \"{name}\" recorded no lead keys, so which part a lead was in is not known"),
            "train() records them by options.key, or by the source table's single-column primary key; retrain with options.key naming the lead key column",
        )
    })
}

/// The recorded keys of `spec`'s version, or the version's name and number when it recorded
/// none (trained without a lead key); an ERROR when the model or version does not exist.
pub fn recorded_keys(spec: &ModelSpec) -> Result<Rc<VersionKeys>, (String, i32)> {
    let cache_key = (spec.name.clone(), spec.version);
    let now = generation();
    let cached = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != now {
            *c = (now, HashMap::new());
        }
        c.1.get(&cache_key).cloned()
    });
    if let Some(found) = cached {
        return Ok(found);
    }
    let loaded = Rc::new(load(spec)?);
    CACHE.with(|c| c.borrow_mut().1.insert(cache_key, loaded.clone()));
    Ok(loaded)
}

fn load(spec: &ModelSpec) -> Result<VersionKeys, (String, i32)> {
    let record = split_record(spec);
    let Some(bytes) = record.keys else { return Err((record.name, record.version)) };
    let keys = core_ok(PartKeys::decode(&bytes).map_err(|e| e.context(format!("model \"{}@{}\"", record.name, record.version))));
    let lead_keys = &record.split["lead_keys"];
    Ok(VersionKeys {
        name: record.name,
        version: record.version,
        keys,
        column: lead_keys["column"].as_str().unwrap_or("?").to_string(),
        type_name: lead_keys["type"].as_str().unwrap_or("text").to_string(),
        checked_types: RefCell::new(HashMap::new()),
    })
}

impl VersionKeys {
    /// 'train', 'validation' or 'test' for a key's text form; None when never seen.
    pub fn part_of_text(&self, key: &str) -> Option<&'static str> {
        self.part_of(key).map(|p| p.as_str())
    }

    /// The part a key (its text form) was in; None when never seen.
    pub fn part_of(&self, key: &str) -> Option<Part> {
        self.keys.part_of(lead_key_hash(key))
    }

    /// Raises an ERROR when a key of type `oid` cannot be one of this version's keys: its type
    /// category (numbers, strings, dates, ...) differs from the key column's.
    fn check_key_type(&self, oid: pg_sys::Oid) {
        let agrees = *self.checked_types.borrow_mut().entry(oid).or_insert_with(|| {
            // Read-only SPI (select, not Spi::get_one_with_args' update): split_of() is PARALLEL
            // SAFE, and a read-write SPI call in a parallel worker fails ("cannot assign XIDs
            // during a parallel operation").
            Spi::connect(|client| {
                client
                    .select(
                        "SELECT a.typcategory OPERATOR(pg_catalog.=) k.typcategory
                           FROM pg_catalog.pg_type a, pg_catalog.pg_type k
                          WHERE a.oid OPERATOR(pg_catalog.=) $1 AND k.oid OPERATOR(pg_catalog.=) pg_catalog.to_regtype($2)",
                        Some(1),
                        &[oid.into(), self.type_name.as_str().into()],
                    )?
                    .first()
                    .get_one::<bool>()
            })
            .ok()
            .flatten()
            // A key type that no longer resolves is not held against the caller.
            .unwrap_or(true)
        });
        if !agrees {
            let given = Spi::connect(|client| {
                client.select("SELECT pg_catalog.format_type($1, NULL)", Some(1), &[oid.into()])?.first().get_one::<String>()
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| format!("type {oid:?}"));
            raise_with_hint(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                format!(
                    "key has type {given}, but the lead key \"{}\" of model \"{}@{}\" is {}",
                    self.column, self.name, self.version, self.type_name
                ),
                format!("pass the lead's \"{}\" value, or its text form as text", self.column),
            )
        }
    }
}

/// The part of `model`'s split (version `version`, else the one the name says, else the deployed
/// one) that the lead with this key was in: 'train', 'validation', 'test', or NULL when the
/// version never saw it. The key is compared by its text form (`key::text`).
#[pg_extern(stable, parallel_safe)]
fn split_of(model: Option<&str>, key: Option<&str>, version: default!(Option<i32>, "NULL")) -> Option<&'static str> {
    let model = required(model, "model");
    let keys = version_keys(model, version);
    keys.part_of_text(key?)
}

/// `split_of` for a key of any type (an integer, a uuid, ...): its type must be of the key
/// column's kind.
#[pg_extern(stable, parallel_safe, name = "split_of")]
fn split_of_any(model: Option<&str>, key: Option<AnyElement>, version: default!(Option<i32>, "NULL")) -> Option<&'static str> {
    let model = required(model, "model");
    let keys = version_keys(model, version);
    let key = key?;
    keys.check_key_type(key.oid());
    keys.part_of_text(&datum_text(&key))
}

/// A datum's text form, as `::text` gives it (the type's output function).
fn datum_text(value: &AnyElement) -> String {
    let (mut output, mut varlena) = (pg_sys::InvalidOid, false);
    // SAFETY: the type's output function is looked up by the datum's own type oid and called on
    // that non-NULL datum; the returned C string is palloc'd and copied before it is freed.
    unsafe {
        pg_sys::getTypeOutputInfo(value.oid(), &mut output, &mut varlena);
        let text = pg_sys::OidOutputFunctionCall(output, value.datum());
        let owned = std::ffi::CStr::from_ptr(text).to_string_lossy().into_owned();
        pg_sys::pfree(text.cast());
        owned
    }
}
