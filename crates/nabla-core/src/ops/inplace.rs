//! In-place updates for optimisers and initialisers. They bypass the graph (like PyTorch's
//! updates under `no_grad`) and bump the storage version, so a tensor saved for a pending
//! backward pass that gets modified is detected instead of silently giving wrong gradients. As in
//! PyTorch, a leaf that requires grad may be written only under [`no_grad`](crate::no_grad)
//! (where optimisers and initialisers run); elsewhere the write would be lost to autograd. So may
//! a tensor computed by a recorded operation: the write is not recorded, so gradients through it
//! would ignore it (PyTorch records it; the out-of-place operations do here).

use super::ok;
use crate::dtype::{DType, Element, Float};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::kernels::elementwise::fill_chunks;
use crate::storage::Storage;
use crate::tensor::Tensor;
use std::borrow::Cow;

impl Tensor {
    /// Runs `f` on this tensor's elements (mutable) and the elements of `others` (read-only,
    /// same number of elements), in place and outside the graph. This tensor must be
    /// contiguous; element types must all be `T`; a leaf that requires grad, or a tensor
    /// computed by a recorded operation, is written only under `no_grad`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let p = Tensor::from_vec(vec![1.0f32, 2.0], &[2]);
    /// let g = Tensor::from_vec(vec![0.5f32, 0.5], &[2]);
    /// p.try_update_(&[&g], |p: &mut [f32], o| {
    ///     for (w, d) in p.iter_mut().zip(o[0]) {
    ///         *w -= 0.1 * d;
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(p.to_vec::<f32>(), vec![0.95, 1.95]);
    /// ```
    pub fn try_update_<T: Element>(
        &self,
        others: &[&Tensor],
        f: impl FnOnce(&mut [T], &[&[T]]),
    ) -> Result<()> {
        self.check_dtype::<T>("update_")?;
        self.check_writable("update_")?;
        self.update_checked_writable(others, f)
    }

    /// [`Tensor::try_update_`] for a caller that has already checked, under its own name, that
    /// the tensor may be written.
    fn update_checked_writable<T: Element>(
        &self,
        others: &[&Tensor],
        f: impl FnOnce(&mut [T], &[&[T]]),
    ) -> Result<()> {
        self.check_dtype::<T>("update_")?;
        if !self.is_contiguous() {
            return Err(Error::invalid(
                "update_",
                format!(
                    "needs a contiguous tensor, got shape {:?} with strides {:?}",
                    self.shape(),
                    self.layout().strides()
                ),
            ));
        }
        for o in others {
            o.check_dtype::<T>("update_")?;
            if o.numel() != self.numel() {
                return Err(Error::shapes(
                    "update_",
                    self.shape(),
                    o.shape(),
                    "element counts differ",
                ));
            }
        }
        // Copy what aliases this storage first: it cannot be read while being written.
        let owned: Vec<Option<Vec<T>>> = others
            .iter()
            .map(|o| o.shares_storage(self).then(|| o.read(|s: &[T]| s.to_vec())))
            .collect();
        let guards: Vec<_> = others
            .iter()
            .zip(&owned)
            .map(|(o, c)| c.is_none().then(|| o.0.storage.read()))
            .collect();
        let slices: Vec<Cow<[T]>> = others
            .iter()
            .zip(&owned)
            .zip(&guards)
            .map(|((o, copy), guard)| match (copy, guard) {
                (Some(c), _) => Cow::Borrowed(c.as_slice()),
                (None, Some(g)) if o.is_contiguous() => {
                    let l = o.layout();
                    Cow::Borrowed(&Storage::slice_of::<T>(g)[l.contiguous_span()])
                }
                _ => Cow::Owned(o.read(|s: &[T]| s.to_vec())),
            })
            .collect();
        let refs: Vec<&[T]> = slices.iter().map(|c| c.as_ref()).collect();
        let mut guard = self.0.storage.write();
        let l = self.layout();
        let data = &mut T::slice_mut(&mut guard).expect("dtype checked")[l.contiguous_span()];
        f(data, &refs);
        Ok(())
    }

    /// Copies `src` (same number of elements and dtype) into this tensor, in place.
    #[track_caller]
    pub fn copy_(&self, src: &Tensor) {
        ok(self.try_copy_(src))
    }

    /// Fallible form of [`Tensor::copy_`].
    ///
    /// ```
    /// use nabla_core::{Tensor, no_grad};
    /// let w = Tensor::zeros(&[2], nabla_core::DType::F64).requires_grad();
    /// let src = Tensor::ones(&[2], nabla_core::DType::F64);
    /// let err = w.try_copy_(&src).unwrap_err();
    /// assert!(err.to_string().starts_with("copy_: a leaf tensor of shape [2] that requires grad"));
    /// no_grad(|| w.copy_(&src));
    /// assert_eq!(w.to_vec::<f64>(), vec![1.0, 1.0]);
    /// ```
    pub fn try_copy_(&self, src: &Tensor) -> Result<()> {
        self.check_writable("copy_")?;
        crate::kernels::dispatch_any!(self.dtype(), T => self.update_checked_writable(&[src], |d: &mut [T], s| d.copy_from_slice(s[0])))
    }

    /// `self += alpha · other`, in place (same number of elements).
    #[track_caller]
    pub fn add_scaled_(&self, other: &Tensor, alpha: f64) {
        ok(self.try_add_scaled_(other, alpha))
    }

