//! tm's timers: one thread serving a timer wheel, like Kamailio's timer process. Entries
//! carry a generation number; a branch or reply that moved on bumps its generation, which
//! turns the old entries into no-ops instead of searching the wheel for them.
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
//!
//! Scheduling appends to a slot's list and serving takes a slot's list whole, whatever the
//! number of pending entries. That number is large: a call leaves about nine entries behind,
//! most of which outlive it (the 120 s fr_inv_timer, the 180 s lifetime cap), so at 200
//! calls/s tens of thousands are pending, and the deadline heap this replaced paid a
//! logarithm of that on every push and pop. Deadlines beyond the wheel's span (a lifetime
//! cap raised by modparam) wait in a side list until the wheel comes round to them.

use std::cmp::{Ordering as CmpOrdering, Reverse};
use std::collections::BinaryHeap;
use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::transaction::Transaction;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// Send the branch's request again (UDP).
    Retransmit { branch: u32, generation: u32 },
    /// No final reply on the branch in time (fr_timer / fr_inv_timer).
    FinalResponse { branch: u32, generation: u32 },
    /// Send the branch's CANCEL again.
    RetransmitCancel { branch: u32, generation: u32 },
    /// Send our final reply again (no ACK yet).
    RetransmitReply { generation: u32 },
    /// Forget the transaction (wt_timer after completion, or the lifetime cap).
    Delete,
    /// The whole-transaction lifetime cap (max_inv_lifetime / max_noninv_lifetime).
    Lifetime,
}

/// 24 bytes: tens of thousands are pending at a few hundred calls per second. The slot is
/// where the entry is kept, not in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The transaction's bucket hash and id in the table ([`super::table::Table::get`]).
    pub(crate) hash: u32,
    pub(crate) id: u64,
    pub(crate) event: Event,
}

/// How finely deadlines are kept.
pub(crate) const RESOLUTION: Duration = Duration::from_millis(50);
const RESOLUTION_NANOS: u64 = RESOLUTION.as_nanos() as u64;

/// Slots on the wheel: 4096 × 50 ms, about 205 s, covers every default tm timer.
const SLOTS: usize = 4096;

/// The shared timer wheel.
pub(crate) struct Timers {
    /// Origin of the slot grid.
    base: Instant,
    wheel: Mutex<Wheel>,
    wake: Condvar,
    stopped: AtomicBool,
}

struct Wheel {
    /// Every entry on the wheel, and free places for more: a slot's entries are a list
    /// through `next` links. One pool sized by the entries pending, where a list per slot
    /// would keep every slot at the most it ever held (measured at 200 calls/s: 8 MB more
    /// than a heap).
    nodes: Vec<Node>,
    /// The first free place in `nodes`, [`NIL`] if none.
    free: u32,
    /// First and last node of each slot's list (slot number modulo [`SLOTS`]).
    lists: Vec<List>,
    /// Which slots hold entries, a bit each.
    occupied: Vec<u64>,
    /// Entries due at or after `next + SLOTS`, soonest first.
    far: BinaryHeap<Reverse<Far>>,
    /// Scheduling order among far entries, which they keep when they come onto the wheel.
    far_order: u64,
    /// The first slot not served yet; every earlier one is empty.
    next: u64,
    /// The slot the timer thread sleeps until (`u64::MAX`: until told).
    waking_at: u64,
    len: usize,
}

const NIL: u32 = u32::MAX;

struct Node {
    entry: Entry,
    next: u32,
}

/// An entry beyond the wheel's span, ordered by slot, then by when it was scheduled.
struct Far {
    slot: u64,
    order: u64,
    entry: Entry,
}

impl PartialEq for Far {
    fn eq(&self, other: &Self) -> bool {
        (self.slot, self.order) == (other.slot, other.order)
    }
}
impl Eq for Far {}
impl PartialOrd for Far {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Far {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (self.slot, self.order).cmp(&(other.slot, other.order))
    }
}

#[derive(Clone, Copy)]
struct List {
    first: u32,
    last: u32,
}

