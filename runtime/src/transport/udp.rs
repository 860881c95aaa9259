//! UDP workers: `children` threads per listen address, each with its own SO_REUSEPORT socket
//! (the kernel spreads datagrams over them) and a current-thread tokio runtime.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use std::time::Duration;

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::watch;

use super::Io;
use super::batch::RecvBatch;
use crate::server::{Globals, Received, Script, handle};
use crate::sip::Transport;

/// Kamailio reads datagrams up to this size.
const MAX_DATAGRAM: usize = 65535;

/// A blocking UDP socket bound to `addr` in a SO_REUSEPORT group: its worker waits in
/// `recvmmsg`, and a sender whose buffer is full waits rather than drops.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // A larger receive buffer absorbs bursts while a worker is busy.
    let _ = socket.set_recv_buffer_size(1 << 21);
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// How often a worker blocked in `recvmmsg` looks at the shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_millis(100);

/// Runs one worker until `shutdown` flips: a blocking batch receive, the pipeline for each
/// datagram, then one batched send of everything the batch produced on this socket.
pub(crate) fn run_worker<S: Script>(
    socket: UdpSocket,
    endpoint: usize,
    globals: &'static Globals,
    shared: &'static S::Shared,
    shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let local = socket.local_addr()?;
    // A receive timeout: one system call per wake-up, and the flag is still seen.
    socket.set_read_timeout(Some(SHUTDOWN_POLL))?;
    let io = Io::batching(globals, endpoint);
    let mut worker = S::worker(shared);
    let mut batch = RecvBatch::new(MAX_DATAGRAM);
    while !*shutdown.borrow() {
        match batch.recv(&socket) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => continue,
            Err(e) => {
                tracing::warn!("udp receive on {local}: {e}");
                continue;
            }
        }
        for (datagram, src) in batch.datagrams() {
            let meta = Received { src, local, proto: Transport::Udp, conn: None };
            handle::<S>(Bytes::copy_from_slice(datagram), meta, &io, shared, &mut worker);
        }
        io.flush(&socket);
    }
    Ok(())
}
