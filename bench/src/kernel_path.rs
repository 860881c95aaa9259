//! The kernel's share alone: what one datagram costs to send over loopback and to receive,
//! with the runtime's batched calls (`sendmmsg` and `recvmmsg`, 64 per call) and no server
//! logic at all. A UDP server pays at least this per request (one datagram in, one out); the
//! wake-ups, the scheduling and the server's own work come on top. It bounds what any
//! server on this machine's UDP path can reach, whatever its code.

use std::io;
use std::net::UdpSocket;
use std::time::Duration;

use sipcfg_runtime::transport::batch::{BATCH, RecvBatch, SendQueue};

/// [`measure`] for the load generator's request with `method` (as it is sent to a server on
/// the benchmark's address): its length and the CPU time.
pub fn measure_request(method: &str, count: u64) -> io::Result<(usize, Duration)> {
    let target = crate::servers::PROXY_ADDR.parse().map_err(io::Error::other)?;
    let local = "127.0.0.1:40000".parse().map_err(io::Error::other)?;
    let request = crate::loadgen::request(method, target, local, 0);
    Ok((request.len(), measure(&request, count)?))
}

/// CPU time of `count` datagrams of `datagram` sent from one loopback socket to another and
/// received, all in the calling thread.
pub fn measure(datagram: &[u8], count: u64) -> io::Result<Duration> {
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    // Room for a whole batch whatever the datagram size.
    let _ = socket2::SockRef::from(&receiver).set_recv_buffer_size(1 << 21);
    receiver.set_read_timeout(Some(Duration::from_secs(2)))?;
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    let to = receiver.local_addr()?;
    let mut queue = SendQueue::default();
    let mut batch = RecvBatch::new(datagram.len().max(2048));
    let start = thread_cpu()?;
    let mut received = 0;
    while received < count {
        let n = (count - received).min(BATCH as u64);
        for _ in 0..n {
            queue.push(datagram, to);
        }
        if queue.flush(&sender) > 0 {
            return Err(io::Error::other("the kernel refused a datagram"));
        }
        let mut got = 0;
        while got < n {
            batch.recv(&receiver)?;
            got += batch.datagrams().filter(|(data, _)| data.len() == datagram.len()).count() as u64;
        }
        received += got;
    }
    Ok(thread_cpu()?.saturating_sub(start))
}

/// Time the calling thread has spent on a CPU (user and system), from the scheduler's
/// nanosecond count.
fn thread_cpu() -> io::Result<Duration> {
    // The count of a running thread is brought up to date only at a scheduler tick or switch
    // (it could lag by a tick); yielding updates it now.
    std::thread::yield_now();
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    text.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .map(Duration::from_nanos)
        .ok_or_else(|| io::Error::other(format!("unreadable schedstat: {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_datagram_goes_through_and_costs_some_cpu() {
        // Not a multiple of the batch: the last, partial batch is waited for too.
        let cpu = measure(&[b'x'; 400], 100).expect("loopback");
        assert!(cpu > Duration::ZERO);
        assert!(cpu < Duration::from_secs(5), "{cpu:?}");
    }

    #[test]
    fn the_thread_clock_advances_with_work() {
        let before = thread_cpu().expect("schedstat");
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(thread_cpu().expect("schedstat") > before, "{x}");
    }
}
