//! The memory behind tensors. Views share one [`Storage`]; a version counter, bumped by every
//! in-place write, lets autograd refuse gradients computed from a tensor changed after it was saved.
//! A storage may also hold memory another library owns (a NumPy array), kept alive by an owner
//! it drops last.

use crate::dtype::{DType, Element};
use smallvec::SmallVec;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Elements of one type. Up to two sit inline, in the space the heap pointer and length would
/// take, so a scalar (a loss, a learning rate, the textbook's graph values) needs no allocation
/// of its own.
pub type Data<T> = SmallVec<[T; 2]>;

/// A typed, owned vector of elements.
#[derive(Clone, Debug)]
pub enum Buffer {
    F32(Data<f32>),
    F64(Data<f64>),
    I64(Data<i64>),
}

impl Buffer {
    /// The element type held.
    pub fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::F64(_) => DType::F64,
            Buffer::I64(_) => DType::I64,
        }
    }

    /// Number of elements held.
    pub fn len(&self) -> usize {
        match self {
            Buffer::F32(v) => v.len(),
            Buffer::F64(v) => v.len(),
            Buffer::I64(v) => v.len(),
        }
    }

    /// Whether the buffer holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What keeps foreign memory alive (the Python array it belongs to).
pub type Owner = Box<dyn Any + Send + Sync>;

/// Shared, lockable storage with a version counter.
pub struct Storage {
    data: RwLock<Buffer>,
    version: AtomicU64,
    /// `Some` when the buffer's memory belongs to someone else: the buffer is then never grown,
    /// shrunk, pooled or freed, and the owner is dropped after it.
    owner: Option<Owner>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("data", &self.data)
            .field("version", &self.version)
            .field("foreign", &self.owner.is_some())
            .finish()
    }
}

impl Storage {
    pub(crate) fn new(buffer: Buffer) -> Self {
        crate::live::storage_created();
        Storage {
            data: RwLock::new(buffer),
            version: AtomicU64::new(0),
            owner: None,
        }
    }

    /// A storage over `len` elements of type `T` at `ptr`, which `owner` keeps alive.
    ///
    /// # Safety
    /// `ptr` must point at `len` initialised, aligned elements of type `T`, valid for reads and
    /// writes until `owner` is dropped.
    pub(crate) unsafe fn foreign<T: Element>(
        ptr: std::ptr::NonNull<T>,
        len: usize,
        owner: Owner,
    ) -> Self {
        // SAFETY: the caller vouches for the `len` elements. A capacity above the two inline
        // elements makes the vector treat them as a heap block; nothing ever grows, shrinks or
        // frees a storage's buffer (`Drop` forgets one with an owner), so the capacity is only
        // ever read by that test.
        let data = unsafe { Data::from_raw_parts(ptr.as_ptr(), len, len.max(3)) };
        crate::live::storage_created();
        Storage {
            data: RwLock::new(T::into_buffer(data)),
            version: AtomicU64::new(0),
            owner: Some(owner),
        }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Buffer> {
        self.data
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access; counts as an in-place modification.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Buffer> {
        self.version.fetch_add(1, Ordering::Relaxed);
        self.data
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access through exclusive ownership, without locking; counts as an in-place
    /// modification.
    pub(crate) fn buffer_mut(&mut self) -> &mut Buffer {
        *self.version.get_mut() += 1;
        self.data
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    pub(crate) fn slice_of<T: Element>(buffer: &Buffer) -> &[T] {
        T::slice(buffer).expect("storage dtype checked by the caller")
    }
}

impl Drop for Storage {
    /// Hands the buffer to the calling thread's pool for the next output of its size; foreign
    /// memory is left to its owner, dropped after this.
    fn drop(&mut self) {
        crate::live::storage_freed();
        let data = self.data.get_mut().unwrap_or_else(|p| p.into_inner());
        let buffer = std::mem::replace(data, Buffer::F32(Data::new()));
        if self.owner.is_some() {
            std::mem::forget(buffer);
        } else {
            crate::pool::give(buffer);
        }
    }
}
