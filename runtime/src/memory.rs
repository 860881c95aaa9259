//! The proxies' global allocator. Proxies are static musl binaries, and musl's own allocator
//! (mallocng) is built for size, not speed: about 490 instructions for the one allocation and
//! free of a stateless request, against about 100 with glibc's, and 0.7 `mmap`/`munmap` calls
//! per call through the stateful proxy as it maps and unmaps 16 and 32 KB groups while
//! transactions come and go.
//!
//! Small blocks come from a TLSF heap (the `rlsf` crate), the algorithm of Kamailio's
//! `-x tlsf`: constant time, never shrunk, as Kamailio's pools are not. The heap grows by
//! [`RESERVE`] at a time; untouched pages of a reservation cost no resident memory, so a large
//! step only saves system calls. Large blocks (receive buffers, big tables) are mapped on their
//! own: the kernel hands out zeroed pages, so a zeroed buffer costs no resident memory until
//! it is written, and freeing it gives the memory back.

// An allocator is raw memory management.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::{self, NonNull};
use std::sync::{Mutex, MutexGuard};

/// Blocks this large or larger are mapped on their own.
const LARGE: usize = 128 << 10;
/// The alignment `mmap` guarantees.
const PAGE: usize = 4096;
/// How much address space the small-block heap takes from the kernel at a time.
const RESERVE: usize = 4 << 20;

type Heap = rlsf::FlexTlsf<Reservations, usize, usize, { usize::BITS as usize }, { usize::BITS as usize }>;

/// TLSF for small blocks, `mmap` for large ones (see the module documentation).
pub struct ProxyAllocator {
    small: Mutex<Heap>,
}

// SAFETY: the heap's raw pointers only reach memory it owns, and only under the mutex.
unsafe impl Sync for ProxyAllocator {}

impl ProxyAllocator {
    pub const fn new() -> Self {
        ProxyAllocator { small: Mutex::new(Heap::new(Reservations)) }
    }

    fn heap(&self) -> MutexGuard<'_, Heap> {
        // A panic never leaves the heap half-updated: rlsf does not panic inside its calls.
        self.small.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn alloc_small(&self, layout: Layout) -> *mut u8 {
        self.heap().allocate(layout).map_or(ptr::null_mut(), NonNull::as_ptr)
    }
}

