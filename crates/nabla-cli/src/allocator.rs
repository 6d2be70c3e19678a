//! The binary's global allocator: mimalloc, asked through its plain `malloc` whenever the
//! alignment is one every mimalloc block has anyway.
//!
//! The `mimalloc` crate's allocator passes every request to `mi_malloc_aligned`. In mimalloc 3 that
//! call only takes the fast path when the size class's page already has a free block; otherwise a
//! size that is not a power of two goes to an over-allocating fallback that serves it from the
//! next size class up. Its own size class then never gets a page, so every request of that size
//! takes the slow path. A tensor record (192 bytes) was one: on the autograd chain benchmark the
//! allocator cost 78 instructions per allocation this way, 34 through `mi_malloc` (callgrind).

use libmimalloc_sys as ffi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// mimalloc with Rust's allocation interface.
pub struct MiMalloc;

/// Whether `mi_malloc` already gives `layout`'s alignment: every mimalloc block size is a multiple
/// of the word size, and pages start aligned, so every block is word-aligned.
fn word_aligned(layout: &Layout) -> bool {
    layout.align() <= size_of::<usize>()
}

/// A block for `layout` from `plain` (word alignment, which every block has) or else from
/// `aligned`: `mi_malloc` / `mi_malloc_aligned`, or their zeroing forms.
///
/// # Safety
/// `plain` and `aligned` must be mimalloc's allocation functions of one kind.
#[inline]
unsafe fn allocate(
    layout: Layout,
    plain: unsafe extern "C" fn(usize) -> *mut c_void,
    aligned: unsafe extern "C" fn(usize, usize) -> *mut c_void,
) -> *mut u8 {
    let block = if word_aligned(&layout) {
        unsafe { plain(layout.size()) }
    } else {
        unsafe { aligned(layout.size(), layout.align()) }
    };
    block.cast()
}

// SAFETY: every function forwards to the mimalloc call for the same request; blocks are freed by
// `mi_free` whichever way they were allocated, and the alignment is always honoured.
unsafe impl GlobalAlloc for MiMalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { allocate(layout, ffi::mi_malloc, ffi::mi_malloc_aligned) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { allocate(layout, ffi::mi_zalloc, ffi::mi_zalloc_aligned) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { ffi::mi_free(ptr.cast::<c_void>()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let block = if word_aligned(&layout) {
            unsafe { ffi::mi_realloc(ptr.cast::<c_void>(), new_size) }
        } else {
            unsafe { ffi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()) }
        };
        block.cast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_have_the_requested_alignment_and_keep_their_contents() {
        for (size, align) in [
            (1, 1),
            (4, 4),
            (24, 8),
            (192, 8),
            (24, 16),
            (100, 64),
            (4096, 4096),
        ] {
            let layout = Layout::from_size_align(size, align).unwrap();
            unsafe {
                let zeroed = MiMalloc.alloc_zeroed(layout);
                assert_eq!(
                    zeroed as usize % align,
                    0,
                    "{size} bytes aligned to {align}"
                );
                assert!(
                    std::slice::from_raw_parts(zeroed, size)
                        .iter()
                        .all(|&b| b == 0)
                );
                zeroed.write_bytes(7, size);
                let grown = MiMalloc.realloc(zeroed, layout, size * 3);
                assert_eq!(grown as usize % align, 0, "grown block aligned to {align}");
                assert!(
                    std::slice::from_raw_parts(grown, size)
                        .iter()
                        .all(|&b| b == 7)
                );
                MiMalloc.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
            }
        }
    }
}
