//! Sockets: UDP workers (one socket each, SO_REUSEPORT), the TCP thread, and [`Io`], what a
//! route function uses to send.

pub mod batch;
pub(crate) mod tcp;
pub(crate) mod udp;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::server::Globals;
use crate::sip::Transport;

/// A TCP connection, numbered by the TCP thread.
pub type ConnId = u64;

/// Where a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destination {
    pub addr: SocketAddr,
    pub proto: Transport,
    /// For TCP: the connection to use if it is still open (replies go back on the
    /// connection the request came on).
    pub conn: Option<ConnId>,
}

/// A UDP listen socket as seen by senders (a duplicate of a worker's socket).
#[derive(Debug)]
pub(crate) struct UdpEndpoint {
    pub(crate) local: SocketAddr,
    pub(crate) socket: UdpSocket,
    /// What Via and Record-Route say for this socket (the advertised address, or the
    /// address), written once rather than for every forwarded request.
    pub(crate) via_address: (String, u16),
}

impl UdpEndpoint {
    pub(crate) fn new(local: SocketAddr, advertise: Option<(String, u16)>, socket: UdpSocket) -> UdpEndpoint {
        let via_address = advertise.unwrap_or_else(|| (host_text(&local), local.port()));
        UdpEndpoint { local, socket, via_address }
    }
}

/// Why a send failed (Kamailio's E_SEND / E_BAD_ADDRESS).
#[derive(Debug)]
pub enum SendError {
    /// No socket of the destination's transport and address family.
    NoSocket,
    Io(io::Error),
}

/// What one worker sends with, and the instance-wide settings it reads.
pub struct Io {
    pub(crate) globals: &'static Globals,
    /// Index in `globals.udp` of the socket this worker receives on.
    pub(crate) own_udp: Option<usize>,
    /// When this worker last sent a stateless reply (sl's ACK filter looks back 2 s).
    pub(crate) last_stateless_reply: Cell<Option<Instant>>,
    /// In a UDP worker: what goes out of its own socket waits here until the end of the
    /// received batch, then leaves in one `sendmmsg`.
    queue: Option<RefCell<batch::SendQueue>>,
}

impl Io {
    pub(crate) fn new(globals: &'static Globals, own_udp: Option<usize>) -> Self {
        Io { globals, own_udp, last_stateless_reply: Cell::new(None), queue: None }
    }

    /// The `Io` of a UDP worker: sends from its own socket are batched until [`Io::flush`].
    pub(crate) fn batching(globals: &'static Globals, own_udp: usize) -> Self {
        Io { queue: Some(RefCell::default()), ..Io::new(globals, Some(own_udp)) }
    }

