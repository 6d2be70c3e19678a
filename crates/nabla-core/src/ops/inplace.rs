//! In-place updates for optimisers and initialisers. They bypass the graph (like PyTorch's
//! updates under `no_grad`) and bump the storage version, so a tensor saved for a pending
//! backward pass that gets modified is detected instead of silently giving wrong gradients.

use super::ok;
use crate::dtype::{Element, Float};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::kernels::elementwise::fill_chunks;
use crate::storage::Storage;
use crate::tensor::Tensor;
use std::borrow::Cow;

impl Tensor {
    /// Runs `f` on this tensor's elements (mutable) and the elements of `others` (read-only,
    /// same number of elements), in place and outside the graph. This tensor must be
    /// contiguous; element types must all be `T`.
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
    pub fn try_copy_(&self, src: &Tensor) -> Result<()> {
        crate::kernels::dispatch_any!(self.dtype(), T => self.try_update_(&[src], |d: &mut [T], s| d.copy_from_slice(s[0])))
    }

    /// `self += alpha · other`, in place (same number of elements).
    #[track_caller]
    pub fn add_scaled_(&self, other: &Tensor, alpha: f64) {
        ok(self.try_add_scaled_(other, alpha))
    }

    /// Fallible form of [`Tensor::add_scaled_`].
    pub fn try_add_scaled_(&self, other: &Tensor, alpha: f64) -> Result<()> {
        dispatch_float!("add_scaled_", self.dtype(), T => self.try_update_(&[other], |d: &mut [T], s| axpy(d, s[0], T::from_f64(alpha))))
    }

    /// Multiplies every element by `s`, in place.
    #[track_caller]
    pub fn mul_scalar_(&self, s: f64) {
        ok(self.try_mul_scalar_(s))
    }

    /// Fallible form of [`Tensor::mul_scalar_`].
    pub fn try_mul_scalar_(&self, s: f64) -> Result<()> {
        dispatch_float!("mul_scalar_", self.dtype(), T => self.try_update_(&[], |d: &mut [T], _| {
            let s = T::from_f64(s);
            d.iter_mut().for_each(|v| *v *= s);
        }))
    }

    /// Sets every element to `value`, in place; an error for a tensor that is not contiguous.
    pub fn try_fill_(&self, value: f64) -> Result<()> {
        crate::kernels::dispatch_any!(self.dtype(), T => self.try_update_(&[], |d: &mut [T], _| d.fill(T::from_f64(value))))
    }

    /// Panicking form of [`Tensor::try_fill_`].
    #[track_caller]
    pub fn fill_(&self, value: f64) {
        ok(self.try_fill_(value))
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
