//! Batched datagram I/O: `recvmmsg` fills up to [`BATCH`] slots in one system call and
//! `sendmmsg` sends what a batch produced in one more. Under load the kernel entry is shared
//! by the whole batch. At a low rate, when a wake-up finds a few datagrams, plain `recvmsg`
//! and `sendmsg` cost less (the batch calls read vectors of headers, and `recvmmsg` tries
//! once more for a datagram that is not there), so the receiver then switches to one
//! datagram per call, and probes now and then for a backlog to switch back.
//!
//! Public because the benchmark's floor program uses exactly this strategy.
// The two system calls and the socket address conversions need raw libc structures.
#![allow(unsafe_code)]

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use bytes::BytesMut;

/// Datagrams per system call.
pub const BATCH: usize = 64;

/// Bytes of each datagram received into the dense part of a slot. Nearly every SIP datagram
/// fits (RFC 3261 §18.1.1 keeps UDP requests well under the path MTU), so a batch touches a
/// few pages of memory rather than one 64 KB slot per datagram.
const HEAD: usize = 2048;

/// Receive slots: `BATCH` slots of up to `max` bytes each. The first [`HEAD`] bytes of every
/// slot lie side by side in one small buffer; the rest of a slot, in a second buffer that is
/// only written (and so only made resident) by longer datagrams, which are then made whole
/// there. The kernel's message headers are set up once (the heap blocks never move).
pub struct RecvBatch {
    heads: Vec<u8>,
    /// `max` bytes per slot: its first `head` bytes take a copy of the head of a long datagram.
    tails: Vec<u8>,
    head: usize,
    max: usize,
    addrs: Vec<libc::sockaddr_storage>,
    iovecs: Vec<[libc::iovec; 2]>,
    headers: Vec<libc::mmsghdr>,
    lens: Vec<usize>,
    count: usize,
    /// Headers the last call filled in.
    used: usize,
    pace: Pace,
}

// SAFETY: the raw pointers in `iovecs` and `headers` only point into the batch's own heap
// blocks, which move with it.
unsafe impl Send for RecvBatch {}

/// A batch call that finds this many datagrams or fewer switches the receiver to one
/// datagram per call. Measured under sipp at 2000 requests/s (interleaved rounds against
/// batches only): 200-always 7% less CPU per request, with 0.19 wake-ups per request instead
/// of 0.49; the stateful load balancer 6% less per call; stateless forward, whose wake-ups
/// find several datagrams, about 4% more. Thresholds of 2 and 4 lowered the wake-ups less.
const SPARSE: usize = 8;
/// In single mode, every this many receives is a batch call that looks for a backlog.
const PROBE_EVERY: u8 = 16;

/// Which receive call the traffic calls for (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pace {
    /// `recvmmsg`.
    Batch,
    /// `recvmsg`; the count is of receives since the last probe.
    Single(u8),
}

