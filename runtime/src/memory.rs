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
//!
//! In front of TLSF, freed small blocks wait in free lists by size class ([`SizeClasses`]):
//! a message's allocations come back at the same sizes for the next message, and a list pop
//! or push is a handful of instructions, where TLSF's search, split and merge cost about 180
//! for the pair in the stateful proxy's profile. Each list holds at most [`CLASS_BYTES`];
//! blocks freed beyond that go back to TLSF, which can merge them for other sizes.

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
    small: Mutex<Small>,
}

/// The small-block heap and the free lists in front of it.
struct Small {
    heap: Heap,
    classes: SizeClasses,
}

// SAFETY: the heap's and the lists' raw pointers only reach memory the heap owns, and only
// under the mutex.
unsafe impl Sync for ProxyAllocator {}
// SAFETY: as above; the pointers are not tied to the thread that made them.
unsafe impl Send for Small {}

impl ProxyAllocator {
    pub const fn new() -> Self {
        ProxyAllocator { small: Mutex::new(Small { heap: Heap::new(Reservations), classes: SizeClasses::new() }) }
    }

    fn small(&self) -> MutexGuard<'_, Small> {
        // A panic never leaves the heap half-updated: rlsf and the lists do not panic inside
        // their calls.
        self.small.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn alloc_small(&self, layout: Layout) -> *mut u8 {
        let mut small = self.small();
        if let Some(class) = SizeClasses::class_of(layout)
            && let Some(block) = small.classes.pop(class)
        {
            return block.as_ptr();
        }
        small.heap.allocate(layout).map_or(ptr::null_mut(), NonNull::as_ptr)
    }

    /// # Safety
    /// `block` came from `alloc_small` with `layout` and is not used again.
    unsafe fn dealloc_small(&self, block: NonNull<u8>, layout: Layout) {
        let mut small = self.small();
        if let Some(class) = SizeClasses::class_of(layout) {
            // SAFETY: the caller's guarantee; `class_of` accepted the layout.
            if unsafe { small.classes.push(class, block) } {
                return;
            }
        }
        // SAFETY: `block` came from this heap with `layout`'s alignment (the caller's
        // guarantee).
        unsafe { small.heap.deallocate(block, layout.align()) }
    }
}

/// The last size class kept in a free list: blocks of up to 2 KB.
const CLASSES: usize = 64;
/// At most this many bytes wait in one class's list; freed blocks beyond go back to TLSF.
///
/// A bound per class, not one for all lists: sizes drift with traffic (a Call-ID one digit
/// longer moves a stored request to the next class), and the blocks of a class no longer
/// asked for are freed when their transactions end. Under one shared bound they filled it:
/// with 1 MB shared, the stateful proxy at 200 calls/s for 30 s sent 63% of its allocations
/// to TLSF; with 8 KB per class, 26%. A class that is no longer used keeps at most this
/// much; 16 KB per class sent 14% to TLSF, for twice the memory the lists may keep.
const CLASS_BYTES: usize = 8 << 10;

/// Free lists of small blocks by size class, threaded through the blocks themselves.
///
/// A class is what TLSF makes of a request: with an alignment below its 32-byte
/// granularity, a block of `size` bytes is taken from a free block of at least
/// `size + 16` (its header) rounded up to 32, and the bytes after the header are usable.
/// So every request of a class fits in a block freed from that class, and TLSF reads the
/// block's header the same way whichever of them frees it in the end.
struct SizeClasses {
    heads: [Option<NonNull<FreeBlock>>; CLASSES + 1],
    /// How many blocks each list holds.
    lengths: [u16; CLASSES + 1],
}

/// A freed block's first bytes while it waits in a list.
struct FreeBlock {
    next: Option<NonNull<FreeBlock>>,
}

/// TLSF's allocation granularity and header size on 64-bit targets.
const GRANULARITY: usize = 32;
const HEADER: usize = 16;

impl SizeClasses {
    const fn new() -> Self {
        SizeClasses { heads: [None; CLASSES + 1], lengths: [0; CLASSES + 1] }
    }

    /// The class of `layout`, `None` for blocks the lists do not keep (over-aligned or
    /// large).
    fn class_of(layout: Layout) -> Option<usize> {
        let class = (layout.size() + HEADER).div_ceil(GRANULARITY);
        (layout.align() <= HEADER && class <= CLASSES).then_some(class)
    }

    fn bytes(class: usize) -> usize {
        class * GRANULARITY
    }

    fn pop(&mut self, class: usize) -> Option<NonNull<u8>> {
        let block = self.heads[class]?;
        // SAFETY: blocks in a list are freed blocks whose first bytes hold the link, written
        // by `push` and untouched since.
        self.heads[class] = unsafe { block.as_ref().next };
        self.lengths[class] -= 1;
        Some(block.cast())
    }

