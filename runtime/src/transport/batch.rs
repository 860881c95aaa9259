//! Batched datagram I/O: `recvmmsg` fills up to [`BATCH`] slots in one system call and
//! `sendmmsg` sends what a batch produced in one more. At a low rate every datagram still
//! costs one call each way; under load the kernel entry is shared by the whole batch.
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
}

// SAFETY: the raw pointers in `iovecs` and `headers` only point into the batch's own heap
// blocks, which move with it.
unsafe impl Send for RecvBatch {}

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
    /// then takes as many as are queued, up to `BATCH`. Returns how many.
    pub fn recv(&mut self, socket: &impl AsRawFd) -> io::Result<usize> {
        self.count = 0;
        // The kernel overwrites the address lengths and flags; reset what the last call used.
        for header in &mut self.headers[..self.used] {
            header.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_hdr.msg_flags = 0;
        }
        // SAFETY: `headers` points at `BATCH` live iovecs, buffers and address slots owned by
        // `self`, which outlive the call.
        let received = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE as _,
                std::ptr::null_mut(),
            )
        };
        if received < 0 {
            return Err(io::Error::last_os_error());
        }
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

/// Datagrams waiting to go out, copied into one buffer, sent with `sendmmsg`.
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
            // SAFETY: the first `chunk.len()` headers point at live iovecs, data and addresses.
            let sent = unsafe { sendmmsg(socket.as_raw_fd(), &mut self.headers[..chunk.len()]) };
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