impl RecvBatch {
    /// `max` is the largest datagram kept whole; longer ones are truncated (and dropped).
    pub fn new(max: usize) -> Self {
        let head = max.min(HEAD);
        let empty = libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 };
        let mut batch = RecvBatch {
            heads: vec![0; head * BATCH],
            // Zeroed memory comes from the kernel untouched: unused tails cost no resident
            // memory.
            tails: if max > head { vec![0; max * BATCH] } else { Vec::new() },
            head,
            max,
            // SAFETY: sockaddr_storage and mmsghdr are plain data; all zeroes is a valid value
            // of each (null pointers are replaced below).
            addrs: vec![unsafe { zeroed() }; BATCH],
            iovecs: vec![[empty; 2]; BATCH],
            headers: vec![unsafe { zeroed() }; BATCH],
            lens: vec![0; BATCH],
            count: 0,
            used: 0,
            pace: Pace::Batch,
        };
        for i in 0..BATCH {
            let iovecs = &mut batch.iovecs[i];
            iovecs[0] = libc::iovec { iov_base: batch.heads[i * head..].as_mut_ptr().cast(), iov_len: head };
            if max > head {
                let tail = &mut batch.tails[i * max + head..(i + 1) * max];
                iovecs[1] = libc::iovec { iov_base: tail.as_mut_ptr().cast(), iov_len: tail.len() };
            }
            let header = &mut batch.headers[i].msg_hdr;
            header.msg_iov = iovecs.as_mut_ptr();
            header.msg_iovlen = if max > head { 2 } else { 1 };
            header.msg_name = (&mut batch.addrs[i] as *mut libc::sockaddr_storage).cast();
            header.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        }
        batch
    }

    /// Blocks until at least one datagram is there (or the socket's receive timeout passes),
    /// then takes as many as are queued, up to `BATCH` (one only while traffic is sparse).
    /// Returns how many.
    pub fn recv(&mut self, socket: &impl AsRawFd) -> io::Result<usize> {
        self.count = 0;
        // The kernel overwrites the address lengths and flags; reset what the last call used.
        for header in &mut self.headers[..self.used.max(1)] {
            header.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_hdr.msg_flags = 0;
        }
        let received = if self.pace.takes_one() {
            // SAFETY: the first header points at live iovecs, buffers and an address slot owned
            // by `self`, which outlive the call.
            let len = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut self.headers[0].msg_hdr, 0) };
            if len >= 0 {
                self.headers[0].msg_len = len as libc::c_uint;
                1
            } else {
                -1
            }
        } else {
            // SAFETY: `headers` points at `BATCH` live iovecs, buffers and address slots owned
            // by `self`, which outlive the call.
            unsafe {
                libc::recvmmsg(
                    socket.as_raw_fd(),
                    self.headers.as_mut_ptr(),
                    BATCH as libc::c_uint,
                    libc::MSG_WAITFORONE as _,
                    std::ptr::null_mut(),
                )
            }
        };
        if received < 0 {
            return Err(io::Error::last_os_error());
        }
        self.pace = next_pace(self.pace, received as usize);
        let received = received as usize;
        self.used = received;
        for (i, header) in self.headers.iter().take(received).enumerate() {
            let truncated = header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            let len = if truncated { 0 } else { header.msg_len as usize };
            if len > self.head {
                // Join the head to the rest of the datagram, in the slot's tail.
                let (head, tail) = (&self.heads[i * self.head..][..self.head], &mut self.tails[i * self.max..]);
                tail[..self.head].copy_from_slice(head);
            }
            self.lens[i] = len;
        }
        self.count = received;
        Ok(received)
    }

    /// The datagrams of the last `recv` with their sources (truncated ones and unknown address
    /// families are skipped).
    pub fn datagrams(&self) -> impl Iterator<Item = (&[u8], SocketAddr)> + '_ {
        (0..self.count).filter_map(|i| {
            let len = self.lens[i];
            let src = socket_addr(&self.addrs[i])?;
            let data =
                if len > self.head { &self.tails[i * self.max..][..len] } else { &self.heads[i * self.head..][..len] };
            (len > 0).then_some((data, src))
        })
    }
}

impl Pace {
    /// Whether the next receive is a `recvmsg` (a probe is a batch call).
    fn takes_one(self) -> bool {
        matches!(self, Pace::Single(since_probe) if since_probe + 1 < PROBE_EVERY)
    }
}

/// The receive mode after a call made in `pace` that got `received` datagrams.
fn next_pace(pace: Pace, received: usize) -> Pace {
    match pace {
        Pace::Single(since_probe) if pace.takes_one() => Pace::Single(since_probe + 1),
        // A batch call, or a probe: only a backlog keeps (or brings back) the batches.
        _ if received > SPARSE => Pace::Batch,
        _ => Pace::Single(0),
    }
}

/// Datagrams waiting to go out, copied into one buffer, sent with `sendmmsg` (a lone one
/// with `sendmsg`, which costs the kernel less).
#[derive(Default)]
pub struct SendQueue {
    data: BytesMut,
    entries: Vec<(usize, usize, SocketAddr)>,
    /// The kernel's view of a chunk, reused from flush to flush.
    addrs: Vec<libc::sockaddr_storage>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers in the kernel structures are rewritten before every use and only
// point into the queue's own heap blocks.
unsafe impl Send for SendQueue {}

impl SendQueue {
    pub fn push(&mut self, datagram: &[u8], to: SocketAddr) {
        let start = self.data.len();
        self.data.extend_from_slice(datagram);
        self.entries.push((start, datagram.len(), to));
    }

