//! Parsing a message and reading its common views allocates nothing: the buffer is the
//! caller's, the header table and the view cache live inside the message. A counting global
//! allocator proves it (this test binary holds only this test, so nothing else allocates).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use sipcfg_runtime::sip::Message;

struct Counting;

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

// Forwards every call to the system allocator, counting allocations and reallocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const INVITE: &[u8] = include_bytes!("../benches/data/invite.sip");
const OK200: &[u8] = include_bytes!("../benches/data/ok200.sip");

fn parse_and_read(input: &Bytes) -> usize {
    let msg = Message::parse(input.clone()).expect("parses");
    let via = msg.top_via().expect("via");
    let mut seen = via.branch().map_or(0, <[u8]>::len) + via.host().len();
    seen += msg.from().expect("from").tag().map_or(0, <[u8]>::len);
    seen += msg.to().expect("to").tag().map_or(0, <[u8]>::len);
    seen += msg.cseq().expect("cseq").number() as usize;
    seen += msg.call_id().expect("call-id").len();
    seen += msg.ruri().map(|u| u.host().len()).unwrap_or(0);
    seen += msg.vias().count() + msg.max_forwards().map(usize::from).unwrap_or(0);
    seen
}

#[test]
fn parse_and_read_allocate_nothing() {
    let inputs = [Bytes::from_static(INVITE), Bytes::from_static(OK200), Bytes::copy_from_slice(INVITE)];
    // Warm up anything lazily initialised (none expected, but keep the count honest).
    for input in &inputs {
        parse_and_read(input);
    }
    let before = ALLOCATIONS.with(Cell::get);
    let mut total = 0;
    for _ in 0..1000 {
        for input in &inputs {
            total += parse_and_read(input);
        }
    }
    let after = ALLOCATIONS.with(Cell::get);
    assert!(total > 0);
    assert_eq!(after - before, 0, "allocations on the parse-and-read path");
}
