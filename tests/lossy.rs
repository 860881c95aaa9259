//! A UDP relay that loses a share of the datagrams it passes, in both directions: a lossy
//! link for soak tests.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Datagrams passed and dropped.
#[derive(Debug, Default)]
pub struct Counts {
    pub forwarded: AtomicU64,
    pub dropped: AtomicU64,
    /// Datagrams that arrived going towards `far` ([`TOWARDS_FAR`]) and back from it
    /// ([`FROM_FAR`]), and how many of each were dropped.
    pub seen: [AtomicU64; 2],
    pub dropped_each_way: [AtomicU64; 2],
}

/// Index in [`Counts::seen`] of the datagrams going to `far`.
pub const TOWARDS_FAR: usize = 0;
/// Index in [`Counts::seen`] of the datagrams coming back from `far`.
pub const FROM_FAR: usize = 1;

/// Relays between one fixed `far` end and whoever else talks to it (the near end): a
/// datagram from `far` goes to the last near peer, any other goes to `far`.
pub struct LossyRelay {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LossyRelay {
    /// Binds `bind` and drops each datagram with probability `loss` (a seeded generator,
    /// so a run is reproducible), in both directions.
    pub fn start(bind: &str, far: SocketAddr, loss: f64, seed: u64) -> LossyRelay {
        LossyRelay::start_with(bind, far, (loss, loss), seed)
    }

    /// The same with a loss rate per direction: (towards `far`, back from it).
    pub fn start_with(bind: &str, far: SocketAddr, loss: (f64, f64), seed: u64) -> LossyRelay {
        let socket = UdpSocket::bind(bind).unwrap_or_else(|e| panic!("bind {bind}: {e}"));
        socket.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
        let addr = socket.local_addr().expect("bound");
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_counts, thread_stop) = (counts.clone(), stop.clone());
        let threshold = |p: f64| (p.clamp(0.0, 1.0) * u32::MAX as f64) as u32;
        let (to_far, from_far) = (threshold(loss.0), threshold(loss.1));
        let thread = std::thread::spawn(move || {
            let mut random = XorShift(seed | 1);
            let mut near: Option<SocketAddr> = None;
            let mut buf = vec![0u8; 65536];
            while !thread_stop.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else { continue };
                let (to, threshold, way) = if from == far {
                    match near {
                        Some(near) => (near, from_far, FROM_FAR),
                        None => continue,
                    }
                } else {
                    near = Some(from);
                    (far, to_far, TOWARDS_FAR)
                };
                thread_counts.seen[way].fetch_add(1, Ordering::Relaxed);
                if random.next() < threshold {
                    thread_counts.dropped.fetch_add(1, Ordering::Relaxed);
                    thread_counts.dropped_each_way[way].fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let _ = socket.send_to(&buf[..n], to);
                thread_counts.forwarded.fetch_add(1, Ordering::Relaxed);
            }
        });
        LossyRelay { addr, counts, stop, thread: Some(thread) }
    }

    pub fn dropped(&self) -> u64 {
        self.counts.dropped.load(Ordering::Relaxed)
    }

    pub fn forwarded(&self) -> u64 {
        self.counts.forwarded.load(Ordering::Relaxed)
    }

    /// (dropped, seen) in one direction: [`TOWARDS_FAR`] or [`FROM_FAR`].
    pub fn one_way(&self, way: usize) -> (u64, u64) {
        (self.counts.dropped_each_way[way].load(Ordering::Relaxed), self.counts.seen[way].load(Ordering::Relaxed))
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// xorshift64: enough randomness to pick datagrams to drop.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 32) as u32
    }
}