    /// Queues a datagram that `build` writes straight into the queue's buffer (no buffer of
    /// its own, no copy). Nothing is queued when `build` fails.
    pub fn push_with(&mut self, to: SocketAddr, build: impl FnOnce(&mut BytesMut) -> bool) -> bool {
        let start = self.data.len();
        if !build(&mut self.data) || self.data.len() == start {
            self.data.truncate(start);
            return false;
        }
        self.entries.push((start, self.data.len() - start, to));
        true
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sends everything queued, `BATCH` per call. A datagram the kernel refuses (full buffer,
    /// unreachable address) is dropped and counted in the result, as a lost UDP datagram would
    /// be; the rest still go.
    pub fn flush(&mut self, socket: &impl AsRawFd) -> usize {
        if self.headers.is_empty() {
            // SAFETY: plain data; every field used is written before each call.
            self.addrs = vec![unsafe { zeroed() }; BATCH];
            self.iovecs = vec![libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; BATCH];
            self.headers = vec![unsafe { zeroed() }; BATCH];
        }
        let mut failed = 0;
        let mut next = 0;
        while next < self.entries.len() {
            let chunk = &self.entries[next..(next + BATCH).min(self.entries.len())];
            for (i, &(start, len, to)) in chunk.iter().enumerate() {
                let addr_len = write_socket_addr(to, &mut self.addrs[i]);
                self.iovecs[i].iov_base = self.data[start..].as_mut_ptr().cast();
                self.iovecs[i].iov_len = len;
                let header = &mut self.headers[i];
                header.msg_hdr.msg_iov = &mut self.iovecs[i];
                header.msg_hdr.msg_iovlen = 1;
                header.msg_hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
                header.msg_hdr.msg_namelen = addr_len;
            }
            let sent = if chunk.len() == 1 {
                // SAFETY: the first header points at a live iovec, data and address.
                let len = unsafe { libc::sendmsg(socket.as_raw_fd(), &self.headers[0].msg_hdr, 0) };
                if len < 0 { -1 } else { 1 }
            } else {
                // SAFETY: the first `chunk.len()` headers point at live iovecs, data and addresses.
                unsafe { sendmmsg(socket.as_raw_fd(), &mut self.headers[..chunk.len()]) }
            };
            if sent <= 0 {
                let error = io::Error::last_os_error();
                if sent < 0 && error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // The first datagram of the chunk failed: drop it and go on with the next.
                tracing::debug!("udp send to {}: {error}", chunk[0].2);
                failed += 1;
                next += 1;
            } else {
                next += sent as usize;
            }
        }
        self.data.clear();
        self.entries.clear();
        failed
    }
}

/// The kernel's `sendmmsg`, entered directly: musl's wrapper of that name on 64-bit targets
/// loops over `sendmsg`, one kernel crossing per datagram, which undoes the batching. The
/// headers come from `zeroed()`, so musl's padding beside its `int` lengths holds the zero
/// high halves of the kernel's `size_t` fields.
///
/// # Safety
/// Every header must point at live iovecs, data and addresses.
unsafe fn sendmmsg(fd: libc::c_int, headers: &mut [libc::mmsghdr]) -> isize {
    // SAFETY: the caller's guarantee; the length is that of the slice.
    unsafe { libc::syscall(libc::SYS_sendmmsg, fd, headers.as_mut_ptr(), headers.len() as libc::c_uint, 0) as isize }
}

fn socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let v4 = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = u32::from_be(v4.sin_addr.s_addr);
            Some(SocketAddr::V4(SocketAddrV4::new(ip.into(), u16::from_be(v4.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let v6 = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                v6.sin6_addr.s6_addr.into(),
                u16::from_be(v6.sin6_port),
                v6.sin6_flowinfo,
                v6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn write_socket_addr(addr: SocketAddr, storage: &mut libc::sockaddr_storage) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in.
            let out = unsafe { &mut *(storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            out.sin_family = libc::AF_INET as libc::sa_family_t;
            out.sin_port = v4.port().to_be();
            out.sin_addr = libc::in_addr { s_addr: u32::from(*v4.ip()).to_be() };
            size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as above, for a sockaddr_in6.
            let out = unsafe { &mut *(storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            out.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            out.sin6_port = v6.port().to_be();
            out.sin6_flowinfo = v6.flowinfo();
            out.sin6_addr = libc::in6_addr { s6_addr: v6.ip().octets() };
            out.sin6_scope_id = v6.scope_id();
            size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Duration;

    /// A receiving socket (reads time out after 2 s), a sending one, and where to send.
    fn loopback_pair() -> (UdpSocket, UdpSocket, SocketAddr) {
        let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
        receiver.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let to = receiver.local_addr().expect("addr");
        (receiver, sender, to)
    }

    #[test]
    fn a_queue_goes_out_in_one_flush_and_comes_in_as_one_batch() {
        let (receiver, sender, to) = loopback_pair();
        let mut queue = SendQueue::default();
        for i in 0..100 {
            queue.push(format!("datagram {i}").as_bytes(), to);
        }
        assert_eq!(queue.flush(&sender), 0);
        assert!(queue.is_empty());

        let mut batch = RecvBatch::new(2048);
        let mut seen = Vec::new();
        while seen.len() < 100 {
            let n = batch.recv(&receiver).expect("recv");
            assert!(n <= BATCH);
            for (data, src) in batch.datagrams() {
                assert_eq!(src, sender.local_addr().expect("addr"));
                seen.push(String::from_utf8(data.to_vec()).expect("text"));
            }
        }
        let expected: Vec<String> = (0..100).map(|i| format!("datagram {i}")).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_datagram_longer_than_a_slot_is_skipped() {
        let (receiver, sender, to) = loopback_pair();
        sender.send_to(&[b'x'; 300], to).expect("send");
        sender.send_to(b"short", to).expect("send");
        let mut batch = RecvBatch::new(256);
        let mut kept = Vec::new();
        while kept.is_empty() {
            batch.recv(&receiver).expect("recv");
            kept.extend(batch.datagrams().map(|(d, _)| d.to_vec()));
        }
        assert_eq!(kept, vec![b"short".to_vec()]);
    }

    #[test]
    fn datagrams_longer_than_a_head_come_back_whole_between_short_ones() {
        let (receiver, sender, to) = loopback_pair();
        let patterned = |len: usize| (0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
        // Loopback carries UDP payloads up to 65507 bytes.
        let sent = [b"first".to_vec(), patterned(HEAD), patterned(HEAD + 1), patterned(65507), b"last".to_vec()];
        for datagram in &sent {
            sender.send_to(datagram, to).expect("send");
        }
        let mut batch = RecvBatch::new(65535);
        let mut seen = Vec::new();
        while seen.len() < sent.len() {
            batch.recv(&receiver).expect("recv");
            seen.extend(batch.datagrams().map(|(d, _)| d.to_vec()));
        }
        assert_eq!(seen, sent);
    }

    #[test]
    fn a_datagram_longer_than_head_and_tail_is_skipped() {
        let (receiver, sender, to) = loopback_pair();
        sender.send_to(&[b'x'; 3001], to).expect("send");
        sender.send_to(&[b'y'; 3000], to).expect("send");
        let mut batch = RecvBatch::new(3000);
        let mut kept = Vec::new();
        while kept.is_empty() {
            batch.recv(&receiver).expect("recv");
            kept.extend(batch.datagrams().map(|(d, _)| d.to_vec()));
        }
        assert_eq!(kept, vec![vec![b'y'; 3000]]);
    }

    /// Receives a lone datagram, after which `batch` takes one datagram per call.
    fn make_sparse(batch: &mut RecvBatch, receiver: &UdpSocket, sender: &UdpSocket, to: SocketAddr) {
        sender.send_to(b"lone", to).expect("send");
        assert_eq!(batch.recv(receiver).expect("recv"), 1);
        assert_eq!(batch.pace, Pace::Single(0));
    }

    #[test]
    fn sparse_traffic_takes_one_datagram_per_call_until_a_probe_finds_a_backlog() {
        let (receiver, sender, to) = loopback_pair();
        let mut batch = RecvBatch::new(2048);
        make_sparse(&mut batch, &receiver, &sender, to);
        let sent: Vec<Vec<u8>> = (0..40).map(|i| format!("datagram {i}").into_bytes()).collect();
        for datagram in &sent {
            sender.send_to(datagram, to).expect("send");
        }
        let mut seen = Vec::new();
        let mut per_call = Vec::new();
        while seen.len() < sent.len() {
            per_call.push(batch.recv(&receiver).expect("recv"));
            seen.extend(batch.datagrams().map(|(d, _)| d.to_vec()));
        }
        assert_eq!(seen, sent);
        let singles = usize::from(PROBE_EVERY) - 1;
        assert_eq!(per_call[..singles], vec![1; singles], "one per call before the probe");
        assert_eq!(per_call[singles], sent.len() - singles, "the probe takes the backlog");
        assert_eq!(batch.pace, Pace::Batch);
    }

    #[test]
    fn single_receives_keep_long_datagrams_whole_and_skip_oversized_ones() {
        let (receiver, sender, to) = loopback_pair();
        let mut batch = RecvBatch::new(3000);
        make_sparse(&mut batch, &receiver, &sender, to);
        let long: Vec<u8> = (0..3000).map(|i| (i % 251) as u8).collect();
        for datagram in [&[b'x'; 3001][..], &long, b"short"] {
            sender.send_to(datagram, to).expect("send");
        }
        let mut kept = Vec::new();
        for _ in 0..3 {
            assert_eq!(batch.recv(&receiver).expect("recv"), 1);
            kept.extend(batch.datagrams().map(|(d, src)| {
                assert_eq!(src, sender.local_addr().expect("addr"));
                d.to_vec()
            }));
        }
        assert_eq!(kept, vec![long, b"short".to_vec()]);
    }

    #[test]
    fn the_receive_mode_follows_the_datagrams_per_call() {
        assert_eq!(next_pace(Pace::Batch, SPARSE + 1), Pace::Batch);
        assert_eq!(next_pace(Pace::Batch, SPARSE), Pace::Single(0));
        // Single receives count up to the probe, which decides.
        assert_eq!(next_pace(Pace::Single(3), 1), Pace::Single(4));
        assert_eq!(next_pace(Pace::Single(PROBE_EVERY - 1), SPARSE), Pace::Single(0));
        assert_eq!(next_pace(Pace::Single(PROBE_EVERY - 1), SPARSE + 1), Pace::Batch);
    }

    #[test]
    fn a_lone_datagram_goes_out_and_a_refused_one_is_counted() {
        let (receiver, sender, to) = loopback_pair();
        let mut queue = SendQueue::default();
        queue.push(b"alone", to);
        assert_eq!(queue.flush(&sender), 0);
        let mut buf = [0u8; 16];
        let (len, _) = receiver.recv_from(&mut buf).expect("recv");
        assert_eq!(&buf[..len], b"alone");
        // An IPv6 destination from an IPv4 socket is refused by the kernel.
        queue.push(b"nowhere", "[::1]:5060".parse().expect("addr"));
        assert_eq!(queue.flush(&sender), 1);
        assert!(queue.is_empty());
    }

    #[test]
    fn ipv6_addresses_round_trip() {
        let addr: SocketAddr = "[::1]:5060".parse().expect("addr");
        let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
        write_socket_addr(addr, &mut storage);
        assert_eq!(socket_addr(&storage), Some(addr));
        let addr: SocketAddr = "127.0.0.9:5070".parse().expect("addr");
        write_socket_addr(addr, &mut storage);
        assert_eq!(socket_addr(&storage), Some(addr));
    }
}
