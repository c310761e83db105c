//! The model inputs of many rows (the design matrix), stored dense or sparse. A lead table with
//! a text column of 20,000 companies has 20,000 one-hot inputs of which one is 1 per row: dense,
//! 320,000 rows of it take 51 GB; as sparse rows (the nonzero inputs and where they sit) a few MB.
//! [`Storage::for_inputs`] picks sparse only when the rows are mostly zeros, so ordinary lead tables
//! keep the dense layout the fast logistic passes were tuned on.

use ndarray::Array2;

use crate::core_err;
use crate::resources::{bytes_of, empty_vec, filled_vec, total, MemoryLimit};
use crate::CoreResult;

/// How a design matrix is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Dense,
    Sparse,
}

/// Sparse storage needs 12 bytes per nonzero (index and value) against 8 per input dense; it is
/// chosen when it takes at most this fraction of the dense bytes.
const SPARSE_WHEN_AT_MOST: f64 = 0.25;

impl Storage {
    /// The storage for rows of `width` inputs with at most `nonzeros` of them nonzero.
    pub fn for_inputs(width: usize, nonzeros: usize) -> Storage {
        let sparse = 12.0 * nonzeros as f64 + 8.0;
        if sparse <= SPARSE_WHEN_AT_MOST * 8.0 * width as f64 {
            Storage::Sparse
        } else {
            Storage::Dense
        }
    }

    /// Bytes of `rows` rows in this storage (None: too many to count).
    pub fn bytes(self, rows: usize, width: usize, nonzeros: usize) -> Option<u64> {
        match self {
            Storage::Dense => bytes_of::<f64>(rows.checked_mul(width)?),
            Storage::Sparse => {
                let cells = rows.checked_mul(nonzeros)?;
                total(&[bytes_of::<usize>(rows.checked_add(1)?), bytes_of::<u32>(cells), bytes_of::<f64>(cells)])
            }
        }
    }
}

/// Rows in compressed sparse row form: row `i`'s nonzero inputs are `indices[starts[i]..starts[i + 1]]`
/// (ascending) with `values` at the same positions.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRows {
    cols: usize,
    starts: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

impl SparseRows {
    /// An empty matrix of `cols` inputs with room for `rows` rows of `nonzeros` each.
    pub fn with_capacity(cols: usize, rows: usize, nonzeros: usize) -> CoreResult<SparseRows> {
        let cells = rows.saturating_mul(nonzeros);
        let mut starts = empty_vec(rows.saturating_add(1), "the sparse design matrix")?;
        starts.push(0);
        Ok(SparseRows {
            cols,
            starts,
            indices: empty_vec(cells, "the sparse design matrix")?,
            values: empty_vec(cells, "the sparse design matrix")?,
        })
    }

    /// Appends a row given densely (its zeros are dropped).
    pub fn push_dense_row(&mut self, row: &[f64]) -> CoreResult<()> {
        debug_assert_eq!(row.len(), self.cols);
        for (j, &v) in row.iter().enumerate() {
            if v != 0.0 {
                self.push_entry(j as u32, v)?;
            }
        }
        self.end_row()
    }

    fn push_entry(&mut self, index: u32, value: f64) -> CoreResult<()> {
        if self.indices.len() == self.indices.capacity() {
            let more = self.indices.len().max(1024);
            let failed = |_| core_err!(OutOfMemory, "cannot grow the sparse design matrix: the server is out of memory");
            self.indices.try_reserve(more).map_err(failed)?;
            self.values.try_reserve(more).map_err(failed)?;
        }
        self.indices.push(index);
        self.values.push(value);
        Ok(())
    }

    fn end_row(&mut self) -> CoreResult<()> {
        self.starts
            .try_reserve(1)
            .map_err(|_| core_err!(OutOfMemory, "cannot grow the sparse design matrix: the server is out of memory"))?;
        self.starts.push(self.indices.len());
        Ok(())
    }

    /// Appends every row of `other` (same inputs).
    pub fn append(&mut self, other: &SparseRows) -> CoreResult<()> {
        debug_assert_eq!(self.cols, other.cols);
        let failed = |_| core_err!(OutOfMemory, "cannot grow the sparse design matrix: the server is out of memory");
        self.indices.try_reserve(other.indices.len()).map_err(failed)?;
        self.values.try_reserve(other.values.len()).map_err(failed)?;
        self.starts.try_reserve(other.nrows()).map_err(failed)?;
        let offset = self.indices.len();
        self.indices.extend_from_slice(&other.indices);
        self.values.extend_from_slice(&other.values);
        self.starts.extend(other.starts[1..].iter().map(|s| s + offset));
        Ok(())
    }