    /// Sends what the batch queued.
    pub(crate) fn flush(&self, socket: &UdpSocket) {
        if let Some(queue) = &self.queue {
            let mut queue = queue.borrow_mut();
            if !queue.is_empty() {
                let failed = queue.flush(socket);
                if failed > 0 {
                    self.globals.stats.send_failures.fetch_add(failed as u64, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }

    pub fn globals(&self) -> &'static Globals {
        self.globals
    }

    /// The UDP socket to send to `to` from: our own if the family matches, else the first of
    /// that family.
    pub(crate) fn udp_for(&self, to: &SocketAddr) -> Option<&'static UdpEndpoint> {
        let sockets = &self.globals.udp;
        self.own_udp
            .and_then(|i| sockets.get(i))
            .filter(|s| s.local.is_ipv4() == to.is_ipv4())
            .or_else(|| sockets.iter().find(|s| s.local.is_ipv4() == to.is_ipv4()))
    }

    /// The local address (as text for Via/Record-Route, and port) a message to `to` leaves
    /// from; borrowed for UDP, where it is written once at start-up (every forwarded request
    /// asks).
    pub fn local_address(&self, to: &SocketAddr, proto: Transport) -> Option<(Cow<'static, str>, u16)> {
        let (local, advertise) = match proto {
            Transport::Udp => {
                return self.udp_for(to).map(|s| (Cow::Borrowed(s.via_address.0.as_str()), s.via_address.1));
            }
            _ => self.globals.tcp_local(to)?,
        };
        let (host, port) = advertise.unwrap_or_else(|| (host_text(&local), local.port()));
        Some((Cow::Owned(host), port))
    }

    /// What a receiving socket writes into Via and Record-Route: its advertised host and
    /// port, or its address.
    pub fn advertised(&self, local: SocketAddr, proto: Transport) -> Option<(Cow<'_, str>, u16)> {
        let (addr, advertise) = match proto {
            Transport::Udp => {
                return self.globals.udp.iter().find(|e| e.local == local).map(|e| {
                    let (host, port) = &e.via_address;
                    (Cow::Borrowed(host.as_str()), *port)
                });
            }
            _ => self.globals.tcp.locals.iter().find(|(a, _)| *a == local).cloned()?,
        };
        let (host, port) = advertise.unwrap_or_else(|| (host_text(&addr), addr.port()));
        Some((Cow::Owned(host), port))
    }

    /// The batch queue, when a datagram leaving from `endpoint` leaves from this worker's own
    /// socket.
    fn own_queue(&self, endpoint: &UdpEndpoint) -> Option<&RefCell<batch::SendQueue>> {
        let own = self.own_udp.and_then(|i| self.globals.udp.get(i))?;
        self.queue.as_ref().filter(|_| std::ptr::eq(own, endpoint))
    }

    /// Sends one message.
    pub fn send(&self, to: &Destination, data: Bytes) -> Result<(), SendError> {
        match to.proto {
            Transport::Udp => {
                let endpoint = self.udp_for(&to.addr).ok_or(SendError::NoSocket)?;
                if let Some(queue) = self.own_queue(endpoint) {
                    queue.borrow_mut().push(&data, to.addr);
                    return Ok(());
                }
                endpoint.socket.send_to(&data, to.addr).map(drop).map_err(SendError::Io)
            }
            Transport::Tcp => self.globals.tcp.send(to, data),
            _ => Err(SendError::NoSocket),
        }
    }

    /// Sends a message that `build` writes: into the batch queue itself when it leaves from
    /// this worker's own UDP socket, else into a buffer of its own. `Ok(false)` when `build`
    /// fails (nothing is sent).
    pub(crate) fn send_with(
        &self,
        to: &Destination,
        capacity: usize,
        build: impl FnOnce(&mut BytesMut) -> bool,
    ) -> Result<bool, SendError> {
        if to.proto == Transport::Udp
            && let Some(queue) = self.udp_for(&to.addr).and_then(|endpoint| self.own_queue(endpoint))
        {
            return Ok(queue.borrow_mut().push_with(to.addr, build));
        }
        let mut out = BytesMut::with_capacity(capacity);
        if !build(&mut out) {
            return Ok(false);
        }
        self.send(to, out.freeze()).map(|()| true)
    }
}

/// An IP address as text, without a heap allocation: `received=` needs it for every reply and
/// forwarded request of a client behind NAT or with rport.
#[derive(Clone, Copy)]
pub struct IpText {
    buf: [u8; 45],
    len: u8,
}

impl IpText {
    pub fn new(ip: std::net::IpAddr) -> IpText {
        let mut text = IpText { buf: [0; 45], len: 0 };
        match ip {
            std::net::IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        text.push(b'.');
                    }
                    if octet >= 100 {
                        text.push(b'0' + octet / 100);
                    }
                    if octet >= 10 {
                        text.push(b'0' + octet / 10 % 10);
                    }
                    text.push(b'0' + octet % 10);
                }
            }
            std::net::IpAddr::V6(v6) => {
                use std::io::Write;
                let mut cursor = std::io::Cursor::new(&mut text.buf[..]);
                // 45 bytes hold the longest IPv6 text (an IPv4-mapped address in full).
                let _ = write!(cursor, "{v6}");
                text.len = cursor.position() as u8;
            }
        }
        text
    }

    fn push(&mut self, byte: u8) {
        self.buf[usize::from(self.len)] = byte;
        self.len += 1;
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

/// An IP as Via/Record-Route write it (IPv6 in brackets).
pub fn host_text(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => String::from_utf8_lossy(IpText::new((*v4.ip()).into()).as_bytes()).into_owned(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    }
}

#[cfg(test)]
mod tests {
    use super::IpText;
    use std::net::IpAddr;

    #[test]
    fn ip_text_matches_the_standard_formatting() {
        for text in ["0.0.0.0", "127.0.0.1", "10.20.100.255", "192.168.1.9", "::1", "2001:db8::5", "::ffff:1.2.3.4"] {
            let ip: IpAddr = text.parse().expect("ip");
            assert_eq!(IpText::new(ip).as_bytes(), ip.to_string().as_bytes());
        }
    }
}
