//! Batched matrix multiplication on the `gemm` crate, which reads operands through arbitrary
//! strides: transposed views (as in matmul's backward, G·Bᵀ and Aᵀ·G) cost no copy.

use crate::dtype::Float;
use crate::parallel::{SharedMut, for_each_task};
use crate::shape::{Dims, Layout, broadcast_strides};
use crate::storage::Data;
use crate::storage::Storage;
use crate::tensor::Tensor;
use gemm::Parallelism;
use smallvec::SmallVec;

/// Products of at least this many multiply-adds are split over threads.
const PARALLEL_FLOPS: usize = 48 * 48 * 48;

/// A right operand up to this size is packed whole by every strip of rows: it stays in each
/// core's cache (2 MiB of L2 per core on the machine in docs/performance.md).
const SHARED_OPERAND_BYTES: usize = 1 << 20;

/// The narrowest tile a thread is given: a few micro-kernel widths, so that packing and edge
/// handling stay a small part of each tile's work.
const MIN_TILE: usize = 32;

/// An output narrower than this many columns, with at least this many rows, is computed
/// column-major and then transposed (see [`matmul`]).
const NARROW_OUTPUT: usize = 64;

/// `a @ b` for `a: [..., m, k]`, `b: [..., k, n]` with broadcast batch dims `batch`, plus
/// `bias` (`n` values added to every row) when given: the GEMM accumulates onto rows that
/// start as the bias, so the addition costs no pass of its own. Each thread writes the bias
/// into its own part of the output a block of rows at a time, just before the GEMM of that
/// block: no pass over the whole output on one thread, and the block is still in cache when
/// the GEMM reads it back.
///
/// `gemm`'s micro-kernel runs down the columns of a column-major output, 64 rows (f32) at a
/// time, and reads a row-major one as its transpose; so a single product with a narrow output
/// (a weight gradient `gᵀ·x` of a layer with few inputs, `[4H, 28]` for the row-by-row MNIST
/// LSTM) would run with the kernel's rows mostly empty. It is computed column-major instead
/// (the long side down the kernel's rows) and transposed after, `m·n` values.
pub(crate) fn matmul<T: Float>(
    a: &Tensor,
    b: &Tensor,
    batch: &[usize],
    (m, k, n): (usize, usize, usize),
    bias: Option<&[T]>,
) -> Data<T> {
    let batch_count: usize = batch.iter().product();
    let mut out = crate::pool::take(batch_count * m * n);
    if out.is_empty() {
        return out;
    }
    let column_major = batch_count == 1 && n < NARROW_OUTPUT && m >= NARROW_OUTPUT && k > 0;
    if column_major {
        let mut columns = crate::pool::take(m * n);
        products(a, b, batch, (m, k, n), bias, &mut columns, (1, m));
        for (i, out_row) in out.chunks_mut(n).enumerate() {
            for (j, v) in out_row.iter_mut().enumerate() {
                *v = columns[j * m + i];
            }
        }
        return out;
    }
    // With k = 0 the product adds nothing: the output is the bias or zeros, and no GEMM runs.
    if k == 0 {
        match bias {
            Some(row) => out.chunks_mut(n).for_each(|r| r.copy_from_slice(row)),
            None => out.fill(T::default()),
        }
        return out;
    }
    products(a, b, batch, (m, k, n), bias, &mut out, (n, 1));
    out
}

/// Every product of [`matmul`] into `out`, whose product `i` is the m×n matrix at `i·m·n`
/// with element `(r, c)` at `r·strides.0 + c·strides.1`, plus `bias[c]` when given.
fn products<T: Float>(
    a: &Tensor,
    b: &Tensor,
    batch: &[usize],
    (m, k, n): (usize, usize, usize),
    bias: Option<&[T]>,
    out: &mut [T],
    strides: (usize, usize),
) {
    let batch_count: usize = batch.iter().product();
    // Where each product's operand starts; inline for the usual single product.
    let offsets = |t: &Tensor| -> SmallVec<[usize; 4]> {
        let l = t.layout();
        let nb = l.shape.len() - 2;
        let batch_layout = Layout {
            shape: l.shape[..nb].into(),
            strides: l.strides[..nb].into(),
            offset: l.offset,
        };
        let view = Layout {
            shape: batch.into(),
            strides: broadcast_strides(&batch_layout, batch),
            offset: l.offset,
        };
        let mut v = SmallVec::with_capacity(batch_count);
        view.for_each_index(|i| v.push(i));
        v
    };
    let (oa, ob) = (offsets(a), offsets(b));
    let row_col = |t: &Tensor| -> (isize, isize) {
        let s: &Dims = &t.layout().strides;
        (s[s.len() - 2] as isize, s[s.len() - 1] as isize)
    };
    let (a_rs, a_cs) = row_col(a);
    let (b_rs, b_cs) = row_col(b);
    let ga = a.0.storage.read();
    let gb = b.0.storage.read();
    let sa = Storage::slice_of::<T>(&ga);
    let sb = Storage::slice_of::<T>(&gb);
    // The GEMM reads through raw pointers: a layout reaching past its storage would be a
    // memory error, so the invariant every view keeps is checked once more here.
    assert!(
        a.layout().fits_in(sa.len()) && b.layout().fits_in(sb.len()),
        "matmul: an operand's layout reaches outside its storage"
    );
    let operands = Operands {
        a: sa,
        b: sb,
        a_strides: (a_rs, a_cs),
        b_strides: (b_rs, b_cs),
        bias,
    };
    // Inside another kernel's task (the team busy) the strips would run one after the other,
    // each packing its own part again: then one strip.
    let parallel = m * n * k >= PARALLEL_FLOPS && !crate::parallel::team_is_busy();
    let split = Split::choose(batch_count, parallel, (m, k, n), b_cs, size_of::<T>());
    let tiles = split.count;
    let dst = SharedMut(out.as_mut_ptr());
    // Task j computes tile j % tiles of product j / tiles.
    let task = |j: usize| {
        let (i, tile) = (j / tiles, split.tile(j % tiles, (m, n)));
        // SAFETY: product `i` writes only its own m×n block of `out`, a tile only its own part
        // of that block, and `out` outlives the tasks.
        unsafe { operands.product(oa[i], ob[i], k, (dst.at(i * m * n), strides), tile) }
    };
    if parallel {
        for_each_task(batch_count * tiles, &task);
    } else {
        (0..batch_count).for_each(task);
    }
}

