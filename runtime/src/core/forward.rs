//! Stateless forwarding (`forward()` and friends, sip-behaviour.md §1): our Via on top with
//! the recomputable branch, `received`/`rport` on the client's Via, the rewritten R-URI, the
//! script's edits, then one send.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;

use super::ActionError;
use super::branch::stateless_branch;
use super::keywords::ip_text_is;
use crate::context::{Ctx, MsgEnv, RequestSide};
use crate::sip::{Message, Rport, Scheme, Transport, Uri};
use crate::transport::{Destination, Io};

/// Where `forward` sends.
#[derive(Clone, Copy, Debug)]
pub enum ForwardTo<'a> {
    /// `$du` if set, else the current R-URI.
    Uri,
    /// A host given in the config, resolved at start-up.
    Fixed(&'a ResolvedTarget),
}

/// A `forward(host[, port])` target resolved at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedTarget {
    pub addr: SocketAddr,
}

/// `forward()`, `forward(host[, port])`, `forward_udp(...)`, `forward_tcp(...)`.
/// `transport` forces a protocol (forward_udp/tcp); a fixed target otherwise uses the
/// incoming one. Returns 1, or a negative code with nothing sent.
pub fn forward<K: RequestSide, S, W>(
    cx: &mut Ctx<'_, K, S, W>,
    to: ForwardTo<'_>,
    transport: Option<Transport>,
) -> i32 {
    let dest = match to {
        ForwardTo::Uri => match next_hop(cx) {
            Ok(mut dest) => {
                if let Some(proto) = transport {
                    dest.proto = proto;
                }
                dest
            }
            Err(e) => {
                cx.env.last_error = Some(e);
                return e.code();
            }
        },
        ForwardTo::Fixed(target) => {
            Destination { addr: target.addr, proto: transport.unwrap_or(cx.env.proto), conn: None }
        }
    };
    match send_request(cx.msg, cx.env, cx.io, &dest, 0) {
        Ok(()) => 1,
        Err(e) => {
            cx.env.last_error = Some(e);
            e.code()
        }
    }
}

/// The next hop of `forward()`: `$du`, else the R-URI; port from the URI, transport from its
/// `transport` parameter (UDP by default).
pub fn next_hop<K: RequestSide, S, W>(cx: &Ctx<'_, K, S, W>) -> Result<Destination, ActionError> {
    match &cx.env.dst_uri {
        Some(du) => destination_of(cx.io, &Uri::parse(du).map_err(|_| ActionError::BadUri)?),
        None => destination_of(cx.io, &cx.current_uri_parsed().map_err(|_| ActionError::BadUri)?),
    }
}

/// Resolves a SIP URI to where a request for it goes.
pub fn destination_of(io: &Io, uri: &Uri<'_>) -> Result<Destination, ActionError> {
    let proto = match uri.param(b"transport") {
        Some(Some(t)) => Transport::from_bytes(t),
        _ if uri.scheme() == Scheme::Sips => Transport::Tls,
        _ => Transport::Udp,
    };
    if !matches!(proto, Transport::Udp | Transport::Tcp) || !matches!(uri.scheme(), Scheme::Sip | Scheme::Sips) {
        return Err(ActionError::BadAddress);
    }
    let host = std::str::from_utf8(uri.host()).map_err(|_| ActionError::BadUri)?;
    let addr = io.globals().dns.resolve(host, uri.port(), proto).map_err(|e| {
        tracing::warn!("forward: {e}");
        ActionError::BadAddress
    })?;
    Ok(Destination { addr, proto, conn: None })
}

/// The text of one Via fix-up, on the stack: `;received=` and the longest IPv6 address fit.
pub(crate) type FixupText = SmallVec<[u8; 64]>;

/// The `received`/`rport` edits on the client's Via of a forwarded request (§1.3):
/// `;received=` right after host[:port] (or in place of an old one), `rport` filled in
/// where it is, a forced rport placed first.
pub(crate) fn via_fixups(msg: &Message, env: &MsgEnv) -> SmallVec<[(u32, u32, FixupText); 3]> {
    let mut edits = SmallVec::new();
    let Ok(via) = msg.top_via() else { return edits };
    let src_ip = env.src.ip();
    let has_rport = via.rport() != Rport::Absent;
    let needs_received = via.received().is_some() || has_rport || !ip_text_is(via.host(), src_ip);
    let at = via.sent_by_end();
    let rport_text = || {
        let mut text = FixupText::from_slice(b";rport=");
        text.extend_from_slice(itoa::Buffer::new().format(env.src.port()).as_bytes());
        text
    };
    if env.force_rport && !has_rport {
        edits.push((at, at, rport_text()));
    }
    if needs_received {
        let mut text = FixupText::from_slice(b";received=");
        text.extend_from_slice(crate::transport::IpText::new(src_ip).as_bytes());
        match via.received_param() {
            Some(old) => edits.push((old.start, old.end, text)),
            None => edits.push((at, at, text)),
        }
    }
    if let Some(old) = via.rport_param() {
        edits.push((old.start, old.end, rport_text()));
    }
    edits
}

