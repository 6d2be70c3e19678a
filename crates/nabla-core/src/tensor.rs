//! The [`Tensor`]: a cheap-to-clone handle on shared storage, a layout over it, and the autograd
//! state that links it into the graph (its `grad_fn`, or for a leaf its accumulated `.grad`).

use crate::autograd::node::{Edge, Hooks, Node};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::shape::{Dims, Layout};
use crate::storage::{Buffer, Data, Storage};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// How tensor records and storages are shared: without weak references (triomphe's `Arc`), so
/// dropping a handle is one atomic decrement where std's `Arc` takes two, and checking that a
/// fresh output is unshared is a load instead of a compare-and-swap.
pub(crate) type Shared<T> = triomphe::Arc<T>;

/// `make()` in a new shared allocation. Allocating before the value is made lets the compiler
/// write its fields straight to the heap; `Shared::new(value)` builds the record on the stack
/// and copies it over, and the copy's reads of freshly written, misaligned stores stall.
#[inline(always)]
pub(crate) fn share<T>(make: impl FnOnce() -> T) -> Shared<T> {
    let mut slot = triomphe::UniqueArc::new_uninit();
    slot.write(make());
    // SAFETY: `write` just initialised the value.
    unsafe { triomphe::UniqueArc::assume_init(slot) }.shareable()
}

/// An n-dimensional array of `f32`, `f64` or `i64` that records the operations applied to it.
///
/// Cloning is cheap (the storage is shared). Operations come in two forms: `try_op` returns a
/// [`Result`], `op` (and the arithmetic operators) panic with the same message.
///
/// ```
/// use nabla_core::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).requires_grad();
/// let y = (&x * &x).sum();
/// y.backward();
/// assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![2.0, 4.0, 6.0]);
/// ```
#[derive(Clone)]
pub struct Tensor(pub(crate) Shared<TensorImpl>);

pub(crate) struct TensorImpl {
    pub(crate) storage: Shared<Storage>,
    pub(crate) layout: Layout,
    pub(crate) dtype: DType,
    /// The node that produced this tensor; `None` for leaves and for tensors outside any graph.
    pub(crate) grad_fn: Option<Arc<Node>>,
    /// Forward-mode derivative carried along with the value (a dual number's ε part).
    pub(crate) tangent: Option<Tensor>,
    /// Whether this leaf wants gradients (always false for a tensor with a `grad_fn`).
    pub(crate) requires_grad: AtomicBool,
    /// Gradient, accumulation node and hooks, allocated the first time a leaf needs them:
    /// intermediate results never do.
    pub(crate) leaf: OnceLock<Box<LeafState>>,
}

/// What a leaf keeps for autograd: what has accumulated, the accumulation node shared by every
/// graph that uses it, and its gradient hooks.
#[derive(Default)]
pub(crate) struct LeafState {
    /// Shared with the hook that fills it for a non-leaf that retains its gradient.
    pub(crate) grad: Arc<Mutex<Option<Tensor>>>,
    pub(crate) accumulator: Mutex<Option<Weak<Node>>>,
    pub(crate) hooks: Hooks,
}

impl TensorImpl {
    #[inline(always)]
    fn new(
        storage: Shared<Storage>,
        layout: Layout,
        dtype: DType,
        grad_fn: Option<Arc<Node>>,
    ) -> Self {
        TensorImpl {
            storage,
            layout,
            dtype,
            grad_fn,
            tangent: None,
            requires_grad: AtomicBool::new(false),
            leaf: OnceLock::new(),
        }
    }

    /// The leaf state, allocated on first use.
    pub(crate) fn leaf_state(&self) -> &LeafState {
        self.leaf.get_or_init(Box::default)
    }
}

impl Tensor {
    pub(crate) fn from_parts(
        storage: Shared<Storage>,
        layout: Layout,
        dtype: DType,
        grad_fn: Option<Arc<Node>>,
    ) -> Tensor {
        Tensor(share(|| TensorImpl::new(storage, layout, dtype, grad_fn)))
    }

