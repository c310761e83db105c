//! A small safe layer over LightGBM's C API (crate `lightgbm3-sys`, LightGBM 4.x built
//! statically): datasets from row-major f64 inputs, a booster that grows one tree per call,
//! its validation metric, its model text, and its own predictions (for tests that compare our
//! scoring and TreeSHAP with LightGBM's). Every failing call returns LightGBM's own message.
//!
//! Handles are freed on drop. A booster keeps pointers into the datasets it was given, so the
//! caller keeps those alive longer (declared before the booster, dropped after it).

use std::ffi::{c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use lightgbm3_sys as sys;

const DTYPE_FLOAT32: i32 = 0;
const DTYPE_FLOAT64: i32 = 1;
const PREDICT_RAW_SCORE: i32 = 1;
const PREDICT_CONTRIB: i32 = 3;

/// LightGBM keeps its thread count in one process-wide variable that every dataset, booster and
/// prediction call sets from its own parameters (a model read back sets it to "all cores"): two
/// fits at once in one process would run with each other's count, and differ in the last bits.
/// A backend runs one fit at a time anyway; tests run many, so every fit and every read-back
/// holds this lock.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The lock a LightGBM fit (or read-back with its predictions) holds while it runs.
pub fn exclusive() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// [`exclusive`] for a fit, which waits for the lock only until `stop` is set (None then).
pub fn exclusive_unless(stop: &AtomicBool) -> Option<MutexGuard<'static, ()>> {
    loop {
        match ONE_AT_A_TIME.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) if stop.load(Ordering::Relaxed) => return None,
            Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// LightGBM's message for the call that just failed on this thread.
fn last_error() -> String {
    // SAFETY: LGBM_GetLastError returns a pointer to a NUL-terminated thread-local buffer that
    // stays valid until the next LightGBM call on this thread; it is copied at once.
    let message = unsafe { CStr::from_ptr(sys::LGBM_GetLastError()) };
    message.to_string_lossy().into_owned()
}

fn ok(rc: i32) -> Result<(), String> {
    if rc == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

fn c_text(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| "a LightGBM parameter contains a NUL byte".to_string())
}

fn count(n: usize, what: &str) -> Result<i32, String> {
    i32::try_from(n).map_err(|_| format!("LightGBM takes at most {} {what}, got {n}", i32::MAX))
}

pub struct LgbmDataset(sys::DatasetHandle);

impl LgbmDataset {
    /// A dataset of `rows` rows of `cols` inputs, row-major (NaN = missing), binned with
    /// `params`; a validation set gives its training set as `reference` (the same bins).
    /// In one call: tests and benchmarks; training builds it in parts ([`Self::from_sample`]).
    pub fn from_rows(x: &[f64], rows: usize, cols: usize, params: &str, reference: Option<&LgbmDataset>) -> Result<Self, String> {
        if x.len() != rows * cols {
            return Err(format!("{} values for {rows} rows x {cols} inputs", x.len()));
        }
        let (r, c, p) = (count(rows, "rows")?, count(cols, "inputs")?, c_text(params)?);
        let mut handle: sys::DatasetHandle = ptr::null_mut();
        // SAFETY: `x` holds rows*cols f64 values (checked above) that LightGBM only reads during
        // the call; `p` is NUL-terminated; `reference` is a live dataset or null.
        ok(unsafe {
            sys::LGBM_DatasetCreateFromMat(
                x.as_ptr() as *const c_void,
                DTYPE_FLOAT64,
                r,
                c,
                1,
                p.as_ptr(),
                reference.map_or(ptr::null_mut(), |d| d.0),
                &mut handle,
            )
        })?;
        Ok(LgbmDataset(handle))
    }

    /// The rows LightGBM bins its inputs from (`bin_construct_sample_cnt` of them, drawn with
    /// `data_random_seed`): the sample `LGBM_DatasetCreateFromMat` draws for these parameters.
    pub fn sample_rows(rows: usize, params: &str) -> Result<Vec<usize>, String> {
        let (r, p) = (count(rows, "rows")?, c_text(params)?);
        let mut wanted = 0i32;
        // SAFETY: `p` is NUL-terminated; LightGBM writes one int.
        ok(unsafe { sys::LGBM_GetSampleCount(r, p.as_ptr(), &mut wanted) })?;
        let mut out = vec![0i32; wanted.max(0) as usize];
        let mut written = 0i32;
        // SAFETY: `out` has room for the sample count LightGBM just gave for the same parameters.
        ok(unsafe { sys::LGBM_SampleIndices(r, p.as_ptr(), out.as_mut_ptr() as *mut c_void, &mut written) })?;
        out.truncate(written.clamp(0, wanted) as usize);
        Ok(out.into_iter().map(|i| i as usize).collect())
    }

    /// An empty dataset of `rows` rows whose bins are found from a sample: per input, its
    /// values in the sample that are not zero (NaN included) and their positions among the
    /// `sample_rows` sampled rows (as `LGBM_DatasetCreateFromMat` collects them). The rows
    /// follow through [`Self::push_rows`].
    pub fn from_sample(
        values: &[Vec<f64>],
        positions: &[Vec<i32>],
        sample_rows: usize,
        rows: usize,
        params: &str,
    ) -> Result<Self, String> {
        if values.len() != positions.len() || values.iter().zip(positions).any(|(v, p)| v.len() != p.len()) {
            return Err("sample values and positions differ in length".into());
        }
        let cols = count(values.len(), "inputs")?;
        let per_column: Vec<i32> = values.iter().map(|v| count(v.len(), "sample values")).collect::<Result<_, _>>()?;
        let mut value_ptrs: Vec<*mut f64> = values.iter().map(|v| v.as_ptr() as *mut f64).collect();
        let mut position_ptrs: Vec<*mut i32> = positions.iter().map(|p| p.as_ptr() as *mut i32).collect();
        let (s, r, p) = (count(sample_rows, "sample rows")?, count(rows, "rows")?, c_text(params)?);
        let mut handle: sys::DatasetHandle = ptr::null_mut();
        // SAFETY: one pointer per input to its values and positions (lengths in `per_column`,
        // checked equal above); LightGBM only reads them during the call, despite the mutable
        // pointer types of its signature; `p` is NUL-terminated.
        ok(unsafe {
            sys::LGBM_DatasetCreateFromSampledColumn(
                value_ptrs.as_mut_ptr(),
                position_ptrs.as_mut_ptr(),
                cols,
                per_column.as_ptr(),
                s,
                r,
                r as i64,
                p.as_ptr(),
                &mut handle,
            )
        })?;
        Ok(LgbmDataset(handle))
    }

    /// An empty dataset of `rows` rows binned as `reference` is (a validation set), filled by
    /// [`Self::push_rows`].
    pub fn by_reference(reference: &LgbmDataset, rows: usize) -> Result<Self, String> {
        let mut handle: sys::DatasetHandle = ptr::null_mut();
        // SAFETY: `reference` is a live dataset; LightGBM writes one handle.
        ok(unsafe { sys::LGBM_DatasetCreateByReference(reference.0, count(rows, "rows")? as i64, &mut handle) })?;
        Ok(LgbmDataset(handle))
    }

    /// Bins rows `start..start + rows` (row-major `x`, `cols` inputs each); LightGBM finishes
    /// the dataset when its last row arrives.
    pub fn push_rows(&mut self, x: &[f64], cols: usize, start: usize) -> Result<(), String> {
        let rows = x.len() / cols.max(1);
        if rows * cols != x.len() {
            return Err(format!("{} values are not rows of {cols} inputs", x.len()));
        }
        let (r, c, at) = (count(rows, "rows")?, count(cols, "inputs")?, count(start, "rows")?);
        // SAFETY: the handle is live; `x` holds rows*cols f64 values that LightGBM only reads
        // during the call (and LightGBM checks start + rows against the dataset's rows).
        ok(unsafe { sys::LGBM_DatasetPushRows(self.0, x.as_ptr() as *const c_void, DTYPE_FLOAT64, r, c, at) })
    }

    /// Sets a float field ("label" or "weight"), one value per row.
    pub fn set_field(&mut self, name: &str, values: &[f32]) -> Result<(), String> {
        let (n, name) = (count(values.len(), "values")?, c_text(name)?);
        // SAFETY: the handle is live; LightGBM copies `n` f32 values from `values`.
        ok(unsafe { sys::LGBM_DatasetSetField(self.0, name.as_ptr(), values.as_ptr() as *const c_void, n, DTYPE_FLOAT32) })
    }
}

impl Drop for LgbmDataset {
    fn drop(&mut self) {
        // SAFETY: the handle came from LGBM_DatasetCreateFromMat and is freed once.
        unsafe { sys::LGBM_DatasetFree(self.0) };
    }
}

pub struct LgbmBooster(sys::BoosterHandle);

impl LgbmBooster {
    pub fn new(train: &LgbmDataset, params: &str) -> Result<Self, String> {
        let p = c_text(params)?;
        let mut handle: sys::BoosterHandle = ptr::null_mut();
        // SAFETY: `train` is live (and outlives the booster, see the module note).
        ok(unsafe { sys::LGBM_BoosterCreate(train.0, p.as_ptr(), &mut handle) })?;
        Ok(LgbmBooster(handle))
    }

    /// A booster read back from its model text (for predictions in tests and benchmarks).
    pub fn from_model_text(text: &str) -> Result<Self, String> {
        let t = c_text(text)?;
        let _alone = exclusive();
        let (mut iterations, mut handle) = (0i32, ptr::null_mut());
        // SAFETY: `t` is NUL-terminated and only read during the call.
        ok(unsafe { sys::LGBM_BoosterLoadModelFromString(t.as_ptr(), &mut iterations, &mut handle) })?;
        Ok(LgbmBooster(handle))
    }

    /// Adds a validation set: evaluated after every tree, as data index 1.
    pub fn add_validation(&mut self, valid: &LgbmDataset) -> Result<(), String> {
        // SAFETY: both handles are live, and `valid` outlives the booster.
        ok(unsafe { sys::LGBM_BoosterAddValidData(self.0, valid.0) })
    }

    /// Grows one more tree; true when no split could be made (training cannot go on).
    pub fn grow_one_tree(&mut self) -> Result<bool, String> {
        let mut finished = 0i32;
        // SAFETY: the handle is live; LightGBM writes one int.
        ok(unsafe { sys::LGBM_BoosterUpdateOneIter(self.0, &mut finished) })?;
        Ok(finished != 0)
    }

    /// The metrics on dataset `index` (0 = training, 1 = the first validation set).
    pub fn evaluate(&self, index: i32) -> Result<Vec<f64>, String> {
        let mut metrics = 0i32;
        // SAFETY: the handle is live; LightGBM writes one int.
        ok(unsafe { sys::LGBM_BoosterGetEvalCounts(self.0, &mut metrics) })?;
        let mut out = vec![0.0f64; metrics.max(0) as usize];
        let mut written = 0i32;
        // SAFETY: `out` has room for the `metrics` values LightGBM writes.
        ok(unsafe { sys::LGBM_BoosterGetEval(self.0, index, &mut written, out.as_mut_ptr()) })?;
        out.truncate(written.max(0) as usize);
        Ok(out)
    }

    /// The model text of the first `trees` trees (0 = all).
    pub fn model_text(&self, trees: usize) -> Result<String, String> {
        let n = count(trees, "trees")?;
        let mut len = 0i64;
        // SAFETY: a zero-length buffer: LightGBM only writes the needed length.
        ok(unsafe { sys::LGBM_BoosterSaveModelToString(self.0, 0, n, 0, 0, &mut len, ptr::null_mut()) })?;
        let mut buf = vec![0u8; len.max(1) as usize];
        // SAFETY: `buf` holds `len` bytes, what LightGBM said the text takes (NUL included).
        ok(unsafe {
            sys::LGBM_BoosterSaveModelToString(self.0, 0, n, 0, buf.len() as i64, &mut len, buf.as_mut_ptr() as *mut _)
        })?;
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        buf.truncate(end);
        String::from_utf8(buf).map_err(|_| "LightGBM's model text is not UTF-8".to_string())
    }

    fn predict(&self, x: &[f64], cols: usize, kind: i32, per_row: usize) -> Result<Vec<f64>, String> {
        let rows = x.len() / cols.max(1);
        let mut out = vec![0.0f64; rows * per_row];
        let mut len = 0i64;
        let p = c_text("num_threads=1")?;
        let _alone = exclusive();
        // SAFETY: `x` holds rows*cols values; `out` has room for rows*per_row results, the
        // size LightGBM writes for this kind of prediction.
        ok(unsafe {
            sys::LGBM_BoosterPredictForMat(
                self.0,
                x.as_ptr() as *const c_void,
                DTYPE_FLOAT64,
                count(rows, "rows")?,
                count(cols, "inputs")?,
                1,
                kind,
                0,
                -1,
                p.as_ptr(),
                &mut len,
                out.as_mut_ptr(),
            )
        })?;
        Ok(out)
    }

    /// LightGBM's log-odds for row-major inputs.
    pub fn raw_scores(&self, x: &[f64], cols: usize) -> Result<Vec<f64>, String> {
        self.predict(x, cols, PREDICT_RAW_SCORE, 1)
    }

    /// LightGBM's own TreeSHAP: per row, `cols` contributions and then the base value.
    pub fn contributions(&self, x: &[f64], cols: usize) -> Result<Vec<f64>, String> {
        self.predict(x, cols, PREDICT_CONTRIB, cols + 1)
    }
}

impl Drop for LgbmBooster {
    fn drop(&mut self) {
        // SAFETY: the handle came from LGBM_BoosterCreate or a model text and is freed once.
        unsafe { sys::LGBM_BoosterFree(self.0) };
    }
}