impl Default for ProxyAllocator {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the heap's memory comes from: anonymous mappings of at least [`RESERVE`] bytes,
/// never returned (the heap keeps what it once needed, as Kamailio's pools do).
struct Reservations;

// SAFETY: each call returns a fresh private mapping of at least `min_size` bytes that
// nothing else uses.
unsafe impl rlsf::FlexSource for Reservations {
    unsafe fn alloc(&mut self, min_size: usize) -> Option<NonNull<[u8]>> {
        let size = min_size.max(RESERVE).checked_next_multiple_of(PAGE)?;
        NonNull::new(map(size)).map(|start| NonNull::slice_from_raw_parts(start, size))
    }
}

/// Whether a block of `layout` is mapped on its own. Decided from the layout alone, so that
/// `dealloc` and `realloc` find the block where `alloc` put it.
fn is_large(layout: Layout) -> bool {
    layout.size() >= LARGE && layout.align() <= PAGE
}

fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping touches no existing memory.
    let block = unsafe {
        libc::mmap(
            ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if block == libc::MAP_FAILED { ptr::null_mut() } else { block.cast() }
}

// SAFETY: small blocks are TLSF's, allocated and freed under the mutex; large blocks are
// whole private mappings of at least the requested size, page aligned (enough for every
// layout `is_large` accepts), unmapped exactly once by `dealloc` or moved by `realloc`.
unsafe impl GlobalAlloc for ProxyAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(layout) { map(layout.size()) } else { self.alloc_small(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(layout) {
            // Fresh anonymous pages read as zeroes: nothing to write.
            map(layout.size())
        } else {
            let block = self.alloc_small(layout);
            if !block.is_null() {
                // SAFETY: the block holds `layout.size()` bytes.
                unsafe { ptr::write_bytes(block, 0, layout.size()) };
            }
            block
        }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if is_large(layout) {
            // SAFETY: `block` is a mapping of `layout.size()` bytes made by `alloc`; a failure
            // would only leak it.
            unsafe { libc::munmap(block.cast(), layout.size()) };
        } else {
            // SAFETY: `block` came from this heap with `layout`'s alignment (the caller's
            // guarantee, and `is_large` sent it here), so it is not null.
            unsafe { self.heap().deallocate(NonNull::new_unchecked(block), layout.align()) }
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees that `new_size`, rounded up to the alignment, fits in
        // an isize, and the alignment is that of a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (is_large(layout), is_large(new_layout)) {
            // SAFETY: as in `dealloc`; the new layout keeps the alignment.
            (false, false) => unsafe {
                self.heap()
                    .reallocate(NonNull::new_unchecked(block), new_layout)
                    .map_or(ptr::null_mut(), NonNull::as_ptr)
            },
            (true, true) => {
                // SAFETY: `block` is a mapping of `layout.size()` bytes; the kernel moves or
                // extends it whole.
                let moved = unsafe { libc::mremap(block.cast(), layout.size(), new_size, libc::MREMAP_MAYMOVE) };
                if moved == libc::MAP_FAILED { ptr::null_mut() } else { moved.cast() }
            }
            _ => {
                // SAFETY: a new block of `new_layout`; the old one stays valid until freed
                // below, and both hold at least the bytes copied.
                unsafe {
                    let new_block = self.alloc(new_layout);
                    if !new_block.is_null() {
                        ptr::copy_nonoverlapping(block, new_block, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                    new_block
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(block: *mut u8, len: usize, seed: u8) {
        for i in 0..len {
            // SAFETY: the test's blocks hold `len` bytes.
            unsafe { *block.add(i) = seed.wrapping_add(i as u8) };
        }
    }

    fn holds(block: *const u8, len: usize, seed: u8) -> bool {
        // SAFETY: as in `fill`.
        (0..len).all(|i| unsafe { *block.add(i) } == seed.wrapping_add(i as u8))
    }

    #[test]
    fn small_and_large_blocks_keep_their_contents_across_reallocation() {
        let allocator = ProxyAllocator::new();
        // Small → small, small → large, large → large (mremap), large → small.
        let sizes = [24, 1000, LARGE + 10, 3 * LARGE, 100];
        let mut layout = Layout::from_size_align(sizes[0], 8).unwrap();
        // SAFETY: each block is used within the size of its current layout and freed once.
        unsafe {
            let mut block = allocator.alloc(layout);
            assert!(!block.is_null());
            fill(block, layout.size(), 7);
            for &size in &sizes[1..] {
                let kept = layout.size().min(size);
                block = allocator.realloc(block, layout, size);
                assert!(!block.is_null());
                assert!(holds(block, kept, 7), "contents lost growing or shrinking to {size}");
                layout = Layout::from_size_align(size, 8).unwrap();
                fill(block, size, 7);
            }
            allocator.dealloc(block, layout);
        }
    }

    #[test]
    fn zeroed_blocks_read_as_zero_and_alignment_is_kept() {
        let allocator = ProxyAllocator::new();
        for (size, align) in [(1, 1), (100, 64), (5000, 4096), (LARGE, 8), (LARGE, 8192), (4 << 20, 16)] {
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: the block is read within its size and freed once.
            unsafe {
                let block = allocator.alloc_zeroed(layout);
                assert!(!block.is_null());
                assert_eq!(block as usize % align, 0, "{size} bytes aligned to {align}");
                assert!((0..size).all(|i| *block.add(i) == 0));
                allocator.dealloc(block, layout);
            }
        }
    }

    #[test]
    fn freed_small_blocks_are_reused() {
        let allocator = ProxyAllocator::new();
        let layout = Layout::from_size_align(512, 8).unwrap();
        // SAFETY: allocated and freed in turn, never used after being freed.
        unsafe {
            let first = allocator.alloc(layout);
            allocator.dealloc(first, layout);
            let second = allocator.alloc(layout);
            assert_eq!(first, second, "a freed block of the same size is handed out again");
            allocator.dealloc(second, layout);
        }
    }
}
