//! tm's timers: one thread with a deadline heap, like Kamailio's timer process. Entries carry
//! a generation number; a branch or reply that moved on bumps its generation, which turns
//! the old entries into no-ops instead of searching the heap for them.
//!
//! An entry names its transaction by table hash and id, not by pointer: a deleted
//! transaction is freed at once. With a `Weak`, its memory stayed allocated until its last
//! entry came due, up to the 180 s lifetime cap of an INVITE: at 200 calls/s the proxy grew
//! by about 3 MB every 5 s.
//!
//! Deadlines are served on a 50 ms grid (Kamailio's timer ticks 16 times a second, every
//! 62.5 ms): one wake-up of the timer thread handles every entry of a slot, and scheduling an
//! entry only wakes the thread when it falls in an earlier slot than the one the thread
//! sleeps towards. Without the grid each transaction's timers woke the thread several times
//! per call; with a 10 ms grid, at 200 calls/s, the thread still woke 100 times a second.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::transaction::Transaction;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// Send the branch's request again (UDP).
    Retransmit { branch: usize, generation: u32 },
    /// No final reply on the branch in time (fr_timer / fr_inv_timer).
    FinalResponse { branch: usize, generation: u32 },
    /// Send the branch's CANCEL again.
    RetransmitCancel { branch: usize, generation: u32 },
    /// Send our final reply again (no ACK yet).
    RetransmitReply { generation: u32 },
    /// Forget the transaction (wt_timer after completion, or the lifetime cap).
    Delete,
    /// The whole-transaction lifetime cap (max_inv_lifetime / max_noninv_lifetime).
    Lifetime,
}

pub(crate) struct Entry {
    pub(crate) at: Instant,
    sequence: u64,
    /// The transaction's bucket hash and id in the table ([`super::table::Table::get`]).
    pub(crate) hash: u32,
    pub(crate) id: u64,
    pub(crate) event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.sequence == other.sequence
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    // Reversed: BinaryHeap is a max-heap and the earliest deadline must come out first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other.at.cmp(&self.at).then_with(|| other.sequence.cmp(&self.sequence))
    }
}

/// How finely deadlines are kept.
pub(crate) const RESOLUTION: Duration = Duration::from_millis(50);

/// The shared deadline heap.
pub(crate) struct Timers {
    /// Origin of the slot grid.
    base: Instant,
    heap: Mutex<BinaryHeap<Entry>>,
    wake: Condvar,
    sequence: AtomicU64,
    stopped: AtomicBool,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            base: Instant::now(),
            heap: Mutex::new(BinaryHeap::new()),
            wake: Condvar::new(),
            sequence: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    pub(crate) fn schedule(&self, after: Duration, txn: &Transaction, event: Event) {
        let at = Instant::now() + after;
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let mut heap = self.heap.lock().unwrap_or_else(|p| p.into_inner());
        let earliest = heap.peek().is_none_or(|first| self.slot_end(at) < self.slot_end(first.at));
        heap.push(Entry { at, sequence, hash: txn.hash, id: txn.id, event });
        drop(heap);
        if earliest {
            self.wake.notify_one();
        }
    }

    /// Waits for the next due entry; `None` once stopped.
    pub(crate) fn next_due(&self) -> Option<Entry> {
        let mut heap = self.heap.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                return None;
            }
            let now = Instant::now();
            match heap.peek() {
                Some(first) if first.at <= now => return heap.pop(),
                Some(first) => {
                    let wait = self.slot_end(first.at).saturating_duration_since(now).max(Duration::from_micros(100));
                    heap = self.wake.wait_timeout(heap, wait).unwrap_or_else(|p| p.into_inner()).0;
                }
                None => {
                    heap = self.wake.wait_timeout(heap, Duration::from_secs(1)).unwrap_or_else(|p| p.into_inner()).0;
                }
            }
        }
    }

    /// The end of the grid slot `at` falls in: when the entry is served.
    fn slot_end(&self, at: Instant) -> Instant {
        let since = at.saturating_duration_since(self.base).as_nanos();
        let resolution = RESOLUTION.as_nanos();
        let slots = since.div_ceil(resolution);
        self.base + Duration::from_nanos(u64::try_from(slots * resolution).unwrap_or(u64::MAX))
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.wake.notify_all();
    }

    pub(crate) fn pending(&self) -> usize {
        self.heap.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_served_at_the_end_of_their_grid_slot() {
        let timers = Timers::new();
        let base = timers.base;
        assert_eq!(timers.slot_end(base), base);
        assert_eq!(timers.slot_end(base + Duration::from_millis(1)), base + RESOLUTION);
        assert_eq!(timers.slot_end(base + RESOLUTION), base + RESOLUTION);
        assert_eq!(timers.slot_end(base + RESOLUTION + Duration::from_nanos(1)), base + 2 * RESOLUTION);
        // Before the origin (cannot happen for real deadlines) counts as the first slot.
        assert_eq!(timers.slot_end(base.checked_sub(Duration::from_millis(5)).unwrap_or(base)), base);
    }
}