    pub fn nrows(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn ncols(&self) -> usize {
        self.cols
    }

    pub fn nonzeros(&self) -> usize {
        self.indices.len()
    }

    /// Row `i`'s nonzero inputs (ascending) and their values.
    #[inline]
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let range = self.starts[i]..self.starts[i + 1];
        (&self.indices[range.clone()], &self.values[range])
    }
}

/// The design matrix of some rows.
#[derive(Debug, Clone, PartialEq)]
pub enum DesignMatrix {
    Dense(Array2<f64>),
    Sparse(SparseRows),
}

/// A borrowed view of a design matrix's rows, as the logistic passes read them.
#[derive(Debug, Clone, Copy)]
pub enum DesignRows<'a> {
    /// Row-major, `rows` rows of `cols` inputs.
    Dense {
        x: &'a [f64],
        rows: usize,
        cols: usize,
    },
    Sparse(&'a SparseRows),
}

impl DesignRows<'_> {
    pub fn nrows(&self) -> usize {
        match self {
            DesignRows::Dense { rows, .. } => *rows,
            DesignRows::Sparse(s) => s.nrows(),
        }
    }

    pub fn ncols(&self) -> usize {
        match self {
            DesignRows::Dense { cols, .. } => *cols,
            DesignRows::Sparse(s) => s.ncols(),
        }
    }

    /// The first input that is NaN or infinite, as (row, input, value).
    pub fn first_non_finite(&self) -> Option<(usize, usize, f64)> {
        match self {
            DesignRows::Dense { x, cols, .. } => x.iter().position(|v| !v.is_finite()).map(|k| (k / cols, k % cols, x[k])),
            DesignRows::Sparse(s) => (0..s.nrows()).find_map(|i| {
                let (idx, val) = s.row(i);
                idx.iter().zip(val).find(|(_, v)| !v.is_finite()).map(|(&j, &v)| (i, j as usize, v))
            }),
        }
    }
}

impl DesignMatrix {
    pub fn nrows(&self) -> usize {
        match self {
            DesignMatrix::Dense(x) => x.nrows(),
            DesignMatrix::Sparse(s) => s.nrows(),
        }
    }

    pub fn ncols(&self) -> usize {
        match self {
            DesignMatrix::Dense(x) => x.ncols(),
            DesignMatrix::Sparse(s) => s.ncols(),
        }
    }

