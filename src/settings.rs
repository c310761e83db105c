//! The extension's settings (GUCs). `lead_scoring.max_memory` caps what one train() may hold in
//! memory: past it training stops with an ERROR that names the buffer and the setting,
//! instead of an allocation failure that aborts the backend and restarts every session.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

use crate::core::resources::{LimitOrigin, MemoryLimit};

/// In MB; -1 means a quarter of the machine's physical memory.
static MAX_MEMORY_MB: GucSetting<i32> = GucSetting::<i32>::new(-1);

/// Registers the settings; called once per backend from `_PG_init`.
pub fn register() {
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