    /// A new tensor owning `buffer`, laid out row-major with `shape`. The layout is computed
    /// where the record is written, not passed in, which saves copying it (every op output
    /// comes through here).
    pub(crate) fn from_buffer(buffer: Buffer, shape: &[usize]) -> Tensor {
        debug_assert_eq!(buffer.len(), shape.iter().product::<usize>());
        let dtype = buffer.dtype();
        let storage = share(|| Storage::new(buffer));
        Tensor(share(|| {
            TensorImpl::new(storage, Layout::contiguous(shape), dtype, None)
        }))
    }

    /// A tensor owning `data`, laid out row-major with `shape` (which must hold as many elements).
    pub(crate) fn from_data<T: Element>(data: Data<T>, shape: &[usize]) -> Tensor {
        Tensor::from_buffer(T::into_buffer(data), shape)
    }

    /// A tensor from a vector in row-major order.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::try_from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(t.shape(), &[2, 3]);
    /// assert!(Tensor::try_from_vec(vec![1.0f32; 5], &[2, 3]).is_err());
    /// ```
    pub fn try_from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        if data.len() != crate::limits::numel("from_vec", shape)? {
            return Err(Error::ElementCount {
                op: "from_vec",
                len: data.len(),
                shape: shape.into(),
            });
        }
        Ok(Tensor::from_data(Data::from_vec(data), shape))
    }

    /// A tensor from a vector in row-major order; panics when the length does not match.
    #[track_caller]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Tensor {
        crate::ops::ok(Self::try_from_vec(data, shape))
    }

    /// A tensor over memory it does not own, laid out row-major with `shape`, without a copy:
    /// writes through either side show in the other, and `owner` (what keeps the memory alive,
    /// such as the NumPy array it belongs to) is dropped when the last tensor over it is, on
    /// whichever thread drops that. Errors when the shape's element count overflows.
    ///
    /// # Safety
    /// `ptr` must point at as many initialised, aligned elements of type `T` as `shape` holds,
    /// valid for reads and writes until `owner` is dropped. Writes through other handles on
    /// that memory bypass the storage's lock and version counter, as [`Tensor::data_ptr`]'s do.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use std::ptr::NonNull;
    /// use std::sync::Arc;
    /// let mut memory = vec![1.0f32, 2.0, 3.0, 4.0];
    /// let ptr = NonNull::new(memory.as_mut_ptr()).unwrap();
    /// let alive = Arc::new(());
    /// let owner = Box::new((memory, alive.clone()));
    /// // SAFETY: the vector holds the 4 elements and, in the owner, lives as long as the tensor.
    /// let t = unsafe { Tensor::try_from_foreign(ptr, &[2, 2], owner) }.unwrap();
    /// assert_eq!(t.to_f64_vec(), [1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(t.data_ptr(), ptr.as_ptr().cast::<u8>().cast_const());
    /// let row = t.narrow(0, 1, 1);
    /// drop(t);
    /// assert_eq!((row.to_f64_vec(), Arc::strong_count(&alive)), (vec![3.0, 4.0], 2));
    /// drop(row); // the last tensor over the memory: the owner goes with it
    /// assert_eq!(Arc::strong_count(&alive), 1);
    /// ```
    pub unsafe fn try_from_foreign<T: Element>(
        ptr: std::ptr::NonNull<T>,
        shape: &[usize],
        owner: crate::storage::Owner,
    ) -> Result<Tensor> {
        let len = crate::limits::numel("from_foreign", shape)?;
        // SAFETY: the caller's contract is `Storage::foreign`'s.
        let storage = share(|| unsafe { Storage::foreign(ptr, len, owner) });
        Ok(Tensor(share(|| {
            TensorImpl::new(storage, Layout::contiguous(shape), T::DTYPE, None)
        })))
    }

    /// A 0-dimensional tensor holding `value`.
    pub fn scalar<T: Element>(value: T) -> Tensor {
        Tensor::from_data(smallvec::smallvec![value], &[])
    }

    /// The dimensions.
    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }

    /// Alias of [`Tensor::shape`], as in PyTorch.
    pub fn dims(&self) -> &[usize] {
        self.shape()
    }

    /// Size of dimension `dim` (negative counts from the end).
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// let t = Tensor::zeros(&[2, 3], DType::F32);
    /// assert_eq!(t.size(-1), 3);
    /// assert!(t.try_size(2).is_err());
    /// ```
    pub fn try_size(&self, dim: isize) -> Result<usize> {
        let d = crate::shape::existing_dim("size", dim, self.shape())?;
        Ok(self.shape()[d])
    }

    /// Panicking form of [`Tensor::try_size`].
    #[track_caller]
    pub fn size(&self, dim: isize) -> usize {
        crate::ops::ok(self.try_size(dim))
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.0.layout.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// The layout (shape, strides, offset) over the storage.
    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    /// Whether the elements are row-major without gaps.
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    /// Whether two tensors are the same object (not merely equal values).
    pub fn same_as(&self, other: &Tensor) -> bool {
        Shared::ptr_eq(&self.0, &other.0)
    }

    /// Whether two tensors share storage (views of one another).
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Shared::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// An error naming `op` unless this tensor holds floats.
    pub(crate) fn check_float(&self, op: &'static str) -> Result<()> {
        if self.dtype().is_float() {
            Ok(())
        } else {
            Err(Error::UnsupportedDType {
                op,
                got: self.dtype(),
                expected: "f32 or f64",
            })
        }
    }

    pub(crate) fn check_dtype<T: Element>(&self, op: &'static str) -> Result<()> {
        if self.dtype() == T::DTYPE {
            Ok(())
        } else {
            Err(Error::DTypeMismatch {
                op,
                lhs: self.dtype(),
                rhs: T::DTYPE,
            })
        }
    }

    /// Runs `f` on the elements in row-major order, borrowing when contiguous, copying otherwise;
    /// an error naming `op` when the copy could not be held in memory (a large `expand`).
    pub(crate) fn try_read<T: Element, R>(
        &self,
        op: &'static str,
        f: impl FnOnce(&[T]) -> R,
    ) -> Result<R> {
        self.check_gather(op)?;
        Ok(self.read(f))
    }

    /// An error naming `op` when gathering this tensor's elements into a buffer of their own
    /// (needed unless it is contiguous) could not be held in memory.
    pub(crate) fn check_gather(&self, op: &'static str) -> Result<()> {
        if !self.is_contiguous() {
            crate::limits::allocation(op, self.shape(), self.dtype())?;
        }
        Ok(())
    }

    /// Runs `f` on the elements in row-major order, borrowing when contiguous, copying otherwise.
    /// Panics, with the size named, when the copy could not be held in memory; paths with a
    /// `Result` use [`Tensor::try_read`].
    #[track_caller]
    pub(crate) fn read<T: Element, R>(&self, f: impl FnOnce(&[T]) -> R) -> R {
        let guard = self.0.storage.read();
        let all = Storage::slice_of::<T>(&guard);
        let layout = &self.0.layout;
        if layout.is_contiguous() {
            f(&all[layout.contiguous_span()])
        } else {
            f(&gathered(layout, all))
        }
    }

    /// The elements in row-major order, in a buffer of their own.
    #[track_caller]
    pub(crate) fn read_owned<T: Element>(&self) -> Data<T> {
        let guard = self.0.storage.read();
        let all = Storage::slice_of::<T>(&guard);
        let layout = &self.0.layout;
        if layout.is_contiguous() {
            let mut out = crate::pool::take(layout.numel());
            out.copy_from_slice(&all[layout.contiguous_span()]);
            out
        } else {
            gathered(layout, all)
        }
    }

    /// Runs `f` on the elements in row-major order without copying them when the tensor is
    /// contiguous (a view that is not gets gathered first); errors when `T` is not its dtype.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]);
    /// assert_eq!(t.try_with_slice(|s: &[f32]| s.iter().sum::<f32>()).unwrap(), 6.0);
    /// ```
    pub fn try_with_slice<T: Element, R>(&self, f: impl FnOnce(&[T]) -> R) -> Result<R> {
        self.check_dtype::<T>("with_slice")?;
        self.try_read("with_slice", f)
    }

    /// The elements in row-major order.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let t = Tensor::arange(0.0f64, 6.0, 1.0).reshape(&[2, 3]).t();
    /// assert_eq!(t.to_vec::<f64>(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// ```
    pub fn try_to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.check_dtype::<T>("to_vec")?;
        self.try_read("to_vec", |s: &[T]| s.to_vec())
    }

    /// The elements in row-major order; panics when `T` is not the tensor's dtype.
    #[track_caller]
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        crate::ops::ok(self.try_to_vec())
    }

    /// The elements converted to `f64`, whatever the dtype; an error when they could not be
    /// held in memory.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// assert_eq!(Tensor::scalar(2i64).try_to_f64_vec().unwrap(), vec![2.0]);
    /// assert!(Tensor::scalar(1.0f32).expand(&[1 << 40]).try_to_f64_vec().is_err());
    /// ```
    pub fn try_to_f64_vec(&self) -> Result<Vec<f64>> {
        const OP: &str = "to_f64_vec";
        // The f64 output is at least as large as any gather of the input, so one check covers both.
        crate::limits::allocation(OP, self.shape(), DType::F64)?;
        Ok(match self.dtype() {
            DType::F32 => self.read(|s: &[f32]| s.iter().map(|&v| v as f64).collect()),
            DType::F64 => self.read(|s: &[f64]| s.to_vec()),
            DType::I64 => self.read(|s: &[i64]| s.iter().map(|&v| v as f64).collect()),
        })
    }

    /// Panicking form of [`Tensor::try_to_f64_vec`].
    #[track_caller]
    pub fn to_f64_vec(&self) -> Vec<f64> {
        crate::ops::ok(self.try_to_f64_vec())
    }

    /// The value of a one-element tensor.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// assert_eq!(Tensor::scalar(2.5f64).item::<f64>(), 2.5);
    /// ```
    pub fn try_item<T: Element>(&self) -> Result<T> {
        if self.numel() != 1 {
            return Err(Error::invalid(
                "item",
                format!(
                    "only a one-element tensor has an item, this one has shape {:?}",
                    self.shape()
                ),
            ));
        }
        Ok(self.try_to_vec::<T>()?[0])
    }

    /// The value of a one-element tensor; panics otherwise.
    #[track_caller]
    pub fn item<T: Element>(&self) -> T {
        crate::ops::ok(self.try_item())
    }

    /// A new tensor with the same shape and storage layout as `layout`, sharing this storage.
    pub(crate) fn view_with(&self, layout: Layout) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), layout, self.dtype(), None)
    }

    // ---- autograd state -------------------------------------------------------------------

    /// Whether gradients flow to or through this tensor.
    pub fn requires_grad_flag(&self) -> bool {
        self.0.grad_fn.is_some() || self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Marks a leaf as requiring gradients and returns it (builder style).
    ///
    /// Panics on a non-leaf (a tensor produced by a recorded operation): use `detach` first.
    #[track_caller]
    pub fn requires_grad(self) -> Tensor {
        self.set_requires_grad(true);
        self
    }

    /// Sets whether this leaf requires gradients (PyTorch's `requires_grad_`); an error on a
    /// non-leaf, or when asking gradients of an integer tensor.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// assert!(Tensor::scalar(1i64).try_set_requires_grad(true).is_err());
    /// ```
    pub fn try_set_requires_grad(&self, flag: bool) -> Result<()> {
        if let Some(node) = &self.0.grad_fn {
            return Err(Error::invalid(
                "set_requires_grad",
                format!(
                    "only leaves can change requires_grad; this tensor comes from {}",
                    node.name()
                ),
            ));
        }
        if flag && !self.dtype().is_float() {
            return Err(Error::invalid(
                "set_requires_grad",
                format!(
                    "only floating-point tensors can require gradients, not {}",
                    self.dtype()
                ),
            ));
        }
        self.0.requires_grad.store(flag, Ordering::Relaxed);
        Ok(())
    }

    /// Panicking form of [`Tensor::try_set_requires_grad`].
    #[track_caller]
    pub fn set_requires_grad(&self, flag: bool) {
        crate::ops::ok(self.try_set_requires_grad(flag))
    }

    /// Whether this tensor is a leaf of the graph (not produced by a recorded operation).
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    /// The node that produced this tensor, to walk the graph backwards like PyTorch's `grad_fn`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let a = Tensor::scalar(2.0f64).requires_grad();
    /// let y = (&a * &a).exp();
    /// let f = y.grad_fn().unwrap();
    /// assert_eq!(f.name(), "ExpBackward");
    /// assert_eq!(f.next_functions()[0].as_ref().unwrap().name(), "MulBackward");
    /// ```
    pub fn grad_fn(&self) -> Option<Arc<Node>> {
        self.0.grad_fn.clone()
    }

    /// The gradient accumulated in this leaf by `backward`, if any.
    pub fn grad(&self) -> Option<Tensor> {
        let leaf = self.0.leaf.get()?;
        leaf.grad.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the accumulated gradient (used by optimisers and clipping); an error when the
    /// new gradient's shape or dtype differs from this tensor's (PyTorch: "assigned grad has
    /// data of a different size").
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// let w = Tensor::zeros(&[2], DType::F32).requires_grad();
    /// assert!(w.try_set_grad(Some(Tensor::ones(&[2], DType::F32))).is_ok());
    /// assert!(w.try_set_grad(Some(Tensor::ones(&[3], DType::F32))).is_err());
    /// assert!(w.try_set_grad(Some(Tensor::ones(&[2], DType::F64))).is_err());
    /// ```
    pub fn try_set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad
            && (g.shape() != self.shape() || g.dtype() != self.dtype())
        {
            return Err(Error::invalid(
                "set_grad",
                format!(
                    "the assigned gradient has shape {:?} and dtype {}, the tensor shape {:?} \
                     and dtype {}",
                    g.shape(),
                    g.dtype(),
                    self.shape(),
                    self.dtype()
                ),
            ));
        }
        self.store_grad(grad);
        Ok(())
    }

    /// Panicking form of [`Tensor::try_set_grad`].
    #[track_caller]
    pub fn set_grad(&self, grad: Option<Tensor>) {
        crate::ops::ok(self.try_set_grad(grad))
    }

    /// Replaces the accumulated gradient, whose shape and dtype the caller has checked.
    pub(crate) fn store_grad(&self, grad: Option<Tensor>) {
        if grad.is_none() && self.0.leaf.get().is_none() {
            return;
        }
        *self
            .0
            .leaf_state()
            .grad
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = grad;
    }

    /// Registers `hook` to run on this tensor's gradient whenever backward computes it; a hook
    /// returning `Some` replaces the gradient (PyTorch's `register_hook`). Panics on a tensor
    /// that does not require gradients.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(3.0f64).requires_grad();
    /// let y = &x * 2.0;
    /// y.register_hook(|g| Some(g * 10.0));
    /// y.backward();
    /// assert_eq!(x.grad().unwrap().item::<f64>(), 20.0);
    /// ```
    #[track_caller]
    pub fn register_hook(&self, hook: impl Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static) {
        crate::ops::ok(self.try_register_hook(hook))
    }

    /// Fallible form of [`Tensor::register_hook`]: an error on a tensor that does not require
    /// gradients.
    pub fn try_register_hook(
        &self,
        hook: impl Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static,
    ) -> Result<()> {
        let hooks = match &self.0.grad_fn {
            Some(node) => &node.hooks,
            None if self.requires_grad_flag() => &self.0.leaf_state().hooks,
            None => {
                return Err(Error::invalid(
                    "register_hook",
                    "the tensor does not require gradients",
                ));
            }
        };
        hooks.register(Box::new(hook));
        Ok(())
    }

    /// Keeps this non-leaf tensor's gradient in `.grad()` after backward (PyTorch's
    /// `retain_grad`); leaves keep theirs anyway.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(3.0f64).requires_grad();
    /// let h = &x * 2.0;
    /// h.retain_grad();
    /// (&h * &h).backward();
    /// assert_eq!(h.grad().unwrap().item::<f64>(), 12.0);
    /// ```
    pub fn retain_grad(&self) {
        if self.is_leaf() {
            return;
        }
        // The hook holds the gradient slot, not the tensor: the tensor holds the node that holds
        // the hook, and holding the tensor back would make a cycle.
        let retained = self.0.leaf_state().grad.clone();
        self.register_hook(move |g| {
            let mut slot = retained.lock().unwrap_or_else(|p| p.into_inner());
            *slot = Some(match slot.take() {
                Some(previous) => &previous + &g.detach(),
                None => g.detach(),
            });
            None
        });
    }

    /// Clears the accumulated gradient, like PyTorch's `zero_grad(set_to_none=True)`.
    pub fn zero_grad(&self) {
        self.set_grad(None);
    }

    /// The address of this tensor's first element, for lending its memory to another library
    /// without a copy (the Python package's NumPy arrays); the other elements sit at
    /// [`Layout::strides`] (in elements) from it. The address stays valid while any tensor
    /// sharing this storage is alive. Reading through it while an in-place operation runs, or
    /// writing through it at all, bypasses the storage's lock and version counter.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]);
    /// let tail = x.narrow(0, 1, 2);
    /// assert_eq!(tail.data_ptr() as usize - x.data_ptr() as usize, 4);
    /// ```
    pub fn data_ptr(&self) -> *const u8 {
        let guard = self.0.storage.read();
        let base = match &*guard {
            Buffer::F32(v) => v.as_ptr().cast::<u8>(),
            Buffer::F64(v) => v.as_ptr().cast::<u8>(),
            Buffer::I64(v) => v.as_ptr().cast::<u8>(),
        };
        base.wrapping_add(self.0.layout.offset * self.dtype().size_in_bytes())
    }

    /// A tensor sharing this storage but outside the graph (no `grad_fn`, no gradient).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(3.0f64).requires_grad();
    /// let y = (&x * &x).detach();
    /// assert!(y.grad_fn().is_none() && !y.requires_grad_flag());
    /// ```
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts(
            self.0.storage.clone(),
            self.0.layout.clone(),
            self.dtype(),
            None,
        )
    }

    /// The edge autograd follows from a consumer of this tensor: its `grad_fn`, or for a leaf
    /// that requires gradients, its (shared) accumulation node.
    pub(crate) fn gradient_edge(&self) -> Option<Edge> {
        if let Some(node) = &self.0.grad_fn {
            return Some(node.clone());
        }
        if !self.0.requires_grad.load(Ordering::Relaxed) {
            return None;
        }
        let mut slot = self
            .0
            .leaf_state()
            .accumulator
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(node) = slot.as_ref().and_then(Weak::upgrade) {
            return Some(node);
        }
        let node = Node::accumulator(self.clone());
        *slot = Some(Arc::downgrade(&node));
        Some(node)
    }

    pub(crate) fn storage_version(&self) -> u64 {
        self.0.storage.version()
    }

    /// Dims of this tensor as an inline vector.
    pub(crate) fn dims_vec(&self) -> Dims {
        crate::shape::dims_of(&self.0.layout.shape)
    }
}