    pub fn rows(&self) -> DesignRows<'_> {
        match self {
            DesignMatrix::Dense(x) => {
                DesignRows::Dense { x: x.as_slice().expect("design matrices are row-major"), rows: x.nrows(), cols: x.ncols() }
            }
            DesignMatrix::Sparse(s) => DesignRows::Sparse(s),
        }
    }

    /// Row `i` written densely into `out` (length [`Self::ncols`]).
    pub fn row_into(&self, i: usize, out: &mut [f64]) {
        match self {
            DesignMatrix::Dense(x) => out.copy_from_slice(x.row(i).as_slice().expect("row-major")),
            DesignMatrix::Sparse(s) => {
                out.fill(0.0);
                let (idx, val) = s.row(i);
                idx.iter().zip(val).for_each(|(&j, &v)| out[j as usize] = v);
            }
        }
    }

    /// The same rows stored dense, if that fits `limit` (`what` says who needs them dense).
    pub fn into_dense(self, limit: &MemoryLimit, what: &str) -> CoreResult<Array2<f64>> {
        let s = match self {
            DesignMatrix::Dense(x) => return Ok(x),
            DesignMatrix::Sparse(s) => s,
        };
        let (n, p) = (s.nrows(), s.ncols());
        limit.check(Storage::Dense.bytes(n, p, 0), || {
            format!("{what}, which needs the design matrix dense: {n} rows x {p} inputs")
        })?;
        let mut x = filled_vec(n * p, 0.0, "the dense design matrix")?;
        for (i, row) in x.chunks_exact_mut(p.max(1)).enumerate().take(n) {
            let (idx, val) = s.row(i);
            idx.iter().zip(val).for_each(|(&j, &v)| row[j as usize] = v);
        }
        Ok(Array2::from_shape_vec((n, p), x).expect("n x p values"))
    }

    /// Mean of each input over the rows, skipping NaN (an input NaN in every row has mean 0).
    pub fn column_means(&self) -> Vec<f64> {
        let p = self.ncols();
        let (mut sums, mut counts) = (vec![0.0; p], vec![0usize; p]);
        match self {
            // Summed row by row: a row-major matrix read column by column reads every cache
            // line once per column.
            DesignMatrix::Dense(x) => {
                for row in x.rows() {
                    for ((s, n), v) in sums.iter_mut().zip(counts.iter_mut()).zip(row) {
                        if !v.is_nan() {
                            (*s, *n) = (*s + v, *n + 1);
                        }
                    }
                }
            }
            // Zeros count as present values: every row counts unless the input is NaN there.
            DesignMatrix::Sparse(m) => {
                counts.fill(m.nrows());
                for i in 0..m.nrows() {
                    let (idx, val) = m.row(i);
                    for (&j, &v) in idx.iter().zip(val) {
                        if v.is_nan() {
                            counts[j as usize] -= 1;
                        } else {
                            sums[j as usize] += v;
                        }
                    }
                }
            }
        }
        sums.iter().zip(&counts).map(|(s, &n)| if n == 0 { 0.0 } else { s / n as f64 }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::LimitOrigin;

    fn sparse_of(x: &Array2<f64>) -> SparseRows {
        let mut s = SparseRows::with_capacity(x.ncols(), x.nrows(), 2).unwrap();
        for row in x.rows() {
            s.push_dense_row(row.as_slice().unwrap()).unwrap();
        }
        s
    }

    #[test]
    fn sparse_rows_round_trip_to_dense() {
        let x = ndarray::array![[0.0, 1.5, 0.0, -2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, f64::NAN, 0.0]];
        let s = sparse_of(&x);
        assert_eq!((s.nrows(), s.ncols(), s.nonzeros()), (3, 4, 4));
        assert_eq!(s.row(0), (&[1u32, 3][..], &[1.5, -2.0][..]));
        assert_eq!(s.row(1).0.len(), 0);
        let limit = MemoryLimit { bytes: 1 << 20, origin: LimitOrigin::Option };
        let back = DesignMatrix::Sparse(s.clone()).into_dense(&limit, "a test").unwrap();
        assert_eq!(format!("{back:?}"), format!("{x:?}"));
        let mut row = vec![9.0; 4];
        DesignMatrix::Sparse(s).row_into(0, &mut row);
        assert_eq!(row, vec![0.0, 1.5, 0.0, -2.0]);
    }

    #[test]
    fn column_means_agree_between_storages_and_skip_nan() {
        let x = ndarray::array![[1.0, f64::NAN, 0.5], [3.0, f64::NAN, 0.0], [0.0, f64::NAN, 2.5]];
        let dense = DesignMatrix::Dense(x.clone()).column_means();
        assert_eq!(dense, vec![4.0 / 3.0, 0.0, 1.0]);
        assert_eq!(DesignMatrix::Sparse(sparse_of(&x)).column_means(), dense);
    }

    #[test]
    fn appending_offsets_the_rows() {
        let (a, b) = (ndarray::array![[1.0, 0.0]], ndarray::array![[0.0, 2.0], [3.0, 4.0]]);
        let mut s = sparse_of(&a);
        s.append(&sparse_of(&b)).unwrap();
        assert_eq!(s.nrows(), 3);
        assert_eq!(s.row(2), (&[0u32, 1][..], &[3.0, 4.0][..]));
    }

    #[test]
    fn storage_is_sparse_only_for_mostly_zero_rows() {
        // A typical lead table: 70 inputs, about 25 nonzero.
        assert_eq!(Storage::for_inputs(70, 25), Storage::Dense);
        // One text column of 20,000 levels and a number.
        assert_eq!(Storage::for_inputs(20_002, 2), Storage::Sparse);
        assert_eq!(Storage::Dense.bytes(320_000, 20_002, 2), Some(320_000 * 20_002 * 8));
        assert_eq!(Storage::Sparse.bytes(10, 100, 2), Some(11 * 8 + 20 * 4 + 20 * 8));
        assert_eq!(Storage::Dense.bytes(usize::MAX, 2, 0), None);
    }

    #[test]
    fn densifying_past_the_limit_is_an_error() {
        let mut s = SparseRows::with_capacity(100_000, 0, 0).unwrap();
        for _ in 0..2000 {
            s.end_row().unwrap();
        }
        let limit = MemoryLimit { bytes: 1 << 20, origin: LimitOrigin::Option };
        let err = DesignMatrix::Sparse(s).into_dense(&limit, "boosted trees").unwrap_err().message;
        assert!(err.contains("boosted trees") && err.contains("2000 rows x 100000 inputs"), "{err}");
    }
}
