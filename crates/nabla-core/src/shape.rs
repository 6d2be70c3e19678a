//! Shapes, strides and the layout of a tensor over its storage: what makes views (reshape,
//! permute, narrow, expand) free. Broadcasting rules (NumPy's) live here too.

use crate::error::{Error, Result};
use smallvec::SmallVec;

/// How many dims a shape holds inline: enough for images in batches (N, C, H, W). A tensor
/// record holds two shapes and a graph node one per input, so each inline slot is paid for in
/// every record copied and every cache line a backward pass touches.
const INLINE_DIMS: usize = 4;

/// Dimensions of a tensor, stored inline for up to [`INLINE_DIMS`] dims.
pub type Dims = SmallVec<[usize; INLINE_DIMS]>;

/// Where a tensor's elements sit in its storage: shape, strides (in elements) and offset.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    pub(crate) shape: Dims,
    pub(crate) strides: Dims,
    pub(crate) offset: usize,
}

/// `dims` as inline dims. `SmallVec`'s own `clone` and `From<&[T]>` push element by element
/// through its generic `extend`, and `from_slice` calls `memcpy` for a few bytes; filling the
/// fixed inline array takes a handful of moves, and dims are copied for every op output.
#[inline]
pub(crate) fn dims_of(dims: &[usize]) -> Dims {
    let mut inline = [0usize; INLINE_DIMS];
    match inline.get_mut(..dims.len()) {
        Some(prefix) => {
            for (slot, &d) in prefix.iter_mut().zip(dims) {
                *slot = d;
            }
            Dims::from_buf_and_len(inline, dims.len())
        }
        None => Dims::from_slice(dims),
    }
}

impl Clone for Layout {
    fn clone(&self) -> Self {
        Layout {
            shape: dims_of(&self.shape),
            strides: dims_of(&self.strides),
            offset: self.offset,
        }
    }
}

/// Row-major strides for `shape`.
#[inline]
pub(crate) fn contiguous_strides(shape: &[usize]) -> Dims {
    let mut strides = dims_of(shape);
    let mut acc = 1;
    for stride in strides.iter_mut().rev() {
        let dim = *stride;
        *stride = acc;
        acc *= dim;
    }
    strides
}

impl Layout {
    /// A row-major layout starting at offset 0, for a shape whose size was checked.
    #[inline]
    pub(crate) fn contiguous(shape: &[usize]) -> Self {
        Layout {
            shape: dims_of(shape),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    /// The dimensions.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Strides in elements, one per dimension.
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// Number of elements (of a shape whose size was checked when the layout was made).
    pub(crate) fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The storage range of a contiguous layout's elements (empty when it has none, wherever
    /// its offset points).
    pub(crate) fn contiguous_span(&self) -> std::ops::Range<usize> {
        match self.numel() {
            0 => 0..0,
            n => self.offset..self.offset + n,
        }
    }

    /// Whether every storage index this layout addresses lies below `len`: the invariant every
    /// view keeps, checked again before a kernel reads through raw pointers.
    pub(crate) fn fits_in(&self, len: usize) -> bool {
        if self.numel() == 0 {
            return true;
        }
        self.shape
            .iter()
            .zip(&self.strides)
            .try_fold(self.offset, |last, (&dim, &stride)| {
                (dim - 1).checked_mul(stride)?.checked_add(last)
            })
            .is_some_and(|last| last < len)
    }

    /// Whether the elements are laid out row-major without gaps (from `offset`).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&dim, &stride) in self.shape.iter().zip(&self.strides).rev() {
            if dim != 1 && stride != expected {
                return false;
            }
            expected *= dim;
        }
        true
    }

    /// Copies the elements this layout addresses in `all` into `out` in row-major order, a row
    /// (the last dim) at a time: one copy when the row's elements are adjacent, one fill when
    /// they are all the same element (a broadcast), a strided loop otherwise.
    pub(crate) fn gather_into<T: Copy>(&self, all: &[T], out: &mut [T]) {
        debug_assert_eq!(out.len(), self.numel());
        let Some(last) = self.shape.len().checked_sub(1) else {
            out[0] = all[self.offset];
            return;
        };
        let (inner, stride) = (self.shape[last], self.strides[last]);
        if out.is_empty() {
            return;
        }
        let rows = Layout {
            shape: self.shape[..last].into(),
            strides: self.strides[..last].into(),
            offset: self.offset,
        };
        let mut chunks = out.chunks_exact_mut(inner);
        rows.for_each_index(|start| {
            let row = chunks.next().expect("one output row per outer index");
            match stride {
                1 => row.copy_from_slice(&all[start..start + inner]),
                0 => row.fill(all[start]),
                _ => {
                    for (i, o) in row.iter_mut().enumerate() {
                        *o = all[start + i * stride];
                    }
                }
            }
        });
    }

