//! The extension's settings (GUCs). `lead_scoring.max_memory` caps what one train() may hold in
//! memory: past it training stops with an ERROR that names the buffer and the setting,
//! instead of an allocation failure that aborts the backend and restarts every session.
//! `lead_scoring.approvers` names the roles whose members may approve versions trained under
//! `options.deploy = 'approval'`; `lead_scoring.approval_separation` keeps the role that trained
//! a version from approving it (four eyes).

use std::ffi::CString;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

use crate::core::resources::{LimitOrigin, MemoryLimit};

/// In MB; -1 means a quarter of the machine's physical memory.
static MAX_MEMORY_MB: GucSetting<i32> = GucSetting::<i32>::new(-1);

/// Comma-separated role names; empty means the model's owner (and superusers) approve.
static APPROVERS: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// On: the role that trained a version may not approve it.
static APPROVAL_SEPARATION: GucSetting<bool> = GucSetting::<bool>::new(false);

/// Registers the settings; called once per backend from `_PG_init`.
pub fn register() {
    // SUSET: a role that could set it could name itself an approver.
    GucRegistry::define_string_guc(
        c"lead_scoring.approvers",
        c"Roles whose members may approve, reject and edit the cards of every model.",
        c"Comma-separated role names, matched exactly. Empty (the default): each model's owner, its members and superusers. Only superusers may set it (ALTER SYSTEM, ALTER DATABASE ... SET, postgresql.conf).",
        &APPROVERS,
        GucContext::Suset,
        GucFlags::default(),
    );
    // SUSET too: the trainer must not be able to switch it off for its own session.
    GucRegistry::define_bool_guc(
        c"lead_scoring.approval_separation",
        c"Whether the role that trained a version may not approve it.",
        c"On: approve() refuses a version to the role that trained it (models.created_by), so a second person approves every deployment. Off (the default): any approver may. Only superusers may set it.",
        &APPROVAL_SEPARATION,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"lead_scoring.max_memory",
        c"Most memory one lead_scoring.train() call may use.",
        c"Training stops with an error before building a buffer past this limit; -1 (the default) means a quarter of the machine's memory. options.max_memory overrides it for one call.",
        &MAX_MEMORY_MB,
        -1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_MB,
    );
}

/// The training memory limit this session's settings give.
pub fn max_memory() -> MemoryLimit {
    match MAX_MEMORY_MB.get() {
        mb if mb > 0 => MemoryLimit { bytes: (mb as u64) << 20, origin: LimitOrigin::Setting },
        // 0 would refuse every buffer without saying why: an error naming the setting instead.
        0 => crate::errors::invalid(
            "lead_scoring.max_memory = 0 is not a usable limit; set it to -1 (a quarter of physical memory) or at least 1MB",
        ),
        _ => MemoryLimit::default(),
    }
}

/// The role names in `lead_scoring.approvers`, trimmed, empty entries dropped (surrounding
/// double quotes are taken off, so `"Risk Team"` names the role `Risk Team`).
pub fn approvers() -> Vec<String> {
    let raw = APPROVERS.get().map(|c| c.to_string_lossy().into_owned()).unwrap_or_default();
    raw.split(',')
        .map(|r| {
            let r = r.trim();
            r.strip_prefix('"').and_then(|q| q.strip_suffix('"')).unwrap_or(r).to_string()
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// Whether `lead_scoring.approval_separation` is on.
pub fn approval_separation() -> bool {
    APPROVAL_SEPARATION.get()
}
