//! UDP workers: `children` threads per listen address, each with its own SO_REUSEPORT socket
//! (the kernel spreads datagrams over them) and a current-thread tokio runtime.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use bytes::BytesMut;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::sync::watch;

use super::Io;
use crate::server::{Globals, Received, Script, handle};
use crate::sip::Transport;

/// Kamailio reads datagrams up to this size.
const MAX_DATAGRAM: usize = 65535;

/// A non-blocking UDP socket bound to `addr` in a SO_REUSEPORT group.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // A larger receive buffer absorbs bursts while a worker is busy.
    let _ = socket.set_recv_buffer_size(1 << 21);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Runs one worker until `shutdown` flips.
pub(crate) fn run_worker<S: Script>(
    socket: UdpSocket,
    endpoint: usize,
    globals: &'static Globals,
    shared: &'static S::Shared,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let local = socket.local_addr()?;
        let socket = tokio::net::UdpSocket::from_std(socket)?;
        let io = Io::new(globals, Some(endpoint));
        let mut worker = S::worker(shared);
        let mut buf = BytesMut::with_capacity(MAX_DATAGRAM);
        loop {
            buf.clear();
            buf.reserve(MAX_DATAGRAM);
            let received = tokio::select! {
                received = socket.recv_buf_from(&mut buf) => received,
                _ = shutdown.changed() => return Ok(()),
            };
            let src = match received {
                Ok((_, src)) => src,
                Err(e) => {
                    tracing::warn!("udp receive on {local}: {e}");
                    continue;
                }
            };
            let data = buf.split().freeze();
            let meta = Received { src, local, proto: Transport::Udp, conn: None };
            handle::<S>(data, meta, &io, shared, &mut worker);
        }
    })
}
