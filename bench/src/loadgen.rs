//! A SIP load generator for one core: requests pre-built from a template (a unique Call-ID
//! and branch patched in per request), sent with `sendmmsg` and answered replies taken with
//! `recvmmsg`, counted by status class.
//!
//! Two modes: a fixed offered rate (open loop, paced so that at a moderate rate each request
//! leaves in the same millisecond bursts as sipp sends it), and a window of requests in flight (closed loop,
//! which keeps a proxy saturated without overflowing its socket buffer).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use sipcfg_runtime::transport::batch::{BATCH, RecvBatch, SendQueue};

/// How the generator offers load.
#[derive(Clone, Copy, Debug)]
pub enum Offer {
    /// Requests per second, sent in a burst at the start of each `tick`; with a zero tick,
    /// each request leaves at its own time (one request per wake-up of the proxy at a
    /// moderate rate). sipp sends bursts: at 2000 calls/s, 10-20 requests every 5-7 ms.
    Rate { per_second: u64, tick: Duration },
    /// Requests in flight: a new one leaves when a final reply comes back.
    Window(u64),
}

#[derive(Clone, Debug)]
pub struct LoadSpec {
    pub target: SocketAddr,
    /// The generator's own address (port 0 for any).
    pub local: SocketAddr,
    pub method: &'static str,
    pub requests: u64,
    pub offer: Offer,
    /// How long to wait for the last replies after the last request left.
    pub drain: Duration,
}

/// What came back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadResult {
    pub sent: u64,
    /// Final replies (2xx to 6xx).
    pub answered: u64,
    pub provisional: u64,
    /// Final replies by class, 2xx at index 0.
    pub by_class: [u64; 5],
    /// Datagrams that were not SIP replies.
    pub garbage: u64,
    /// From the first request to the last reply (or to the end of the drain).
    pub elapsed: Duration,
}

impl LoadResult {
    /// Requests without a final reply.
    pub fn unanswered(&self) -> u64 {
        self.sent.saturating_sub(self.answered)
    }