impl Tensor {
    /// This saved output with its producing node attached again (for recorded backward passes).
    pub(crate) fn relinked(&self, node: Arc<Node>) -> Tensor {
        self.rebuilt(Some(node), self.0.tangent.clone())
    }

    /// A new handle on the same values with the given `grad_fn` and tangent.
    pub(crate) fn rebuilt(&self, grad_fn: Option<Arc<Node>>, tangent: Option<Tensor>) -> Tensor {
        let mut t = Tensor::from_parts(
            self.0.storage.clone(),
            self.0.layout.clone(),
            self.dtype(),
            grad_fn,
        );
        Shared::get_mut(&mut t.0).expect("fresh tensor").tangent = tangent;
        t
    }

    /// The forward-mode tangent carried by this tensor, if any.
    pub fn tangent(&self) -> Option<Tensor> {
        self.0.tangent.clone()
    }

    /// A new leaf with these values carrying `tangent` (same shape and dtype): operations on it
    /// carry the directional derivative along (forward mode). See [`crate::jvp`].
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(2.0f64).try_with_tangent(&Tensor::scalar(1.0f64)).unwrap();
    /// let y = &x * &x * &x;
    /// assert_eq!(y.tangent().unwrap().item::<f64>(), 12.0);
    /// ```
    pub fn try_with_tangent(&self, tangent: &Tensor) -> Result<Tensor> {
        if tangent.shape() != self.shape() || tangent.dtype() != self.dtype() {
            return Err(Error::invalid(
                "with_tangent",
                format!(
                    "the tangent ({:?}, {}) must have the primal's shape and dtype ({:?}, {})",
                    tangent.shape(),
                    tangent.dtype(),
                    self.shape(),
                    self.dtype()
                ),
            ));
        }
        Ok(self.rebuilt(None, Some(tangent.detach())))
    }