/// Writes `msg` as forwarded to `dest` (branch `index`) and sends it.
pub(crate) fn send_request(
    msg: &Message,
    env: &MsgEnv,
    io: &Io,
    dest: &Destination,
    index: u32,
) -> Result<(), ActionError> {
    let branch = stateless_branch(msg, index);
    let ruri = env.new_uri.as_deref();
    let mut failure = None;
    let sent = io.send_with(dest, forwarded_capacity(msg), |out| {
        write_forwarded(msg, env, io, dest, ruri, &branch, out).map_err(|e| failure = Some(e)).is_ok()
    });
    match sent {
        Ok(true) => Ok(()),
        Ok(false) => Err(failure.unwrap_or(ActionError::Send)),
        Err(e) => {
            tracing::warn!("sending to {}: {e:?}", dest.addr);
            Err(ActionError::Send)
        }
    }
}

fn forwarded_capacity(msg: &Message) -> usize {
    msg.as_bytes().len() + 256
}

/// `msg` as it goes to `dest` (§1.1): `ruri` on the request line if given, our Record-Route
/// if the script asked for one, our Via with `branch`, `received`/`rport` on the client's
/// Via, the script's edits, Content-Length on streams.
pub(crate) fn build_forwarded(
    msg: &Message,
    env: &MsgEnv,
    io: &Io,
    dest: &Destination,
    ruri: Option<&[u8]>,
    branch: &[u8],
) -> Result<Bytes, ActionError> {
    let mut out = BytesMut::with_capacity(forwarded_capacity(msg));
    write_forwarded(msg, env, io, dest, ruri, branch, &mut out)?;
    Ok(out.freeze())
}

/// Appends what [`build_forwarded`] returns to `out` (a UDP worker's batch queue, when the
/// request leaves from its own socket).
fn write_forwarded(
    msg: &Message,
    env: &MsgEnv,
    io: &Io,
    dest: &Destination,
    ruri: Option<&[u8]>,
    branch: &[u8],
    out: &mut BytesMut,
) -> Result<(), ActionError> {
    let (host, port) = io.local_address(&dest.addr, dest.proto).ok_or(ActionError::Send)?;
    let mut via: SmallVec<[u8; 192]> = SmallVec::new();
    via.extend_from_slice(b"Via: SIP/2.0/");
    via.extend_from_slice(dest.proto.as_str().unwrap_or("UDP").as_bytes());
    via.push(b' ');
    via.extend_from_slice(host.as_bytes());
    if port != 5060 {
        via.push(b':');
        via.extend_from_slice(itoa::Buffer::new().format(port).as_bytes());
    }
    via.extend_from_slice(b";branch=");
    via.extend_from_slice(branch);
    via.extend_from_slice(b"\r\n");

    let fixups = via_fixups(msg, env);
    let record_route = crate::modules::rr::lines_for(msg, env, io, dest);
    // Streams need Content-Length (§1.1 item 5).
    let length = (dest.proto != Transport::Udp && msg.content_length().is_none())
        .then(|| format!("Content-Length: {}\r\n", msg.body().len()).into_bytes());
    let mut extra: SmallVec<[(u32, u32, &[u8]); 8]> = SmallVec::new();
    if let (Some(new_uri), Some(slice)) = (ruri, msg.ruri_slice()) {
        extra.push((slice.start, slice.end, new_uri));
    }
    for (start, end, text) in &fixups {
        extra.push((*start, *end, text));
    }
    if let Some(lines) = &record_route {
        let top = msg.headers().first().map_or(msg.headers_end(), |h| h.line.start);
        extra.push((top, top, lines));
    }
    let first_via = msg.top_via().map(|v| msg.headers()[v.header_index()].line.start).unwrap_or(msg.headers_end());
    extra.push((first_via, first_via, &via));
    if let Some(length) = &length {
        extra.push((msg.headers_end(), msg.headers_end(), length));
    }
    msg.write_with(&extra, out);
    Ok(())
}
