//! sl: stateless replies (sip-behaviour.md §3, modules.md §2).
//!
//! The To-tag is `<md5 of "KAMAILIO-stateless"+first listen IP+port>.<crc16 of top Via
//! host+port+branch><crc16 of Via port+host+Call-ID>`: the same request (a retransmission)
//! always gets the same tag with no state kept, and the ACK of a non-2xx reply, which has
//! the same top Via and Call-ID, can be recognised and absorbed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use md5::{Digest, Md5};

use crate::context::{Ctx, MainRequest, MsgEnv, RequestSide};
use crate::core::dset::contact_header;
use crate::core::keywords::ip_text_is;
use crate::sip::{Message, Method, ReplySpec, Rport, TopViaParams, build_reply};
use crate::transport::{Destination, Io, host_text};

/// How long after a stateless reply an ACK is checked against it.
const ACK_WINDOW: Duration = Duration::from_secs(2);

/// The 32 hex characters that start every sl To-tag of this instance.
pub(crate) fn tag_base(first_listen: Option<SocketAddr>) -> [u8; 32] {
    tag_base_of(b"KAMAILIO-stateless", first_listen)
}

/// The same for tm's tags (`SER-TM/tags`).
pub(crate) fn tm_tag_base(first_listen: Option<SocketAddr>) -> [u8; 32] {
    tag_base_of(b"SER-TM/tags", first_listen)
}

fn tag_base_of(seed: &[u8], first_listen: Option<SocketAddr>) -> [u8; 32] {
    let mut md5 = Md5::new();
    md5.update(seed);
    if let Some(addr) = first_listen {
        md5.update(host_text(&addr).as_bytes());
        md5.update(addr.port().to_string().as_bytes());
    }
    let mut hex = [0u8; 32];
    for (i, byte) in md5.finalize().iter().enumerate() {
        hex[2 * i] = b"0123456789abcdef"[(byte >> 4) as usize];
        hex[2 * i + 1] = b"0123456789abcdef"[(byte & 0xf) as usize];
    }
    hex
}

/// CRC-16/CCITT (poly 0x1021, initial 0xffff), a table lookup per byte: it runs twice for
/// every local reply.
fn crc16(parts: &[&[u8]]) -> u16 {
    const TABLE: [u16; 256] = {
        let mut table = [0u16; 256];
        let mut i = 0;
        while i < 256 {
            let mut crc = (i as u16) << 8;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
                bit += 1;
            }
            table[i] = crc;
            i += 1;
        }
        table
    };
    let mut crc: u16 = 0xffff;
    for part in parts {
        for &byte in *part {
            crc = (crc << 8) ^ TABLE[usize::from((crc >> 8) as u8 ^ byte)];
        }
    }
    crc
}

/// Four reverse-hex characters, right-padded with '0'.
fn push_crc(out: &mut Vec<u8>, crc: u16) {
    let start = out.len();
    crate::core::branch::push_reverse_hex(out, u32::from(crc));
    while out.len() - start < 4 {
        out.push(b'0');
    }
}

/// The To-tag sl gives replies to `msg`.
pub(crate) fn to_tag(base: &[u8; 32], msg: &Message) -> Vec<u8> {
    to_tag_with(base, b'.', msg)
}

/// A To-tag: `base`, `separator`, then the CRCs of the request's Via and Call-ID (tm uses
/// its own base and `-`).
pub(crate) fn to_tag_with(base: &[u8; 32], separator: u8, msg: &Message) -> Vec<u8> {
    let mut tag = Vec::with_capacity(41);
    tag.extend_from_slice(base);
    tag.push(separator);
    let (host, port, branch) = match msg.top_via() {
        Ok(via) => (via.host(), via.port_text().unwrap_or_default(), via.branch().unwrap_or_default()),
        Err(_) => (&b""[..], &b""[..], &b""[..]),
    };
    push_crc(&mut tag, crc16(&[host, port, branch]));
    push_crc(&mut tag, crc16(&[port, host, msg.call_id().unwrap_or_default()]));
    tag
}

/// Whether the top Via asks for (or the script forced) `rport`.
fn wants_rport(msg: &Message, env: &MsgEnv) -> bool {
    env.force_rport || msg.top_via().is_ok_and(|v| v.rport() != Rport::Absent)
}

/// Where a local reply goes (§3.1): the source IP; the source port with rport, else the Via
/// port, else 5060; the incoming transport and connection.
pub(crate) fn reply_destination(msg: &Message, env: &MsgEnv) -> Destination {
    let port =
        if wants_rport(msg, env) { env.src.port() } else { msg.top_via().ok().and_then(|v| v.port()).unwrap_or(5060) };
    Destination { addr: SocketAddr::new(env.src.ip(), port), proto: env.proto, conn: env.conn }
}

