//! State a C-language function keeps between the rows of one statement in `flinfo->fn_extra`:
//! a `*_fields` call site's model and column readers, or a rescoring trigger's. The state is a
//! Rust value boxed on the heap and dropped by a reset callback on `fn_mcxt`, the memory
//! context the function's lookup info lives in, so it goes when the statement's memory does.

use std::any::TypeId;
use std::ffi::c_void;

use pgrx::prelude::*;

/// What `fn_extra` points to: the state, its type (checked on every call: a constant
/// comparison, not a virtual call) and how to drop it.
struct Kept {
    type_id: TypeId,
    state: *mut c_void,
    drop_state: unsafe fn(*mut c_void),
}

/// Drops the boxed `T` behind `state`.
///
/// # Safety
/// `state` must come from `Box::<T>::into_raw` and not have been dropped yet.
unsafe fn drop_boxed<T>(state: *mut c_void) {
    drop(Box::from_raw(state as *mut T));
}

impl Kept {
    fn new<T: 'static>(state: T) -> Kept {
        Kept { type_id: TypeId::of::<T>(), state: Box::into_raw(Box::new(state)).cast(), drop_state: drop_boxed::<T> }
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        // SAFETY: `drop_state` is `drop_boxed::<T>` for the `T` that `state` was boxed as (set together
        // in `Kept::new`), and a `Kept` is dropped once.
        unsafe { (self.drop_state)(self.state) }
    }
}

/// Drops the state when its memory context is reset or deleted.
///
/// # Safety
/// Postgres calls it once, with the `Kept` box `call_state` registered it for.
#[pg_guard]
unsafe extern "C-unwind" fn drop_kept(arg: *mut c_void) {
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
        if (*kept).type_id == TypeId::of::<T>() && still_valid(&*((*kept).state as *const T)) {
            return &mut *((*kept).state as *mut T);
        }
        // Replaced in place: the reset callback registered for this box stays valid.
        *kept = Kept::new(make());
        return &mut *((*kept).state as *mut T);
    }
    let kept = Box::into_raw(Box::new(Kept::new(make())));
    let callback = pg_sys::MemoryContextAlloc((*flinfo).fn_mcxt, std::mem::size_of::<pg_sys::MemoryContextCallback>())
        as *mut pg_sys::MemoryContextCallback;
    (*callback).func = Some(drop_kept);
    (*callback).arg = kept.cast();
    pg_sys::MemoryContextRegisterResetCallback((*flinfo).fn_mcxt, callback);
    (*flinfo).fn_extra = kept.cast();
    &mut *((*kept).state as *mut T)
}
