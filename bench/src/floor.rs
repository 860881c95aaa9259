//! The floor: the least a UDP SIP server can do per request with the runtime's socket and
//! batching strategy (blocking `recvmmsg`, one `sendmmsg` per batch, from
//! `sipcfg_runtime::transport::batch`). Its CPU per request is the kernel path of this
//! machine plus almost nothing.
//!
//! `Fixed` answers every datagram with one pre-built reply (for the Rust load generator,
//! which only counts status codes). `Echo` copies Via, From, To, Call-ID and CSeq into a 200,
//! so that sipp accepts it, and is also the downstream server of the forwarding workloads.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use sipcfg_runtime::transport::batch::{RecvBatch, SendQueue};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Fixed,
    Echo,
}

const FIXED_REPLY: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-floor\r\n\
From: <sip:floor@127.0.0.1>;tag=floor\r\n\
To: <sip:floor@127.0.0.1>;tag=floor\r\n\
Call-ID: floor@127.0.0.1\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

/// Serves on `addr` until the process is stopped.
pub fn serve(addr: SocketAddr, mode: Mode) -> io::Result<()> {
    let socket = UdpSocket::bind(addr)?;
    let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(1 << 21);
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut batch = RecvBatch::new(65535);
    let mut queue = SendQueue::default();
    let mut reply = Vec::with_capacity(1024);
    loop {
        match batch.recv(&socket) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => continue,
            Err(e) => return Err(e),
        }
        for (request, src) in batch.datagrams() {
            match mode {
                Mode::Fixed => queue.push(FIXED_REPLY, src),
                Mode::Echo => {
                    if echo_reply(request, &mut reply) {
                        queue.push(&reply, src);
                    }
                }
            }
        }
        queue.flush(&socket);
    }
}

/// Writes a 200 for `request` into `out`; false for what gets no reply (ACK, replies,
/// garbage).
pub fn echo_reply(request: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut lines = request.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let Some(request_line) = lines.next() else { return false };
    if request_line.starts_with(b"SIP/2.0 ")
        || request_line.starts_with(b"ACK ")
        || !request_line.ends_with(b" SIP/2.0")
    {
        return false;
    }
    let is_invite = request_line.starts_with(b"INVITE ");
    out.extend_from_slice(b"SIP/2.0 200 OK\r\n");
    for line in lines.take_while(|line| !line.is_empty()) {
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        let name = name.trim_ascii();
        let copied = [&b"Via"[..], b"v", b"From", b"f", b"Call-ID", b"i", b"CSeq", b"Record-Route"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n));
        if copied {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        } else if name.eq_ignore_ascii_case(b"To") || name.eq_ignore_ascii_case(b"t") {
            out.extend_from_slice(line);
            if !line.windows(5).any(|w| w.eq_ignore_ascii_case(b";tag=")) {
                out.extend_from_slice(b";tag=floor");
            }
            out.extend_from_slice(b"\r\n");
        }
    }
    if is_invite {
        out.extend_from_slice(b"Contact: <sip:floor@127.0.0.1>\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_copies_the_transaction_headers_and_tags_the_to() {
        let request = b"INVITE sip:a@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK2\r\n\
From: <sip:b@127.0.0.1>;tag=1\r\n\
To: <sip:a@127.0.0.1>\r\n\
Call-ID: c1\r\n\
CSeq: 1 INVITE\r\n\
Max-Forwards: 69\r\n\
Content-Length: 0\r\n\r\n";
        let mut out = Vec::new();
        assert!(echo_reply(request, &mut out));
        let reply = sipcfg_runtime::sip::Message::parse(bytes::Bytes::from(out.clone())).expect("parses");
        assert_eq!(reply.status(), Some(200));
        let text = String::from_utf8(out).expect("text");
        assert!(text.contains("branch=z9hG4bK1\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK2\r\n"), "{text}");
        assert!(text.contains("To: <sip:a@127.0.0.1>;tag=floor\r\n"), "{text}");
        assert!(!text.contains("Max-Forwards"), "{text}");
    }

    #[test]
    fn acks_and_replies_get_nothing() {
        let mut out = Vec::new();
        assert!(!echo_reply(b"ACK sip:a@127.0.0.1 SIP/2.0\r\nCSeq: 1 ACK\r\n\r\n", &mut out));
        assert!(!echo_reply(b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n", &mut out));
        assert!(!echo_reply(b"garbage", &mut out));
    }
}
