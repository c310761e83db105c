//! The catalog on a Citus cluster: its tables made reference tables, one replica on every node,
//! so `score()` running on a worker (inside a query over a distributed table) finds the model
//! in the worker's own copy, and a deploy or rollback, one write to a reference table, reaches
//! every node in one distributed (two-phase) commit.

use pgrx::prelude::*;

use crate::errors::{invalid, raise_with_hint};
use crate::pg::catalog_settings::CatalogSettings;
use pgrx::PgSqlErrorCode;

/// The catalog tables, in the order they are distributed.
const TABLES: [&str; 4] =
    ["lead_scoring.models", "lead_scoring.model_events", "lead_scoring.lead_feedback", "lead_scoring.monitoring"];

/// Whether this database has the citus extension.
pub fn citus_installed() -> bool {
    let _settings = CatalogSettings::pin();
    Spi::get_one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus')")
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Makes every catalog table that is not one yet a Citus reference table; returns the tables it
/// changed and the number of worker nodes.
pub fn make_reference_tables() -> (Vec<String>, i64) {
    let _settings = CatalogSettings::pin();
    if !citus_installed() {
        raise_with_hint(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "distribute_catalog() needs Citus, and the citus extension is not installed in this database",
            "on a Citus coordinator: CREATE EXTENSION citus; then add the workers and call it again",
        );
    }
    let mut changed = Vec::new();
    for table in TABLES {
        let distributed = Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass)",
            &[table.into()],
        )
        .unwrap_or_else(|e| invalid(format!("cannot read Citus' metadata: {e}")))
        .unwrap_or(false);
        if distributed {
            continue;
        }
        // models carries the statement trigger that tells every backend a model changed; Citus
        // copies it to the shards (so each node's backends hear of changes) only with this on.
        with_triggers_on_distributed_tables(|| {
            Spi::run_with_args("SELECT pg_catalog.create_reference_table($1::pg_catalog.regclass)", &[table.into()])?;
            // The rows now live in the shards; the coordinator's own heap copy is dead weight.
            Spi::run_with_args(
                "SELECT pg_catalog.truncate_local_data_after_distributing_table($1::pg_catalog.regclass)",
                &[table.into()],
            )
        })
        .unwrap_or_else(|e| invalid(format!("cannot make {table} a Citus reference table: {e}")));
        changed.push(table.to_string());
    }
    let workers = Spi::get_one::<i64>(
        "SELECT count(*) FROM pg_catalog.pg_dist_node WHERE noderole OPERATOR(pg_catalog.=) 'primary' AND groupid OPERATOR(pg_catalog.<>) 0",
    )
    .unwrap_or_else(|e| invalid(format!("cannot read Citus' node list: {e}")))
    .unwrap_or(0);
    (changed, workers)
}

/// Whether `table` is a Citus distributed or reference table.
pub fn is_distributed(table: pg_sys::Oid) -> bool {
    let _settings = CatalogSettings::pin();
    citus_installed()
        && Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) $1)",
            &[table.into()],
        )
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Runs `f` with `citus.enable_unsafe_triggers` on, the caller's value back afterwards (also
/// when `f` fails). Citus refuses a trigger on a distributed table without it; with it, the
/// trigger is created on every shard. "Unsafe" is about triggers that query other shards; the
/// extension's triggers read only their own row and, for the model, the node's replica of the
/// catalog.
pub fn with_triggers_on_distributed_tables<R>(f: impl FnOnce() -> Result<R, pgrx::spi::Error>) -> Result<R, pgrx::spi::Error> {
    let _settings = CatalogSettings::pin_with(&[(c"citus.enable_unsafe_triggers", c"on")]);
    f()
}
