//! A small SIP peer for tests: one UDP socket on a loopback address, requests built from
//! parts, and plain-text reads of what comes back (deliberately not sipcfg's own parser).

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// A UDP endpoint on the loopback range.
pub struct Peer {
    socket: UdpSocket,
}

impl Peer {
    /// Binds `addr` (`127.0.x.y:port`, port 0 for any).
    pub fn bind(addr: &str) -> Peer {
        let socket = UdpSocket::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        Peer { socket }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().expect("bound socket")
    }

    pub fn send(&self, to: SocketAddr, message: &str) {
        self.socket.send_to(message.as_bytes(), to).expect("send");
    }

    /// The next datagram within `wait`, with its source.
    pub fn recv_within(&self, wait: Duration) -> Option<(String, SocketAddr)> {
        self.socket.set_read_timeout(Some(wait)).expect("timeout");
        let mut buf = vec![0u8; 65536];
        match self.socket.recv_from(&mut buf) {
            Ok((n, from)) => Some((String::from_utf8_lossy(&buf[..n]).into_owned(), from)),
            Err(_) => None,
        }
    }

    /// The next datagram; panics after two seconds.
    pub fn recv(&self) -> (String, SocketAddr) {
        self.recv_within(Duration::from_secs(2)).unwrap_or_else(|| panic!("{}: nothing received", self.addr()))
    }

    /// Asserts that nothing arrives for `wait`.
    pub fn expect_silence(&self, wait: Duration) {
        if let Some((message, from)) = self.recv_within(wait) {
            panic!("{}: expected nothing, got from {from}:\n{message}", self.addr());
        }
    }
}

/// A request from `from` (its Via and Contact) to `ruri`.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub ruri: String,
    pub from: SocketAddr,
    pub branch: String,
    pub call_id: String,
    pub cseq: u32,
    pub to_tag: Option<String>,
    pub extra: Vec<String>,
    pub body: String,
}

impl Request {
    pub fn new(method: &str, ruri: &str, from: SocketAddr, call_id: &str) -> Request {
        Request {
            method: method.to_string(),
            ruri: ruri.to_string(),
            from,
            branch: format!("z9hG4bK-{call_id}-{}", method.to_ascii_lowercase()),
            call_id: call_id.to_string(),
            cseq: 1,
            to_tag: None,
            extra: Vec::new(),
            body: String::new(),
        }
    }

    pub fn text(&self) -> String {
        let to_tag = self.to_tag.as_ref().map(|t| format!(";tag={t}")).unwrap_or_default();
        let mut text = format!(
            "{method} {ruri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {from};branch={branch}\r\n\
             Max-Forwards: 70\r\n\
             From: \"Alice\" <sip:alice@{from}>;tag=a1b2c3\r\n\
             To: <{ruri}>{to_tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} {method}\r\n\
             Contact: <sip:alice@{from}>\r\n",
            method = self.method,
            ruri = self.ruri,
            from = self.from,
            branch = self.branch,
            call_id = self.call_id,
            cseq = self.cseq,
        );
        for header in &self.extra {
            text.push_str(header);
            text.push_str("\r\n");
        }
        text.push_str(&format!("Content-Length: {}\r\n\r\n{}", self.body.len(), self.body));
        text
    }
}

/// A reply to `request` (as received, with every Via), answering with `code` and a To-tag.
pub fn reply_to(request: &str, code: u16, reason: &str) -> String {
    let mut text = format!("SIP/2.0 {code} {reason}\r\n");
    for line in lines(request).skip(1) {
        let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        match name.as_str() {
            "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => {
                text.push_str(line);
                text.push_str("\r\n");
            }
            "to" | "t" => {
                text.push_str(line);
                if !line.contains(";tag=") {
                    text.push_str(";tag=uas-tag");
                }
                text.push_str("\r\n");
            }
            _ => {}
        }
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text
}

/// The header lines of a message (start line first), up to the empty line.
pub fn lines(message: &str) -> impl Iterator<Item = &str> {
    message.split("\r\n").take_while(|l| !l.is_empty())
}

pub fn start_line(message: &str) -> &str {
    lines(message).next().unwrap_or("")
}

/// The status code of a reply.
pub fn status(message: &str) -> u16 {
    let line = start_line(message);
    assert!(line.starts_with("SIP/2.0 "), "not a reply: {line}");
    line[8..11].parse().expect("status code")
}

/// The values of every header `name` (full name, case-insensitive), in order.
pub fn headers<'m>(message: &'m str, name: &str) -> Vec<&'m str> {
    lines(message)
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

/// The first header `name`; panics if there is none.
pub fn header<'m>(message: &'m str, name: &str) -> &'m str {
    headers(message, name).first().copied().unwrap_or_else(|| panic!("no {name} header in:\n{message}"))
}

/// The `tag` parameter of a From/To value.
pub fn tag(value: &str) -> Option<&str> {
    value.split(';').skip(1).find_map(|p| p.trim().strip_prefix("tag="))
}