impl Wheel {
    fn new() -> Wheel {
        Wheel {
            nodes: Vec::new(),
            free: NIL,
            lists: vec![List { first: NIL, last: NIL }; SLOTS],
            occupied: vec![0; SLOTS / 64],
            far: BinaryHeap::new(),
            far_order: 0,
            next: 0,
            waking_at: u64::MAX,
            len: 0,
        }
    }

    fn insert(&mut self, slot: u64, entry: Entry) {
        // A deadline in a slot already served is served with the next one.
        let slot = slot.max(self.next);
        self.len += 1;
        if slot - self.next >= SLOTS as u64 {
            self.far.push(Reverse(Far { slot, order: self.far_order, entry }));
            self.far_order += 1;
            return;
        }
        let node = Node { entry, next: NIL };
        let at = if self.free == NIL {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        } else {
            let at = self.free;
            self.free = self.nodes[at as usize].next;
            self.nodes[at as usize] = node;
            at
        };
        let index = slot as usize % SLOTS;
        let list = &mut self.lists[index];
        if list.first == NIL {
            *list = List { first: at, last: at };
            self.occupied[index / 64] |= 1 << (index % 64);
        } else {
            let last = list.last;
            list.last = at;
            self.nodes[last as usize].next = at;
        }
    }

    /// The first slot from `next` on with entries, if any is within the wheel's span.
    fn first_occupied(&self) -> Option<u64> {
        let start = self.next as usize % SLOTS;
        // Two laps of the bitmap's words from the start slot's word: the first word is
        // looked at again, whole, as the wheel's last slots.
        for step in 0..=self.occupied.len() {
            let word_index = (start / 64 + step) % self.occupied.len();
            let mut word = self.occupied[word_index];
            if step == 0 {
                word &= u64::MAX << (start % 64);
            }
            if word != 0 {
                let index = word_index * 64 + word.trailing_zeros() as usize;
                let ahead = (index + SLOTS - start) % SLOTS;
                return Some(self.next + ahead as u64);
            }
        }
        None
    }

    /// Moves every entry of the slots before `until` into `out`, bringing far entries onto
    /// the wheel as it turns.
    fn take_due(&mut self, until: u64, out: &mut Vec<Entry>) {
        let before = out.len();
        loop {
            self.bring_near();
            if let Some(slot) = self.first_occupied().filter(|&slot| slot < until) {
                self.drain(slot, out);
                self.next = slot + 1;
            } else if self.next < until {
                // Nothing due on the wheel: it turns on to `until`, but no further than
                // brings the first far entry within its span, so that it is served on time.
                let reach = self.far.peek().map_or(until, |Reverse(far)| far.slot + 1 - SLOTS as u64);
                self.next = reach.min(until);
            } else {
                break;
            }
        }
        self.len -= out.len() - before;
    }

    /// Far entries now within the wheel's span go onto it.
    fn bring_near(&mut self) {
        let horizon = self.next + SLOTS as u64;
        while self.far.peek().is_some_and(|Reverse(far)| far.slot < horizon) {
            if let Some(Reverse(Far { slot, entry, .. })) = self.far.pop() {
                self.len -= 1;
                self.insert(slot, entry);
            }
        }
    }

