//! State a C-language function keeps between the rows of one statement in `flinfo->fn_extra`:
//! a `*_fields` call site's model and column readers, or a rescoring trigger's. The state is a
//! Rust value boxed on the heap and dropped by a reset callback on `fn_mcxt`, the memory
//! context the function's lookup info lives in, so it goes when the statement's memory does.

use std::any::Any;

use pgrx::prelude::*;

/// The box `fn_extra` points to.
struct Kept {
    state: Box<dyn Any>,
}

/// Drops the state when its memory context is reset or deleted.
#[pg_guard]
unsafe extern "C-unwind" fn drop_kept(arg: *mut std::ffi::c_void) {
    drop(Box::from_raw(arg as *mut Kept));
}

/// This function call's kept state: the one in `fn_extra` while `still_valid` says so, else a
/// new one from `make`, which replaces it.
///
/// # Safety
/// `flinfo` must be the lookup info of the running call; the state must not be used after the
/// call returns control to Postgres' executor for another statement (it lives in `fn_mcxt`).
pub unsafe fn call_state<'a, T: 'static>(
    flinfo: *mut pg_sys::FmgrInfo,
    still_valid: impl FnOnce(&T) -> bool,
    make: impl FnOnce() -> T,
) -> &'a mut T {
    let kept = (*flinfo).fn_extra as *mut Kept;
    if !kept.is_null() {
        match (*kept).state.downcast_mut::<T>() {
            Some(state) if still_valid(state) => return state,
            // Replaced in place: the reset callback registered for this box stays valid.
            _ => {
                (*kept).state = Box::new(make());
                return (*kept).state.downcast_mut::<T>().expect("the state just stored");
            }
        }
    }
    let kept = Box::into_raw(Box::new(Kept { state: Box::new(make()) }));
    let callback = pg_sys::MemoryContextAlloc((*flinfo).fn_mcxt, std::mem::size_of::<pg_sys::MemoryContextCallback>())
        as *mut pg_sys::MemoryContextCallback;
    (*callback).func = Some(drop_kept);
    (*callback).arg = kept.cast();
    pg_sys::MemoryContextRegisterResetCallback((*flinfo).fn_mcxt, callback);
    (*flinfo).fn_extra = kept.cast();
    (*kept).state.downcast_mut::<T>().expect("the state just stored")
}
