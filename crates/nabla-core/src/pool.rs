//! Reuse of freed tensor buffers. A training step allocates the same buffer sizes as the step
//! before: activations, their gradients, weight gradients. Instead of returning them to the
//! allocator, which hands large blocks back to the operating system and gets them again as fresh
//! pages the kernel must zero, a dropped storage leaves its buffer here, keyed by element type and
//! length, and the next kernel output of that size takes it back.
//!
//! Each thread keeps its own pool (no lock on the hot path), holding at most
//! [`set_buffer_pool_limit`] bytes and at most 64 buffers of one size; buffers under 16 KiB go
//! straight to the allocator, which recycles small blocks well by itself.

use crate::dtype::{DType, Element};
use crate::storage::{Buffer, Data};
use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Buffers smaller than this many bytes are not pooled.
const MIN_BYTES: usize = 16 << 10;

/// At most this many buffers of one type and length are kept: enough for the tensors of one size
/// a step frees (a layer's activations, say, or a recurrent layer's gates at each of its time
/// steps), while sizes that are freed but never asked for again (input batches made by a
/// prefetching loader thread) cannot fill the pool.
const MAX_PER_SIZE: usize = 64;

static LIMIT_BYTES: AtomicUsize = AtomicUsize::new(128 << 20);

#[derive(Default)]
struct Pool {
    free: HashMap<(DType, usize), Vec<Buffer>>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// Sets how many bytes of freed buffers each thread keeps for reuse (128 MiB by default);
/// 0 turns reuse off. Buffers already kept stay until they are taken again; a buffer given back
/// is kept only within the new limit.
///
/// ```
/// nabla_core::set_buffer_pool_limit(64 << 20);
/// ```
pub fn set_buffer_pool_limit(bytes: usize) {
    LIMIT_BYTES.store(bytes, Ordering::Relaxed);
}

fn bytes_of(buffer: &Buffer) -> usize {
    buffer.len() * buffer.dtype().size_in_bytes()
}

/// `len` elements whose values are unspecified: the caller writes every one. A small buffer is
/// filled (inline up to two elements, else cheaper than the zeroing allocator's path); a large
/// one is reused from the pool or else comes zeroed from the allocator (fresh pages come zeroed).
/// Panics, naming the size and the caller's line, when the buffer could never be held; callers
/// with a `Result` check the size first ([`crate::limits::allocation`]).
#[track_caller]
pub(crate) fn take<T: Element>(len: usize) -> Data<T> {
    if len.saturating_mul(size_of::<T>()) < MIN_BYTES {
        return Data::from_elem(T::default(), len);
    }
    crate::limits::assert_allocatable(len, T::DTYPE);
    let reused = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let buffer = pool.free.get_mut(&(T::DTYPE, len))?.pop()?;
        pool.bytes -= bytes_of(&buffer);
        T::from_buffer(buffer).ok()
    });
    match reused {
        Ok(Some(v)) => v,
        _ => Data::from_vec(vec![T::default(); len]),
    }
}

/// Keeps `buffer` for reuse when it is large enough and the pool has room; frees it otherwise.
pub(crate) fn give(buffer: Buffer) {
    let bytes = bytes_of(&buffer);
    if bytes < MIN_BYTES {
        return;
    }
    // During thread exit the pool may be gone already; the buffer is then simply freed.
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.bytes + bytes > LIMIT_BYTES.load(Ordering::Relaxed) {
            return;
        }
        let kept = pool.free.entry((buffer.dtype(), buffer.len())).or_default();
        if kept.len() < MAX_PER_SIZE {
            kept.push(buffer);
            pool.bytes += bytes;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_buffer_of_the_same_type_and_length_is_reused() {
        let v = take::<f32>(10_000);
        let at = v.as_ptr();
        give(Buffer::F32(v));
        assert_eq!(
            take::<f64>(10_000).len(),
            10_000,
            "another type is a fresh buffer"
        );
        let again = take::<f32>(10_000);
        assert_eq!(again.as_ptr(), at);
    }

    #[test]
    fn small_buffers_are_left_to_the_allocator() {
        let v = take::<f32>(100);
        give(Buffer::F32(v));
        POOL.with(|pool| assert!(pool.borrow().free.keys().all(|&(_, len)| len >= 4096)));
    }
}
