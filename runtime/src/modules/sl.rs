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

/// CRC-16/CCITT-FALSE (poly 0x1021, initial 0xffff), as Kamailio's crcitt. It runs twice
/// for every local reply; slicing by 16 bytes breaks the byte-by-byte dependency chain.
static CRC16: crc::Crc<u16, crc::Table<16>> = crc::Crc::<u16, crc::Table<16>>::new(&crc::CRC_16_IBM_3740);

fn crc16(parts: &[&[u8]]) -> u16 {
    // The parts are short (a host, a port, a branch): joined, they go through the 16-byte
    // slices instead of byte by byte.
    crate::core::key_parts::hash_joined::<256, _>(
        parts,
        |joined| CRC16.checksum(joined),
        |parts| {
            let mut digest = CRC16.digest();
            parts.iter().for_each(|part| digest.update(part));
            digest.finalize()
        },
    )
}

/// Length of a To-tag: the 32-character base, a separator, two CRCs of four characters.
const TO_TAG_LEN: usize = 41;

/// A To-tag, kept on the stack: one is computed for every local reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ToTag([u8; TO_TAG_LEN]);

impl std::ops::Deref for ToTag {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// Four hex characters, lowest nibble first (Kamailio's reverse hex, padded with '0').
fn write_crc(out: &mut [u8], crc: u16) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = DIGITS[usize::from((crc >> (4 * i)) & 0xf)];
    }
}

/// The To-tag sl gives replies to `msg`.
pub(crate) fn to_tag(base: &[u8; 32], msg: &Message) -> ToTag {
    to_tag_with(base, b'.', msg)
}

/// A To-tag: `base`, `separator`, then the CRCs of the request's Via and Call-ID (tm uses
/// its own base and `-`).
pub(crate) fn to_tag_with(base: &[u8; 32], separator: u8, msg: &Message) -> ToTag {
    let mut tag = [0u8; TO_TAG_LEN];
    tag[..32].copy_from_slice(base);
    tag[32] = separator;
    let (host, port, branch) = match msg.top_via() {
        Ok(via) => (via.host(), via.port_text().unwrap_or_default(), via.branch().unwrap_or_default()),
        Err(_) => (&b""[..], &b""[..], &b""[..]),
    };
    write_crc(&mut tag[33..37], crc16(&[host, port, branch]));
    write_crc(&mut tag[37..41], crc16(&[port, host, msg.call_id().unwrap_or_default()]));
    ToTag(tag)
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
    let mut out = BytesMut::with_capacity(reply_capacity(msg));
    write_local(msg, env, io, code, reason, extra, to_tag, &mut out).then(|| out.freeze())
}

/// Room for a local reply to `msg`.
fn reply_capacity(msg: &Message) -> usize {
    msg.as_bytes().len().min(2048) + 256
}

/// Appends the local reply of [`build_local`] to `out`; false (with `out` partly written)
/// when there is none.
#[allow(clippy::too_many_arguments)]
fn write_local(
    msg: &Message,
    env: &MsgEnv,
    io: &Io,
    code: u16,
    reason: &[u8],
    extra: &[&[u8]],
    to_tag: &[u8],
    out: &mut BytesMut,
) -> bool {
    if msg.method() == Method::Ack || reason.is_empty() || !(100..=699).contains(&code) {
        return false;
    }
    let Ok(via) = msg.top_via() else { return false };
    let rport = wants_rport(msg, env);
    let needs_received = rport || via.received().is_some() || !ip_text_is(via.host(), env.src.ip());
    let src_ip = needs_received.then(|| crate::transport::IpText::new(env.src.ip()));
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
            received: src_ip.as_ref().map(crate::transport::IpText::as_bytes),
            rport: rport.then_some(env.src.port()),
        },
        record_route: (180..300).contains(&code),
        own_record_route: own_record_route.as_deref(),
        headers: &headers,
        server,
        ..ReplySpec::new(code, reason)
    };
    build_reply(msg, &spec, out).is_ok()
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
    let dest = reply_destination(msg, env);
    let sent =
        io.send_with(&dest, reply_capacity(msg), |out| write_local(msg, env, io, code, reason, extra, &tag, out));
    match sent {
        Ok(false) => -1,
        Ok(true) => {
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
        let long = [b'x'; 300];
        assert_eq!(crc16(&[&long[..150], &long[150..]]), CRC16.checksum(&long), "longer than the stack buffer");
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

    #[test]
    fn crc_text_is_reverse_hex_padded_to_four() {
        for crc in [0u16, 1, 0x12, 0x1a2, 0xabcd, 0xf000] {
            let mut expected = Vec::new();
            crate::core::branch::push_reverse_hex(&mut expected, u32::from(crc));
            expected.resize(4, b'0');
            let mut written = [0u8; 4];
            write_crc(&mut written, crc);
            assert_eq!(written[..], expected[..], "{crc:#x}");
        }
    }
}