    /// Calls `f` with the storage index of every element, in row-major order.
    pub(crate) fn for_each_index(&self, mut f: impl FnMut(usize)) {
        let ndim = self.shape.len();
        if self.numel() == 0 {
            return;
        }
        if ndim == 0 {
            f(self.offset);
            return;
        }
        let inner = self.shape[ndim - 1];
        let inner_stride = self.strides[ndim - 1];
        let mut counter: Dims = smallvec::smallvec![0; ndim - 1];
        let mut base = self.offset;
        loop {
            for i in 0..inner {
                f(base + i * inner_stride);
            }
            // Odometer over the outer dims.
            let mut d = ndim - 1;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                counter[d] += 1;
                base += self.strides[d];
                if counter[d] < self.shape[d] {
                    break;
                }
                base -= self.strides[d] * self.shape[d];
                counter[d] = 0;
            }
        }
    }
}

/// Resolves a possibly negative dimension index against `ndim`. As in PyTorch, a 0-d tensor
/// accepts dim 0 and -1 (both resolve to 0) where an operation treats it as having one dim of
/// size 1, as reductions, `squeeze` and `transpose` do.
pub(crate) fn normalize_dim(op: &'static str, dim: isize, shape: &[usize]) -> Result<usize> {
    let ndim = (shape.len() as isize).max(1);
    let resolved = if dim < 0 { dim + ndim } else { dim };
    if resolved < 0 || resolved >= ndim {
        return Err(Error::DimOutOfRange {
            op,
            dim,
            shape: shape.into(),
        });
    }
    Ok(resolved as usize)
}

/// Resolves a dim whose size is read: unlike [`normalize_dim`], a 0-d tensor has none.
pub(crate) fn existing_dim(op: &'static str, dim: isize, shape: &[usize]) -> Result<usize> {
    if shape.is_empty() {
        return Err(Error::DimOutOfRange {
            op,
            dim,
            shape: shape.into(),
        });
    }
    normalize_dim(op, dim, shape)
}

/// Resolves a list of dims, sorted and without repeats.
pub(crate) fn normalize_dims(op: &'static str, dims: &[isize], shape: &[usize]) -> Result<Dims> {
    let mut out: Dims = Dims::new();
    for &d in dims {
        let d = normalize_dim(op, d, shape)?;
        if out.contains(&d) {
            return Err(Error::invalid(
                op,
                format!("dimension {d} appears twice in {dims:?}"),
            ));
        }
        out.push(d);
    }
    out.sort_unstable();
    Ok(out)
}

/// The shape two operands broadcast to, NumPy style.
pub(crate) fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Dims> {
    let ndim = a.len().max(b.len());
    let mut out: Dims = smallvec::smallvec![0; ndim];
    for i in 0..ndim {
        let da = if i < ndim - a.len() {
            1
        } else {
            a[i - (ndim - a.len())]
        };
        let db = if i < ndim - b.len() {
            1
        } else {
            b[i - (ndim - b.len())]
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(Error::shapes(op, a, b, "cannot broadcast")),
        };
    }
    crate::limits::numel(op, &out)?;
    Ok(out)
}

/// Strides that read a tensor of `layout` as if expanded to `target` (0 on broadcast dims).
pub(crate) fn broadcast_strides(layout: &Layout, target: &[usize]) -> Dims {
    let lead = target.len() - layout.shape.len();
    let mut strides: Dims = smallvec::smallvec![0; target.len()];
    for (i, (&dim, &stride)) in layout.shape.iter().zip(&layout.strides).enumerate() {
        strides[lead + i] = if dim == 1 && target[lead + i] != 1 {
            0
        } else {
            stride
        };
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes("t", &[3, 1], &[4]).unwrap().as_slice(),
            &[3, 4]
        );
        assert_eq!(
            broadcast_shapes("t", &[], &[2, 2]).unwrap().as_slice(),
            &[2, 2]
        );
        let err = broadcast_shapes("add", &[3, 2], &[4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "add: shapes [3, 2] and [4] are incompatible (cannot broadcast)"
        );
    }

    #[test]
    fn strided_walk_visits_in_row_major_order() {
        let layout = Layout {
            shape: smallvec::smallvec![2, 3],
            strides: smallvec::smallvec![1, 2],
            offset: 1,
        };
        let mut seen = vec![];
        layout.for_each_index(|i| seen.push(i));
        assert_eq!(seen, vec![1, 3, 5, 2, 4, 6]);
        let storage: Vec<usize> = (0..8).collect();
        let mut copied = vec![0; 6];
        layout.gather_into(&storage, &mut copied);
        assert_eq!(copied, seen);
        // Broadcast rows (stride 0), adjacent rows (stride 1) and a 0-d layout.
        let expanded = Layout {
            shape: smallvec::smallvec![2, 3],
            strides: smallvec::smallvec![2, 0],
            offset: 1,
        };
        expanded.gather_into(&storage, &mut copied);
        assert_eq!(copied, vec![1, 1, 1, 3, 3, 3]);
        let rows = Layout {
            shape: smallvec::smallvec![2, 2],
            strides: smallvec::smallvec![4, 1],
            offset: 2,
        };
        let mut four = vec![0; 4];
        rows.gather_into(&storage, &mut four);
        assert_eq!(four, vec![2, 3, 6, 7]);
        let scalar = Layout {
            shape: Dims::new(),
            strides: Dims::new(),
            offset: 5,
        };
        let mut one = vec![0];
        scalar.gather_into(&storage, &mut one);
        assert_eq!(one, vec![5]);
        assert!(!layout.is_contiguous());
        assert!(Layout::contiguous(&[2, 1, 3]).is_contiguous());
    }
}
