//! cfgutils: `lock`/`unlock` over a fixed lock set, `rand_event`, `sleep`/`usleep`
//! (modules.md §7).
//!
//! Locks are not tied to a scope: `lock()` and `unlock()` are separate statements, held across
//! messages if the script says so, and not re-entrant, exactly as in Kamailio. The slot of a
//! constant key is computed at compile time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::context::{Ctx, RouteKind};

/// One lock: a flag guarded by a mutex, with a condition variable to wait on.
#[derive(Debug, Default)]
struct Slot {
    state: Mutex<SlotState>,
    released: Condvar,
}

#[derive(Debug, Default)]
struct SlotState {
    held: bool,
    /// Threads blocked in `lock`: `unlock` signals only when there is one, since every
    /// `notify_one` is a system call (one per message in the round-robin configs otherwise).
    waiting: u32,
}

impl Slot {
    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) {
        let mut state = self.state();
        while state.held {
            state.waiting += 1;
            state = self.released.wait(state).unwrap_or_else(|p| p.into_inner());
            state.waiting -= 1;
        }
        state.held = true;
    }

    fn try_lock(&self) -> bool {
        let mut state = self.state();
        if state.held {
            return false;
        }
        state.held = true;
        true
    }

    fn unlock(&self) {
        let mut state = self.state();
        state.held = false;
        if state.waiting > 0 {
            self.released.notify_one();
        }
    }
}

/// The `2^lock_set_size` locks of an instance.
#[derive(Debug)]
pub struct LockSet {
    slots: Box<[Slot]>,
}

impl LockSet {
    pub fn new(size: usize) -> Self {
        LockSet { slots: (0..size).map(|_| Slot::default()).collect() }
    }

    /// The slot of a key (run time, for keys with pseudo-variables).
    pub fn slot_of(&self, key: &[u8]) -> usize {
        if self.slots.is_empty() { 0 } else { key_hash(key) as usize % self.slots.len() }
    }

    /// `lock(key)`: 1, or -1 when `lock_set_size` was not set (no slots).
    pub fn lock(&self, slot: usize) -> i32 {
        match self.slots.get(slot) {
            Some(s) => {
                s.lock();
                1
            }
            None => -1,
        }
    }

    pub fn try_lock(&self, slot: usize) -> i32 {
        match self.slots.get(slot) {
            Some(s) if s.try_lock() => 1,
            _ => -1,
        }
    }

    pub fn unlock(&self, slot: usize) -> i32 {
        match self.slots.get(slot) {
            Some(s) => {
                s.unlock();
                1
            }
            None => -1,
        }
    }
}

/// The key hash shared by the compiler (constant keys) and the runtime (FNV-1a).
pub const fn key_hash(key: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < key.len() {
        hash ^= key[i] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// `rand_event()` probability in percent (`initial_probability`, `rand_set_prob`).
#[derive(Debug)]
pub struct Probability(AtomicU32);

impl Probability {
    pub const fn new(percent: u32) -> Self {
        Probability(AtomicU32::new(percent))
    }

    pub fn set(&self, percent: i64) -> i32 {
        self.0.store(percent.clamp(0, 100) as u32, Ordering::Relaxed);
        1
    }

    pub fn get(&self) -> i32 {
        self.0.load(Ordering::Relaxed) as i32
    }

    /// True with the set probability.
    pub fn event(&self) -> i32 {
        if fastrand::u32(0..100) < self.0.load(Ordering::Relaxed) { 1 } else { -1 }
    }
}

/// `sleep(s)`: blocks the worker, as in Kamailio.
pub fn sleep<K: RouteKind, S, W>(_cx: &mut Ctx<'_, K, S, W>, seconds: i64) -> i32 {
    std::thread::sleep(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)));
    1
}

/// `usleep(us)`.
pub fn usleep<K: RouteKind, S, W>(_cx: &mut Ctx<'_, K, S, W>, micros: i64) -> i32 {
    std::thread::sleep(Duration::from_micros(u64::try_from(micros).unwrap_or(0)));
    1
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_slot_excludes_and_releases() {
        let locks = Arc::new(LockSet::new(2));
        assert_eq!(locks.lock(0), 1);
        assert_eq!(locks.try_lock(0), -1);
        assert_eq!(locks.try_lock(1), 1);
        let other = locks.clone();
        let waiter = std::thread::spawn(move || other.lock(0));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "blocked while held");
        locks.unlock(0);
        assert_eq!(waiter.join().ok(), Some(1));
        assert_eq!(LockSet::new(0).lock(0), -1, "lock_set_size not set");
    }

    #[test]
    fn contending_threads_all_get_the_lock_and_exclude_each_other() {
        let locks = Arc::new(LockSet::new(1));
        let inside = Arc::new(AtomicU32::new(0));
        let (done, finished) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let (locks, inside, done) = (locks.clone(), inside.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..500 {
                    locks.lock(0);
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                    std::thread::yield_now();
                    inside.fetch_sub(1, Ordering::SeqCst);
                    locks.unlock(0);
                }
                done.send(()).ok();
            });
        }
        for _ in 0..4 {
            // A waiter that is never signalled would hang here.
            finished.recv_timeout(Duration::from_secs(20)).expect("every thread finishes");
        }
    }

    #[test]
    fn keys_hash_the_same_at_compile_and_run_time() {
        const AT_COMPILE_TIME: u32 = key_hash(b"balancing");
        assert_eq!(AT_COMPILE_TIME, key_hash(b"balancing"));
        assert_eq!(LockSet::new(4).slot_of(b"balancing"), AT_COMPILE_TIME as usize % 4);
    }
}