    /// [`Tensor::detach`] that consumes the handle, so no second handle on the values remains.
    pub(crate) fn detach_owned(self) -> Tensor {
        self.detach()
    }

    /// Whether this is the only tensor on its storage and covers all of it, row-major: then it
    /// can be kept without copying, as nobody else can see a later in-place change.
    pub(crate) fn owns_all_of_its_storage(&self) -> bool {
        Shared::count(&self.0.storage) == 1
            && self.is_contiguous()
            && self.0.layout.offset == 0
            && self.0.storage.read().len() == self.numel()
    }

    /// Runs `f` on the elements of a tensor nobody else can see, in place, and returns whether
    /// it did: this must be the only handle on its record and on its storage, which holds
    /// exactly its elements of type `T`, with no graph or tangent attached and no graph being
    /// recorded. Holding the only handles is what proves exclusive access, so no lock is taken.
    pub(crate) fn update_private<T: Element>(&mut self, f: impl FnOnce(&mut [T])) -> bool {
        let numel = self.numel();
        if self.0.grad_fn.is_some()
            || self.0.tangent.is_some()
            || crate::autograd::is_grad_enabled()
            || !self.is_contiguous()
            || self.0.layout.offset != 0
        {
            return false;
        }
        let Some(record) = Shared::get_mut(&mut self.0) else {
            return false;
        };
        if *record.requires_grad.get_mut() {
            return false;
        }
        let Some(storage) = Shared::get_mut(&mut record.storage) else {
            return false;
        };
        match T::slice_mut(storage.buffer_mut()) {
            Some(elements) if elements.len() == numel => {
                f(elements);
                true
            }
            _ => false,
        }
    }

    /// Like [`Tensor::detach`] but keeping the forward-mode tangent (saved outputs need it when
    /// a backward pass is differentiated in forward mode).
    pub(crate) fn detach_keeping_tangent(&self) -> Tensor {
        self.rebuilt(None, self.0.tangent.clone())
    }

    /// Takes the `grad_fn` out of a tensor nobody else holds, so dropping it does not recurse.
    pub(crate) fn take_grad_fn_if_unique(mut self) -> Option<Arc<Node>> {
        Shared::get_mut(&mut self.0).and_then(|inner| inner.grad_fn.take())
    }
}

impl<T: Element> From<T> for Tensor {
    /// A 0-d tensor holding `value`.
    fn from(value: T) -> Tensor {
        Tensor::scalar(value)
    }
}

/// The elements `layout` addresses in `all`, gathered row-major into a buffer of their own.
#[track_caller]
fn gathered<T: Element>(layout: &Layout, all: &[T]) -> Data<T> {
    let mut out = crate::pool::take(layout.numel());
    layout.gather_into(all, &mut out);
    out
}