    /// Keeps `block` for its class; false (the caller frees it to TLSF) when the class's
    /// list is full.
    ///
    /// # Safety
    /// `block` is a freed TLSF block of `class`, not used again by its owner.
    unsafe fn push(&mut self, class: usize, block: NonNull<u8>) -> bool {
        if (usize::from(self.lengths[class]) + 1) * Self::bytes(class) > CLASS_BYTES {
            return false;
        }
        let link = block.cast::<FreeBlock>();
        // SAFETY: a block of any class has at least 16 usable bytes, aligned to 16 (TLSF's
        // header size), enough for the link.
        unsafe { link.as_ptr().write(FreeBlock { next: self.heads[class] }) };
        self.heads[class] = Some(link);
        self.lengths[class] += 1;
        true
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
            // SAFETY: `block` came from `alloc_small` with `layout` (the caller's guarantee,
            // and `is_large` sent it here), so it is not null.
            unsafe { self.dealloc_small(NonNull::new_unchecked(block), layout) }
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees that `new_size`, rounded up to the alignment, fits in
        // an isize, and the alignment is that of a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let classes = (SizeClasses::class_of(layout), SizeClasses::class_of(new_layout));
        match (is_large(layout), is_large(new_layout)) {
            // The block already holds every size of its class.
            (false, false) if classes.0.is_some() && classes.0 == classes.1 => block,
            // SAFETY: as in `dealloc`; the new layout keeps the alignment.
            (false, false) => unsafe {
                self.small()
                    .heap
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

    #[test]
    fn a_freed_block_serves_every_size_of_its_class_and_only_those() {
        let allocator = ProxyAllocator::new();
        // 100 + 16 bytes round up to 128: requests of 97..=112 bytes share the class.
        let freed = Layout::from_size_align(100, 8).unwrap();
        let same_class = Layout::from_size_align(112, 16).unwrap();
        let next_class = Layout::from_size_align(113, 8).unwrap();
        // SAFETY: each block is used within its layout's size and freed once.
        unsafe {
            let first = allocator.alloc(freed);
            allocator.dealloc(first, freed);
            let bigger = allocator.alloc(next_class);
            assert_ne!(first, bigger, "a block of a smaller class is not handed out");
            let reused = allocator.alloc(same_class);
            assert_eq!(first, reused);
            fill(reused, same_class.size(), 3);
            fill(bigger, next_class.size(), 9);
            assert!(holds(reused, same_class.size(), 3), "the reused block holds its whole layout");
            allocator.dealloc(reused, same_class);
            allocator.dealloc(bigger, next_class);
        }
    }

    #[test]
    fn over_aligned_and_large_layouts_stay_out_of_the_free_lists() {
        assert_eq!(SizeClasses::class_of(Layout::from_size_align(8, 32).unwrap()), None);
        assert_eq!(SizeClasses::class_of(Layout::from_size_align(2032, 8).unwrap()), Some(CLASSES));
        assert_eq!(SizeClasses::class_of(Layout::from_size_align(2033, 8).unwrap()), None);
        assert_eq!(SizeClasses::class_of(Layout::from_size_align(1, 1).unwrap()), Some(1));
    }

    #[test]
    fn each_free_list_holds_a_bounded_number_of_bytes() {
        let allocator = ProxyAllocator::new();
        let layout = Layout::from_size_align(2032, 8).unwrap();
        assert_eq!(SizeClasses::class_of(layout), Some(CLASSES));
        let count = 2 * CLASS_BYTES / SizeClasses::bytes(CLASSES);
        // SAFETY: every block is freed once, after all were allocated.
        unsafe {
            let blocks: Vec<*mut u8> = (0..count).map(|_| allocator.alloc(layout)).collect();
            assert!(blocks.iter().all(|b| !b.is_null()));
            for block in blocks {
                allocator.dealloc(block, layout);
            }
        }
        let held = usize::from(allocator.small().classes.lengths[CLASSES]) * SizeClasses::bytes(CLASSES);
        assert!(held <= CLASS_BYTES && held + SizeClasses::bytes(CLASSES) > CLASS_BYTES, "{held}");
    }

    proptest::proptest! {
        /// Any interleaving of allocations (aligned or not, small or large) and frees keeps
        /// every live block's contents and alignment.
        #[test]
        fn live_blocks_keep_their_contents(steps in proptest::collection::vec(
            (0usize..3000, 0u32..7, proptest::bool::ANY), 1..200,
        )) {
            let allocator = ProxyAllocator::new();
            let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
            for (i, (size, align_log2, free_one)) in steps.into_iter().enumerate() {
                if free_one && !live.is_empty() {
                    let (block, layout, seed) = live.swap_remove(size % live.len());
                    proptest::prop_assert!(holds(block, layout.size(), seed));
                    // SAFETY: a live block, freed once with its own layout.
                    unsafe { allocator.dealloc(block, layout) };
                    continue;
                }
                let layout = Layout::from_size_align(size.max(1), 1 << align_log2).unwrap();
                // SAFETY: the block is written within its layout and freed once.
                let block = unsafe { allocator.alloc(layout) };
                proptest::prop_assert!(!block.is_null());
                proptest::prop_assert_eq!(block as usize % layout.align(), 0);
                fill(block, layout.size(), i as u8);
                live.push((block, layout, i as u8));
            }
            for (block, layout, seed) in live {
                proptest::prop_assert!(holds(block, layout.size(), seed));
                // SAFETY: as above.
                unsafe { allocator.dealloc(block, layout) };
            }
        }
    }
}