    /// Final replies per second.
    pub fn throughput(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The shortest interval between two reads of the replies (see `run`). Measured at 2000/s
/// with 4 ms bursts (8000 OPTIONS, 3 interleaved rounds, µs of server CPU per request):
/// waiting on the socket after every reply, Kamailio 17.7-20.9 with the generator vs
/// 16.6-17.0 with sipp, sipcfg 12.0-13.3 vs 10.8-12.8.
const REPLY_POLL: Duration = Duration::from_millis(1);

/// Field width of the request number patched into the template.
const DIGITS: usize = 10;

/// A request with two places for the request number (branch and Call-ID).
struct Template {
    text: Vec<u8>,
    slots: [usize; 2],
}

impl Template {
    /// The headers and order of sipp's scenarios in bench/sipp/ (options-200.xml,
    /// invite-200.xml: Contact only on an INVITE), so that a server parses the same request
    /// from either generator.
    fn new(method: &str, target: SocketAddr, local: SocketAddr) -> Template {
        let number = "0".repeat(DIGITS);
        let contact = if method == "INVITE" { format!("Contact: <sip:bench@{local}>\r\n") } else { String::new() };
        let text = format!(
            "{method} sip:bench@{target} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-lg-{number}\r\n\
             From: <sip:bench@{local}>;tag=lg-{port}\r\n\
             To: <sip:bench@{target}>\r\n\
             Call-ID: {number}-lg@{ip}\r\n\
             CSeq: 1 {method}\r\n\
             {contact}\
             Max-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n",
            port = local.port(),
            ip = local.ip(),
        );
        let first = text.find(&number).expect("branch slot");
        let second = first + DIGITS + text[first + DIGITS..].find(&number).expect("Call-ID slot");
        Template { text: text.into_bytes(), slots: [first, second] }
    }

    fn write(&self, number: u64, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.text);
        let mut digits = [b'0'; DIGITS];
        let mut n = number;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        for slot in self.slots {
            out[slot..slot + DIGITS].copy_from_slice(&digits);
        }
    }
}

/// The request the generator sends to `target` from `local` as number `number` (every
/// request of a load has this length).
pub fn request(method: &str, target: SocketAddr, local: SocketAddr, number: u64) -> Vec<u8> {
    let template = Template::new(method, target, local);
    let mut out = Vec::with_capacity(template.text.len());
    template.write(number, &mut out);
    out
}

/// Runs one load and counts the replies.
pub fn run(spec: &LoadSpec) -> io::Result<LoadResult> {
    let socket = UdpSocket::bind(spec.local)?;
    // Room for a burst of replies while the generator is sending.
    let socket2 = socket2::SockRef::from(&socket);
    let _ = socket2.set_recv_buffer_size(8 << 20);
    let _ = socket2.set_send_buffer_size(8 << 20);
    socket.set_nonblocking(true)?;
    let local = socket.local_addr()?;
    let template = Template::new(spec.method, spec.target, local);

    let mut result = LoadResult::default();
    let mut queue = SendQueue::default();
    let mut scratch = Vec::with_capacity(template.text.len());
    let mut batch = RecvBatch::new(4096);
    let start = Instant::now();
    let mut last_activity = start;
    loop {
        let now = Instant::now();
        let due = match spec.offer {
            Offer::Rate { per_second, tick } => {
                let elapsed = now.duration_since(start).as_nanos();
                let due_by = match tick.as_nanos() {
                    0 => elapsed,
                    tick => (elapsed / tick + 1) * tick,
                };
                ((due_by * u128::from(per_second) / 1_000_000_000) as u64 + 1).min(spec.requests)
            }
            Offer::Window(window) => (result.answered + window).min(spec.requests),
        };
        while result.sent < due {
            let n = (due - result.sent).min(BATCH as u64);
            for i in 0..n {
                template.write(result.sent + i, &mut scratch);
                queue.push(&scratch, spec.target);
            }
            queue.flush(&socket);
            result.sent += n;
            last_activity = Instant::now();
        }
        // Take every reply already there.
        let mut replies_read = false;
        loop {
            match batch.recv(&socket) {
                Ok(0) => break,
                Ok(_) => {
                    for (reply, _) in batch.datagrams() {
                        count(reply, &mut result);
                    }
                    last_activity = Instant::now();
                    replies_read = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if result.sent == spec.requests && (result.answered >= spec.requests || last_activity.elapsed() >= spec.drain) {
            break;
        }
        // Sleep until the next request is due or a reply arrives.
        let wait = match spec.offer {
            Offer::Rate { per_second, tick } if result.sent < spec.requests => {
                let next = Duration::from_nanos(result.sent * 1_000_000_000 / per_second.max(1));
                let next = match tick.as_nanos() {
                    0 => next,
                    tick => Duration::from_nanos((next.as_nanos() / tick * tick) as u64),
                };
                next.saturating_sub(start.elapsed())
            }
            _ => Duration::from_millis(5),
        };
        let open_loop = matches!(spec.offer, Offer::Rate { .. });
        if replies_read && open_loop {
            // Read replies at most every REPLY_POLL, as sipp's busier loop does: a generator
            // waiting on its socket after every reply makes each reply the server sends wake
            // it, a cost sipp does not put on a server that sends replies one by one. (The
            // closed loop refills its window at once instead.)
            std::thread::sleep(wait.min(REPLY_POLL));
        } else if !wait.is_zero() {
            wait_readable(&socket, wait)?;
        }
    }
    result.elapsed = last_activity.duration_since(start);
    Ok(result)
}

fn count(reply: &[u8], result: &mut LoadResult) {
    let code = reply
        .strip_prefix(b"SIP/2.0 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .and_then(|digits| digits.parse::<u16>().ok());
    match code {
        Some(100..=199) => result.provisional += 1,
        Some(code @ 200..=699) => {
            result.answered += 1;
            result.by_class[usize::from(code / 100 - 2)] += 1;
        }
        _ => result.garbage += 1,
    }
}

/// Waits (with nanosecond resolution) until the socket is readable or `timeout` passes.
#[allow(unsafe_code)]
fn wait_readable(socket: &UdpSocket, timeout: Duration) -> io::Result<()> {
    let mut poll = libc::pollfd { fd: socket.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let timeout = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: one valid pollfd, a valid timespec, no signal mask.
    let ready = unsafe { libc::ppoll(&mut poll, 1, &timeout, std::ptr::null()) };
    if ready < 0 {
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_has_its_own_branch_and_call_id() {
        let target: SocketAddr = "127.0.0.1:5060".parse().expect("addr");
        let local: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let template = Template::new("OPTIONS", target, local);
        let mut out = Vec::new();
        template.write(1234567, &mut out);
        let text = String::from_utf8(out.clone()).expect("text");
        assert!(text.contains("branch=z9hG4bK-lg-0001234567\r\n"), "{text}");
        assert!(text.contains("Call-ID: 0001234567-lg@127.0.0.1\r\n"), "{text}");
        let message = sipcfg_runtime::sip::Message::parse(bytes::Bytes::from(out)).expect("parses");
        assert!(message.is_request());
    }

    #[test]
    fn replies_are_counted_by_class() {
        let mut result = LoadResult::default();
        for reply in [&b"SIP/2.0 100 Trying\r\n"[..], b"SIP/2.0 200 OK\r\n", b"SIP/2.0 403 No\r\n", b"junk"] {
            count(reply, &mut result);
        }
        assert_eq!((result.provisional, result.answered, result.garbage), (1, 2, 1));
        assert_eq!(result.by_class, [1, 0, 1, 0, 0]);
    }
}