/// How a product's output is cut between threads: into `count` equal strips of rows, or of
/// columns.
#[derive(Clone, Copy)]
struct Split {
    count: usize,
    columns: bool,
}

impl Split {
    /// A product large enough to share is cut into one strip per thread; every strip is a
    /// single-threaded GEMM, so a product costs one fork-join however many cache blocks it has
    /// (the `gemm` crate's own threading forks once per block, which on small products costs
    /// more than it gains). A batch of products is spread over threads one product each instead.
    ///
    /// Every strip packs the columns of `b` it needs. Which way to cut:
    /// - `b` read transposed (`b_col_stride != 1`, the forward `x·wᵀ` of a linear layer):
    ///   strips of columns. Packing a transposed operand is a gather as costly as a fair share
    ///   of the arithmetic, and strips of columns share it where strips of rows would each
    ///   repeat it.
    /// - `b` row-major and at most [`SHARED_OPERAND_BYTES`] (a weight gradient `gᵀ·x` has the
    ///   batch as `b`): strips of rows, each packing all of `b` from cache. A strip of rows is a
    ///   contiguous block of the output, so the kernel after the product (an optimiser update,
    ///   which splits buffers front and back the same way) finds its part in its own core's
    ///   cache.
    /// - Otherwise, across the longer side.
    fn choose(
        batch_count: usize,
        parallel: bool,
        (m, k, n): (usize, usize, usize),
        b_col_stride: isize,
        element_bytes: usize,
    ) -> Split {
        let threads = crate::parallel::num_threads();
        if batch_count > 1 || threads == 1 || !parallel {
            return Split {
                count: 1,
                columns: false,
            };
        }
        let min_side = threads * MIN_TILE;
        let columns = if b_col_stride != 1 && n >= min_side {
            true
        } else if m >= min_side && k * n * element_bytes <= SHARED_OPERAND_BYTES {
            false
        } else {
            n > m
        };
        let side = if columns { n } else { m };
        Split {
            count: threads.min(side / MIN_TILE).max(1),
            columns,
        }
    }

    /// Strip `t` of the m×n output.
    fn tile(self, t: usize, (m, n): (usize, usize)) -> Tile {
        let strip = |len: usize| (t * len / self.count, (t + 1) * len / self.count);
        if self.columns {
            Tile {
                rows: (0, m),
                cols: strip(n),
            }
        } else {
            Tile {
                rows: strip(m),
                cols: (0, n),
            }
        }
    }
}

/// A rectangle of the output: rows `rows.0..rows.1`, columns `cols.0..cols.1`.
#[derive(Clone, Copy)]
struct Tile {
    rows: (usize, usize),
    cols: (usize, usize),
}

/// The two operands of a GEMM: their whole storages, read through row and column strides; and
/// the bias added to every row of the product, if any.
struct Operands<'a, T> {
    a: &'a [T],
    b: &'a [T],
    a_strides: (isize, isize),
    b_strides: (isize, isize),
    bias: Option<&'a [T]>,
}

/// About this many output values are biased and then multiplied at a time: a block that stays
/// in the second-level cache between the two.
const BIASED_BLOCK: usize = 1 << 16;

/// The fewest rows of a biased block: each block is a GEMM of its own that lays out the tile's
/// columns of `b` again, so a wide tile takes taller blocks rather than many thin ones.
const MIN_BIASED_ROWS: usize = 256;

