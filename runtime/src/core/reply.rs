//! Relaying replies without tm (sip-behaviour.md §2): remove the top Via, send to the second
//! Via's `received`/`rport` or sent-by.

use std::net::IpAddr;

use crate::context::MsgEnv;
use crate::sip::{Message, Rport};
use crate::transport::{Destination, Io};

pub(crate) fn relay(msg: &mut Message, env: &MsgEnv, io: &Io) {
    let Some(Ok(next)) = msg.second_via() else {
        tracing::debug!("dropping a reply with a single Via from {}", env.src);
        return;
    };
    let host = next.received().unwrap_or(next.host());
    let port = match next.rport() {
        Rport::Value(v) => std::str::from_utf8(v).ok().and_then(|v| v.parse().ok()),
        _ => None,
    }
    .or(next.port())
    .unwrap_or(5060);
    let proto = next.transport();
    let Ok(host) = std::str::from_utf8(host) else { return };
    let addr = match io.globals().dns.resolve(host, Some(port), proto) {
        Ok(addr) => addr,
        Err(e) => {
            tracing::warn!("cannot relay reply: {e}");
            return;
        }
    };
    // RFC 4475 3.3.10: never relay to a broadcast or unspecified address.
    let forbidden = match addr.ip() {
        IpAddr::V4(ip) => ip.is_broadcast() || ip.is_unspecified(),
        IpAddr::V6(ip) => ip.is_unspecified(),
    };
    if forbidden || addr.port() == 0 {
        tracing::debug!("dropping a reply whose next Via is {addr}");
        return;
    }
    if msg.remove_top_via().is_err() {
        return;
    }
    let dest = Destination { addr, proto, conn: None };
    let sent = io.send_with(&dest, msg.as_bytes().len(), |out| {
        msg.write_to(out);
        true
    });
    if let Err(e) = sent {
        tracing::warn!("relaying reply to {addr}: {e:?}");
    }
}