/// Builds a local reply to `msg` (sip-behaviour.md §3.2) with `to_tag` added when the
/// code is 180 or more and the request's To has none. `None` for an ACK, an empty reason or
/// a code out of range.
pub(crate) fn build_local(
    msg: &Message,
    env: &MsgEnv,
    io: &Io,
    code: u16,
    reason: &[u8],
    extra: &[&[u8]],
    to_tag: &[u8],
) -> Option<bytes::Bytes> {
    if msg.method() == Method::Ack || reason.is_empty() || !(100..=699).contains(&code) {
        return None;
    }
    let via = msg.top_via().ok()?;
    let rport = wants_rport(msg, env);
    let src_ip = crate::transport::IpText::new(env.src.ip());
    let needs_received = rport || via.received().is_some() || !ip_text_is(via.host(), env.src.ip());
    let to_tag = (code >= 180 && msg.to().is_ok_and(|t| t.tag().is_none())).then_some(to_tag);
    let contact = if (300..400).contains(&code) { contact_header(env.new_uri.as_ref(), &env.branches) } else { None };
    let mut headers: smallvec::SmallVec<[&[u8]; 4]> = extra.iter().copied().collect();
    if let Some(contact) = &contact {
        headers.push(contact);
    }
    let config = &io.globals.config;
    let server = if config.server_signature {
        Some(match &config.server_header {
            Some(text) => text.as_bytes(),
            None => default_server_header().as_bytes(),
        })
    } else {
        None
    };
    let own_record_route = crate::modules::rr::line_for_reply(msg, env, io);
    let spec = ReplySpec {
        to_tag,
        via: TopViaParams {
            received: needs_received.then_some(src_ip.as_bytes()),
            rport: rport.then_some(env.src.port()),
        },
        record_route: (180..300).contains(&code),
        own_record_route: own_record_route.as_deref(),
        headers: &headers,
        server,
        ..ReplySpec::new(code, reason)
    };
    let mut out = BytesMut::with_capacity(msg.as_bytes().len().min(2048) + 256);
    build_reply(msg, &spec, &mut out).ok()?;
    Some(out.freeze())
}

/// The Server header when server_signature is on and server_header is not set.
fn default_server_header() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!("sipcfg ({} ({}/{}))", env!("CARGO_PKG_VERSION"), std::env::consts::ARCH, std::env::consts::OS)
    })
}

/// Builds and sends a local stateless reply. Returns 1, -1 on failure.
pub(crate) fn reply(msg: &Message, env: &mut MsgEnv, io: &Io, code: u16, reason: &[u8], extra: &[&[u8]]) -> i32 {
    let tag = to_tag(&io.globals.sl_tag_base, msg);
    let Some(out) = build_local(msg, env, io, code, reason, extra, &tag) else { return -1 };
    let dest = reply_destination(msg, env);
    match io.send(&dest, out) {
        Ok(()) => {
            io.last_stateless_reply.set(Some(Instant::now()));
            env.replied = true;
            1
        }
        Err(e) => {
            tracing::warn!("sending reply to {}: {e:?}", dest.addr);
            -1
        }
    }
}

/// `sl_send_reply(code, reason)` / `sl_reply`.
pub fn send_reply<K: MainRequest, S, W>(cx: &mut Ctx<'_, K, S, W>, code: i64, reason: &[u8]) -> i32 {
    let Ok(code) = u16::try_from(code) else { return -1 };
    reply(cx.msg, cx.env, cx.io, code, reason, &[])
}

/// `send_reply(code, reason)`: through tm when a transaction exists, else stateless.
pub fn send_reply_any<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, code: i64, reason: &[u8]) -> i32 {
    if cx.env.txn.is_some() {
        return crate::modules::tm::t_reply(cx, code, reason);
    }
    let Ok(code) = u16::try_from(code) else { return -1 };
    reply(cx.msg, cx.env, cx.io, code, reason, &[])
}

/// `sl_reply_error()`: a reply chosen from the last action's error. -3 when tm will send
/// its own error reply at the end of the script.
pub fn reply_error<K: MainRequest, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    if cx.env.txn.as_ref().is_some_and(|t| t.state().delayed_error.is_some()) {
        return -3;
    }
    if cx.env.replied {
        return -2;
    }
    let (code, reason) = match cx.env.last_error {
        Some(error) => error.reply(),
        None => (500, "I'm terribly sorry, server error occurred (1/SL)"),
    };
    reply(cx.msg, cx.env, cx.io, code, reason.as_bytes(), &[])
}

/// The ACK filter: an ACK for a stateless non-2xx reply of ours carries our To-tag, computed
/// from its own Via and Call-ID; it is absorbed before the script.
pub(crate) fn absorb_ack(msg: &Message, io: &Io) -> bool {
    let recent = io.last_stateless_reply.get().is_some_and(|at| at.elapsed() < ACK_WINDOW);
    if !recent {
        return false;
    }
    let Ok(to) = msg.to() else { return false };
    to.tag().is_some_and(|tag| tag == &to_tag(&io.globals.sl_tag_base, msg)[..])
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn crc16_ccitt_check_value() {
        // CRC-16/CCITT-FALSE of "123456789" is 0x29B1.
        assert_eq!(crc16(&[b"123456789"]), 0x29b1);
        assert_eq!(crc16(&[b"1234", b"56789"]), 0x29b1);
    }

    #[test]
    fn tags_are_stable_and_follow_the_via() {
        let base = tag_base(Some("127.0.0.1:5060".parse().expect("addr")));
        let request = |branch: &str| {
            let text = format!(
                "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5062;branch={branch}\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n"
            );
            Message::parse(Bytes::from(text)).expect("parses")
        };
        let tag = to_tag(&base, &request("z9hG4bK1"));
        assert_eq!(tag.len(), 41);
        assert_eq!(tag[32], b'.');
        assert_eq!(tag, to_tag(&base, &request("z9hG4bK1")), "a retransmission gets the same tag");
        assert_ne!(tag, to_tag(&base, &request("z9hG4bK2")));
    }
}