impl<T: Float> Operands<'_, T> {
    /// Writes `tile` of the product whose operands start at offsets `a_at` and `b_at` into the
    /// m×n matrix at `dst` with element `(r, c)` at `r·row + c·col`, on the calling thread.
    ///
    /// # Safety
    /// `dst` must point to such a matrix, writable inside `tile` and touched there by no other
    /// thread.
    unsafe fn product(
        &self,
        a_at: usize,
        b_at: usize,
        k: usize,
        (dst, (row, col)): (*mut T, (usize, usize)),
        tile: Tile,
    ) {
        let (a_rs, a_cs) = self.a_strides;
        let (b_rs, b_cs) = self.b_strides;
        let (c0, c1) = tile.cols;
        let gemm_rows = |(r0, r1): (usize, usize)| {
            // SAFETY: the offsets and strides come from the operands' layouts, which stay
            // inside their storages for every (row, col) of an m×k and a k×n matrix; rows
            // r0..r1 of the tile lie inside the m×n output at `dst` (the caller's contract).
            unsafe {
                raw_gemm(
                    (r1 - r0, k, c1 - c0),
                    (dst.add(r0 * row + c0 * col), row as isize, col as isize),
                    (
                        self.a.as_ptr().add(a_at).offset(r0 as isize * a_rs),
                        a_rs,
                        a_cs,
                    ),
                    (
                        self.b.as_ptr().add(b_at).offset(c0 as isize * b_cs),
                        b_rs,
                        b_cs,
                    ),
                    self.bias.is_some(),
                )
            }
        };
        let Some(bias) = self.bias else {
            return gemm_rows(tile.rows);
        };
        let block = (BIASED_BLOCK / (c1 - c0).max(1)).max(MIN_BIASED_ROWS);
        for r0 in (tile.rows.0..tile.rows.1).step_by(block) {
            let r1 = (r0 + block).min(tile.rows.1);
            // SAFETY: rows r0..r1 of the tile's columns lie inside the output (the caller's
            // contract), which is row-major (`col == 1`: a row is one run of values) or
            // column-major (`row == 1`: a column is).
            unsafe {
                if col == 1 {
                    for r in r0..r1 {
                        let run = std::slice::from_raw_parts_mut(dst.add(r * row + c0), c1 - c0);
                        run.copy_from_slice(&bias[c0..c1]);
                    }
                } else {
                    debug_assert_eq!(row, 1, "the output is row- or column-major");
                    for (c, &v) in bias.iter().enumerate().take(c1).skip(c0) {
                        std::slice::from_raw_parts_mut(dst.add(r0 + c * col), r1 - r0).fill(v);
                    }
                }
            }
            gemm_rows((r0, r1));
        }
    }
}

/// A matrix inside a slice: element `(i, j)` at `data[i·row + j·col]`.
#[derive(Clone, Copy)]
pub(crate) struct Strided<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) row: usize,
    pub(crate) col: usize,
}

impl<T> Strided<'_, T> {
    /// Whether every element of a `rows`×`cols` matrix lies inside the slice.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        // In checked arithmetic: a wrapped product would pass for a small offset.
        let last = (rows.saturating_sub(1).checked_mul(self.row))
            .zip(cols.saturating_sub(1).checked_mul(self.col))
            .and_then(|(r, c)| r.checked_add(c));
        rows == 0 || cols == 0 || last.is_some_and(|last| last < self.data.len())
    }
}

/// `dst = a·b`, or `dst += a·b` with `accumulate`, on the calling thread, each matrix given
/// as its first element and its (row, column) strides: the one call into `gemm`.
///
/// # Safety
/// Every element of the m×n `dst`, the m×k `a` and the k×n `b` must be in bounds, and no
/// other thread may touch `dst`'s meanwhile.
unsafe fn raw_gemm<T: Float>(
    (m, k, n): (usize, usize, usize),
    (dst, dst_row, dst_col): (*mut T, isize, isize),
    (a, a_row, a_col): (*const T, isize, isize),
    (b, b_row, b_col): (*const T, isize, isize),
    accumulate: bool,
) {
    // SAFETY: the caller's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            dst_col,
            dst_row,
            accumulate,
            a,
            a_col,
            a_row,
            b,
            b_col,
            b_row,
            T::one(),
            T::one(),
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

/// `dst = a·b`, or `dst += a·b` with `accumulate`, on the calling thread: `a` is m×k and `b`
/// k×n read through their strides, `dst` is m×n with rows `dst_row` elements apart. The GEMM
/// for kernels that work on parts of buffers (a convolution's per-sample products).
pub(crate) fn gemm_into<T: Float>(
    dst: &mut [T],
    dst_row: usize,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    let out = Strided {
        data: &*dst,
        row: dst_row,
        col: 1,
    };
    // The GEMM reads and writes through raw pointers: every matrix must lie inside its slice.
    assert!(
        out.fits(m, n) && a.fits(m, k) && b.fits(k, n),
        "gemm: a matrix reaches outside its buffer"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.chunks_mut(dst_row)
                .take(m)
                .for_each(|r| r[..n].fill(T::default()));
        }
        return;
    }
    // SAFETY: the three matrices lie inside their slices (checked above) and `dst` is borrowed
    // mutably, so no other reference sees the writes.
    unsafe {
        raw_gemm(
            (m, k, n),
            (dst.as_mut_ptr(), dst_row as isize, 1),
            (a.data.as_ptr(), a.row as isize, a.col as isize),
            (b.data.as_ptr(), b.row as isize, b.col as isize),
            accumulate,
        )
    }
}