    /// Moves a slot's entries into `out`, in scheduling order, and frees their places.
    fn drain(&mut self, slot: u64, out: &mut Vec<Entry>) {
        let index = slot as usize % SLOTS;
        self.occupied[index / 64] &= !(1 << (index % 64));
        let list = mem::replace(&mut self.lists[index], List { first: NIL, last: NIL });
        let mut at = list.first;
        while at != NIL {
            let node = &self.nodes[at as usize];
            out.push(node.entry);
            at = node.next;
        }
        // The whole list joins the free places.
        self.nodes[list.last as usize].next = self.free;
        self.free = list.first;
    }
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            base: Instant::now(),
            wheel: Mutex::new(Wheel::new()),
            wake: Condvar::new(),
            stopped: AtomicBool::new(false),
        }
    }

    pub(crate) fn schedule(&self, after: Duration, txn: &Transaction, event: Event) {
        let slot = self.slot_of(Instant::now() + after);
        let mut wheel = self.wheel.lock().unwrap_or_else(|p| p.into_inner());
        wheel.insert(slot, Entry { hash: txn.hash, id: txn.id, event });
        let earlier = slot < wheel.waking_at;
        if earlier {
            wheel.waking_at = slot;
        }
        drop(wheel);
        if earlier {
            self.wake.notify_one();
        }
    }

    /// Waits until entries are due and moves them into `out`, in the order of their slots
    /// (and of scheduling within a slot); false once stopped.
    pub(crate) fn wait_due(&self, out: &mut Vec<Entry>) -> bool {
        let mut wheel = self.wheel.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.stopped.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            wheel.take_due(self.ended_by(now), out);
            if !out.is_empty() {
                return true;
            }
            let next = wheel.first_occupied().or_else(|| wheel.far.peek().map(|Reverse(far)| far.slot));
            wheel.waking_at = next.unwrap_or(u64::MAX);
            let wait = match next {
                Some(slot) => self.slot_end(slot).saturating_duration_since(now).max(Duration::from_micros(100)),
                None => Duration::from_secs(1),
            };
            wheel = self.wake.wait_timeout(wheel, wait).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// The grid slot `at` falls in: its deadline rounded up to the grid.
    fn slot_of(&self, at: Instant) -> u64 {
        let since = u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX);
        since.div_ceil(RESOLUTION_NANOS)
    }

    /// Slots before this one have ended by `now`: they are due.
    fn ended_by(&self, now: Instant) -> u64 {
        let since = u64::try_from(now.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX);
        since / RESOLUTION_NANOS + 1
    }

    /// When a slot is served: the end of its stretch of the grid.
    fn slot_end(&self, slot: u64) -> Instant {
        self.base + Duration::from_nanos(slot.saturating_mul(RESOLUTION_NANOS))
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.wake.notify_all();
    }

    pub(crate) fn pending(&self) -> usize {
        self.wheel.lock().unwrap_or_else(|p| p.into_inner()).len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_served_at_the_end_of_their_grid_slot() {
        let timers = Timers::new();
        let base = timers.base;
        let ms = Duration::from_millis;
        assert_eq!(timers.slot_of(base), 0);
        assert_eq!(timers.slot_of(base + ms(1)), 1);
        assert_eq!(timers.slot_of(base + RESOLUTION), 1);
        assert_eq!(timers.slot_of(base + RESOLUTION + Duration::from_nanos(1)), 2);
        assert_eq!(timers.slot_end(2), base + 2 * RESOLUTION);
        // Slot 1 is due once its end, 50 ms, has come, and not a nanosecond before.
        assert_eq!(timers.ended_by(base + RESOLUTION - Duration::from_nanos(1)), 1);
        assert_eq!(timers.ended_by(base + RESOLUTION), 2);
        // Before the origin (cannot happen for real deadlines) counts as the first slot.
        assert_eq!(timers.slot_of(base.checked_sub(ms(5)).unwrap_or(base)), 0);
    }

    fn entry(id: u64) -> Entry {
        Entry { hash: 0, id, event: Event::Delete }
    }

    #[test]
    fn an_entry_is_small() {
        assert_eq!(size_of::<Entry>(), 24);
    }

    fn ids(entries: &[Entry]) -> Vec<u64> {
        entries.iter().map(|e| e.id).collect()
    }

    #[test]
    fn entries_come_out_by_slot_once_their_slot_has_ended() {
        let mut wheel = Wheel::new();
        for (slot, id) in [(7, 1), (3, 2), (7, 3), (200, 4), (3, 5)] {
            wheel.insert(slot, entry(id));
        }
        assert_eq!((wheel.len, wheel.first_occupied()), (5, Some(3)));
        let mut due = Vec::new();
        wheel.take_due(3, &mut due);
        assert!(due.is_empty(), "slot 3 has not ended before slot 3");
        wheel.take_due(8, &mut due);
        assert_eq!(ids(&due), [2, 5, 1, 3], "by slot, then in the order scheduled");
        assert_eq!((wheel.len, wheel.next, wheel.first_occupied()), (1, 8, Some(200)));
        due.clear();
        wheel.take_due(1000, &mut due);
        assert_eq!(ids(&due), [4]);
        assert_eq!((wheel.len, wheel.first_occupied()), (0, None));
    }

    #[test]
    fn served_entries_leave_their_places_to_new_ones() {
        let mut wheel = Wheel::new();
        let mut due = Vec::new();
        for id in 0..3 {
            wheel.insert(5, entry(id));
        }
        wheel.insert(6, entry(3));
        wheel.take_due(7, &mut due);
        assert_eq!(ids(&due), [0, 1, 2, 3]);
        for id in 4..8 {
            wheel.insert(9 + id % 2, entry(id));
        }
        assert_eq!(wheel.nodes.len(), 4, "no new place while free ones remain");
        wheel.insert(11, entry(8));
        assert_eq!(wheel.nodes.len(), 5);
        due.clear();
        wheel.take_due(12, &mut due);
        assert_eq!(ids(&due), [4, 6, 5, 7, 8]);
    }

    #[test]
    fn a_deadline_in_a_served_slot_goes_to_the_next_one() {
        let mut wheel = Wheel::new();
        let mut due = Vec::new();
        wheel.take_due(10, &mut due);
        wheel.insert(4, entry(1));
        assert_eq!(wheel.first_occupied(), Some(10));
        wheel.take_due(11, &mut due);
        assert_eq!(ids(&due), [1]);
    }

    #[test]
    fn the_wheel_turns_past_its_last_slot() {
        let mut wheel = Wheel::new();
        let mut due = Vec::new();
        let lap = SLOTS as u64;
        wheel.take_due(lap - 2, &mut due);
        wheel.insert(lap + 5, entry(1));
        wheel.insert(lap - 1, entry(2));
        assert_eq!(wheel.first_occupied(), Some(lap - 1));
        wheel.take_due(lap, &mut due);
        assert_eq!(ids(&due), [2]);
        assert_eq!(wheel.first_occupied(), Some(lap + 5));
        due.clear();
        wheel.take_due(lap + 6, &mut due);
        assert_eq!(ids(&due), [1]);
    }

    #[test]
    fn far_deadlines_come_onto_the_wheel_by_slot_then_in_scheduling_order() {
        let mut wheel = Wheel::new();
        let mut due = Vec::new();
        let far = SLOTS as u64 + 10;
        for (slot, id) in [(far + 1, 1), (far, 2), (far + 1, 3), (far, 4)] {
            wheel.insert(slot, entry(id));
        }
        wheel.take_due(far + 2, &mut due);
        assert_eq!(ids(&due), [2, 4, 1, 3]);
        assert_eq!(wheel.len, 0);
    }

    #[test]
    fn deadlines_beyond_the_wheel_wait_until_it_comes_round() {
        let mut wheel = Wheel::new();
        let mut due = Vec::new();
        let far = SLOTS as u64 + 100;
        wheel.insert(far, entry(1));
        wheel.insert(99, entry(2));
        assert_eq!((wheel.far.len(), wheel.len, wheel.first_occupied()), (1, 2, Some(99)));
        wheel.take_due(100, &mut due);
        assert_eq!(ids(&due), [2]);
        assert_eq!((wheel.far.len(), wheel.first_occupied()), (1, None), "one slot short of the span");
        wheel.take_due(101, &mut due);
        // From slot 101 on, the far deadline is within the wheel's span.
        assert_eq!((wheel.far.len(), wheel.len, wheel.first_occupied()), (0, 1, Some(far)));
        due.clear();
        wheel.take_due(far, &mut due);
        assert!(due.is_empty());
        wheel.take_due(far + 1, &mut due);
        assert_eq!(ids(&due), [1]);
    }
}