    /// Fallible form of [`Tensor::add_scaled_`].
    pub fn try_add_scaled_(&self, other: &Tensor, alpha: f64) -> Result<()> {
        self.check_writable("add_scaled_")?;
        dispatch_float!("add_scaled_", self.dtype(), T => self.update_checked_writable(&[other], |d: &mut [T], s| axpy(d, s[0], T::from_f64(alpha))))
    }

    /// Multiplies every element by `s`, in place.
    #[track_caller]
    pub fn mul_scalar_(&self, s: f64) {
        ok(self.try_mul_scalar_(s))
    }

    /// Fallible form of [`Tensor::mul_scalar_`].
    pub fn try_mul_scalar_(&self, s: f64) -> Result<()> {
        self.check_writable("mul_scalar_")?;
        dispatch_float!("mul_scalar_", self.dtype(), T => self.update_checked_writable(&[], |d: &mut [T], _| {
            let s = T::from_f64(s);
            d.iter_mut().for_each(|v| *v *= s);
        }))
    }

    /// Sets every element to `value`, in place; an error for a tensor that is not contiguous.
    pub fn try_fill_(&self, value: f64) -> Result<()> {
        self.check_writable("fill_")?;
        crate::kernels::dispatch_any!(self.dtype(), T => self.update_checked_writable(&[], |d: &mut [T], _| d.fill(T::from_f64(value))))
    }

    /// Panicking form of [`Tensor::try_fill_`].
    #[track_caller]
    pub fn fill_(&self, value: f64) {
        ok(self.try_fill_(value))
    }

    /// Refuses an in-place write to a leaf that requires grad, or to a view of one, while
    /// gradients are recorded, as PyTorch does: the change would be invisible to autograd. So
    /// is a write to any other tensor a recorded operation computed (PyTorch records that one).
    fn check_writable(&self, op: &'static str) -> Result<()> {
        if !crate::is_grad_enabled() {
            return Ok(());
        }
        let what = if self.requires_grad_flag() && self.is_leaf() {
            format!("a leaf tensor of shape {:?}", self.shape())
        } else if let Some(leaf) = self.viewed_leaf() {
            format!("a view of a leaf tensor of shape {:?}", leaf.shape())
        } else if let Some(node) = self.grad_fn() {
            return Err(Error::invalid(
                op,
                format!(
                    "a tensor of shape {:?} computed by {} is being modified in place while \
                     gradients are recorded; the write would not be recorded and gradients \
                     through the tensor would be wrong: use the out-of-place operation, or \
                     write under no_grad",
                    self.shape(),
                    node.name()
                ),
            ));
        } else {
            return Ok(());
        };
        Err(Error::invalid(
            op,
            format!(
                "{what} that requires grad is being used in an in-place operation; run it under \
                 no_grad (as optimisers and initialisers do), or write to a detached copy"
            ),
        ))
    }

    /// The leaf that requires grad whose memory this tensor views, found down its chain of view
    /// operations (each has one input, whose storage it shares).
    fn viewed_leaf(&self) -> Option<Tensor> {
        const VIEWS: [&str; 7] = [
            "ReshapeBackward",
            "SqueezeBackward",
            "UnsqueezeBackward",
            "FlattenBackward",
            "NarrowBackward",
            "PermuteBackward",
            "ExpandBackward",
        ];
        let mut node = self.grad_fn()?;
        while VIEWS.contains(&node.name()) {
            let next = node.next_functions().first()?.clone()?;
            if let Some(leaf) = next.variable() {
                return (leaf.requires_grad_flag() && leaf.shares_storage(self))
                    .then(|| leaf.clone());
            }
            node = next;
        }
        None
    }
}

impl Tensor {
    /// Adds `other`'s elements (in row-major order) into `outer` blocks of this tensor, in
    /// place: block `o` is elements `o·stride + offset ..` `+ width`, and `other` holds
    /// `outer·width` elements. Returns whether it did: only a tensor nobody else can see is
    /// written (see `update_private`), only when the sizes and dtypes agree and `other`
    /// carries no tangent. With
    /// `(1, numel, 0, numel)` it is `self += other`.
    pub(crate) fn add_blocks_private(
        &mut self,
        other: &Tensor,
        (outer, stride, offset, width): (usize, usize, usize, usize),
    ) -> bool {
        let fits = offset + width <= stride && outer * stride == self.numel();
        // A tangent on `other` (forward mode through a backward pass) needs the recorded sum.
        let plain = other.0.tangent.is_none() && other.dtype() == self.dtype();
        if !fits || !plain || other.numel() != outer * width {
            return false;
        }
        fn add<T: Float>(y: &mut [T], x: &[T], (stride, offset, width): (usize, usize, usize)) {
            if stride == width {
                axpy(y, x, T::from_f64(1.0));
            } else {
                for (block, x) in y.chunks_exact_mut(stride).zip(x.chunks_exact(width)) {
                    axpy(&mut block[offset..offset + width], x, T::from_f64(1.0));
                }
            }
        }
        let blocks = (stride, offset, width);
        match self.dtype() {
            DType::F32 => other.read(|x: &[f32]| self.update_private(|y| add(y, x, blocks))),
            DType::F64 => other.read(|x: &[f64]| self.update_private(|y| add(y, x, blocks))),
            _ => false,
        }
    }
}

/// `y += a · x`, in parallel for long vectors.
fn axpy<T: Float>(y: &mut [T], x: &[T], a: T) {
    fill_chunks(y, |start, ys| {
        ys.iter_mut()
            .zip(&x[start..])
            .for_each(|(y, &x)| *y = *y + a * x);
    });
}
