//! rr: Record-Route and loose routing (sip-behaviour.md §5, modules.md §4).
//!
//! `record_route()` only records that the request must carry our Record-Route: the header
//! depends on the socket the request leaves from (double RR when it differs from the one it
//! came in on), which is known when it is sent, as in Kamailio where the RR lump is resolved
//! at send time. `loose_route()` edits the Route set and sets `$du`/the R-URI.

use std::borrow::Cow;

use bytes::Bytes;
use regex::bytes::Regex;
use smallvec::SmallVec;

use crate::context::{Ctx, MainRequest, MsgEnv, RequestSide, RouteKind};
use crate::core::keywords::is_myself;
use crate::sip::{Message, Scheme, Transport};
use crate::transport::{Destination, Io, host_text};

/// rr's module parameters.
#[derive(Clone, Debug)]
pub struct Settings {
    pub append_fromtag: bool,
    /// 0 never, 1 when the outgoing socket differs, 2 always.
    pub enable_double_rr: u8,
    pub enable_full_lr: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { append_fromtag: true, enable_double_rr: 1, enable_full_lr: false }
    }
}

/// A Record-Route the script asked for, written when the request is sent.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    /// URI parameters after ours (`record_route(";p=v")`, `add_rr_param`).
    pub params: Vec<u8>,
    /// `record_route_preset("host[:port][;params]")`: used instead of the socket address.
    pub preset: Option<Vec<u8>>,
}

/// What `loose_route()` learned about our own Route entry.
#[derive(Clone, Debug, Default)]
pub struct Routed {
    /// The URI parameters of our Route entry (`;lr;ftag=...`).
    pub params: Bytes,
}

/// `record_route([";params"])`.
pub fn record_route<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, params: Option<&[u8]>) -> i32 {
    let pending = cx.env.record_route.get_or_insert_with(Pending::default);
    if let Some(params) = params {
        pending.params.extend_from_slice(params);
    }
    1
}

/// `record_route_preset("host[:port][;params]")`.
pub fn record_route_preset<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, address: &[u8]) -> i32 {
    if address.is_empty() {
        return -1;
    }
    let pending = cx.env.record_route.get_or_insert_with(Pending::default);
    pending.preset = Some(address.to_vec());
    1
}

/// `add_rr_param(";p=v")`: a parameter for our Record-Route.
pub fn add_rr_param<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, param: &[u8]) -> i32 {
    cx.env.rr_params.extend_from_slice(param);
    1
}

/// The address text (`host[:port][;transport=x]`) of a socket, on the stack.
fn socket_address(host: &str, port: u16, proto: Transport) -> SmallVec<[u8; 80]> {
    let mut out = SmallVec::from_slice(host.as_bytes());
    if port != 5060 {
        out.push(b':');
        out.extend_from_slice(itoa::Buffer::new().format(port).as_bytes());
    }
    if proto != Transport::Udp {
        out.extend_from_slice(b";transport=");
        out.extend_from_slice(proto.as_str().unwrap_or("udp").to_ascii_lowercase().as_bytes());
    }
    out
}

/// The host and port a receiving socket advertises.
fn inbound<'io>(io: &'io Io, env: &MsgEnv) -> (Cow<'io, str>, u16) {
    io.advertised(env.local, env.proto).unwrap_or_else(|| (Cow::Owned(host_text(&env.local)), env.local.port()))
}

/// The tag that goes into `ftag`: the From tag, or the To tag for a request going upstream
/// in a dialog.
fn flow_tag<'m>(msg: &'m Message, env: &MsgEnv) -> &'m [u8] {
    let upstream = env.routed.as_ref().is_some_and(|r| !from_tag_matches(msg, &r.params));
    let tag = if upstream { msg.to().ok().and_then(|t| t.tag()) } else { msg.from().ok().and_then(|f| f.tag()) };
    tag.unwrap_or_default()
}

fn one_line(msg: &Message, env: &MsgEnv, settings: &Settings, address: &[u8], r2: bool, out: &mut Vec<u8>) {
    let sips = msg.ruri().is_ok_and(|u| u.scheme() == Scheme::Sips);
    out.extend_from_slice(if sips { b"Record-Route: <sips:" } else { b"Record-Route: <sip:" });
    out.extend_from_slice(address);
    if r2 {
        out.extend_from_slice(b";r2=on");
    }
    out.extend_from_slice(if settings.enable_full_lr { b";lr=on" } else { b";lr" });
    if settings.append_fromtag {
        let tag = flow_tag(msg, env);
        if !tag.is_empty() {
            out.extend_from_slice(b";ftag=");
            out.extend_from_slice(tag);
        }
    }
    if let Some(pending) = &env.record_route {
        out.extend_from_slice(&pending.params);
    }
    out.extend_from_slice(&env.rr_params);
    out.extend_from_slice(b">\r\n");
}

/// The Record-Route line(s) of a request sent to `dest`, if the script asked for one: two
/// (outgoing first, both with `r2=on`) when the outgoing socket differs from the incoming.
pub(crate) fn lines_for(msg: &Message, env: &MsgEnv, io: &Io, dest: &Destination) -> Option<Vec<u8>> {
    let pending = env.record_route.as_ref()?;
    let settings = &io.globals().config.rr;
    let mut out = Vec::with_capacity(160);
    if let Some(preset) = &pending.preset {
        one_line(msg, env, settings, preset, false, &mut out);
        return Some(out);
    }
    let (in_host, in_port) = inbound(io, env);
    let incoming = socket_address(&in_host, in_port, env.proto);
    let outgoing = io.local_address(&dest.addr, dest.proto).map(|(host, port)| socket_address(&host, port, dest.proto));
    let double = match (settings.enable_double_rr, &outgoing) {
        (0, _) | (_, None) => false,
        (2, _) => true,
        (_, Some(out_address)) => *out_address != incoming,
    };
    match outgoing {
        Some(out_address) if double => {
            one_line(msg, env, settings, &out_address, true, &mut out);
            one_line(msg, env, settings, &incoming, true, &mut out);
        }
        _ => one_line(msg, env, settings, &incoming, false, &mut out),
    }
    Some(out)
}

/// Our Record-Route as local replies (180-299) carry it: the incoming socket only.
pub(crate) fn line_for_reply(msg: &Message, env: &MsgEnv, io: &Io) -> Option<Vec<u8>> {
    let pending = env.record_route.as_ref()?;
    let settings = &io.globals().config.rr;
    let mut out = Vec::with_capacity(120);
    let address = match &pending.preset {
        Some(preset) => SmallVec::from_slice(preset),
        None => {
            let (host, port) = inbound(io, env);
            socket_address(&host, port, env.proto)
        }
    };
    one_line(msg, env, settings, &address, false, &mut out);
    Some(out)
}

/// One entry of the Route set, as places in the request: building the set allocates
/// nothing but the set itself, and only when a request carries more than four Routes.
struct RouteEntry {
    uri: Bytes,
    value: crate::sip::Slice,
    place: crate::sip::ValuePlace,
    params: crate::sip::Slice,
    host: crate::sip::Slice,
    port: Option<u16>,
    secure: bool,
    lr: bool,
    r2: bool,
}

fn route_set(msg: &Message) -> Option<SmallVec<[RouteEntry; 4]>> {
    let mut entries = SmallVec::new();
    for route in msg.routes() {
        let contact = route.ok()?;
        let crate::sip::Contact::Address(address, place) = contact else { return None };
        let uri = address.uri().ok()?;
        // One pass over the parameters; the first `r2` decides, as a lookup by name would.
        let (mut lr, mut r2) = (false, None);
        for (name, value) in uri.params() {
            if name.eq_ignore_ascii_case(b"lr") {
                lr = true;
            } else if r2.is_none() && name.eq_ignore_ascii_case(b"r2") {
                r2 = Some(value.is_some_and(|v| v.eq_ignore_ascii_case(b"on")));
            }
        }
        entries.push(RouteEntry {
            uri: msg.bytes_of(address.uri_slice()),
            value: address.slice(),
            place,
            params: uri.params_slice(),
            host: uri.host_slice(),
            port: uri.port(),
            secure: uri.scheme() == Scheme::Sips,
            lr,
            r2: r2.unwrap_or(false),
        });
    }
    Some(entries)
}

fn is_ours(io: &Io, msg: &Message, entry: &RouteEntry) -> bool {
    let port = entry.port.or(if entry.secure { Some(5061) } else { None });
    is_myself(io, msg.get(entry.host), port)
}

/// `loose_route()`: 1 next hop found, -1 no Route (or none usable), -3 an initial request
/// whose only Route was ours.
pub fn loose_route<K: MainRequest, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let Some(entries) = route_set(cx.msg) else { return -1 };
    if entries.is_empty() {
        return -1;
    }
    let preloaded = cx.msg.to().map_or(true, |t| t.tag().is_none());
    let ruri_is_ours = cx.current_uri_parsed().is_ok_and(|u| is_myself(cx.io, u.host(), u.port()));
    let double_rr = cx.io.globals().config.rr.enable_double_rr != 0;

    if ruri_is_ours && !preloaded {
        // The previous hop was a strict router: the R-URI is our Record-Route entry.
        let mut next = 0;
        if entries[0].r2 && double_rr && is_ours(cx.io, cx.msg, &entries[0]) {
            cx.msg.remove_value(entries[0].value, entries[0].place);
            next = 1;
        }
        let Some(hop) = entries.get(next) else { return -1 };
        if !hop.lr {
            cx.env.new_uri = Some(hop.uri.clone());
            cx.msg.remove_value(hop.value, hop.place);
        } else {
            cx.env.dst_uri = Some(hop.uri.clone());
            let last = entries.last().unwrap_or(hop);
            cx.env.new_uri = Some(last.uri.clone());
            cx.msg.remove_value(last.value, last.place);
        }
        return 1;
    }

    let mut next = 0;
    if is_ours(cx.io, cx.msg, &entries[0]) {
        cx.env.routed = Some(Routed { params: cx.msg.bytes_of(entries[0].params) });
        cx.msg.remove_value(entries[0].value, entries[0].place);
        next = 1;
        if entries[0].r2 && double_rr && entries.get(1).is_some_and(|e| is_ours(cx.io, cx.msg, e)) {
            cx.msg.remove_value(entries[1].value, entries[1].place);
            next = 2;
        }
        if next >= entries.len() {
            return if preloaded { -3 } else { 1 };
        }
    }
    let hop = &entries[next];
    if !hop.lr {
        // Strict next hop: it becomes the R-URI, the R-URI goes last in the Route set.
        let mut line = b"Route: <".to_vec();
        line.extend_from_slice(cx.current_uri());
        line.extend_from_slice(b">\r\n");
        cx.msg.append_header(&line);
        cx.env.new_uri = Some(hop.uri.clone());
        cx.msg.remove_value(hop.value, hop.place);
    } else {
        cx.env.dst_uri = Some(hop.uri.clone());
    }
    1
}

fn from_tag_matches(msg: &Message, params: &[u8]) -> bool {
    let ftag = params
        .split(|&b| b == b';')
        .find_map(|p| p.strip_prefix(b"ftag=").or_else(|| p.strip_prefix(b"FTAG=")))
        .unwrap_or_default();
    let from_tag = msg.from().ok().and_then(|f| f.tag()).unwrap_or_default();
    ftag.is_empty() || ftag == from_tag
}

/// `is_direction("downstream"|"upstream")`, after loose_route found our Route: downstream
/// when its `ftag` is the From tag.
pub fn is_direction<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, direction: &[u8]) -> i32 {
    let Some(routed) = &cx.env.routed else { return -1 };
    let downstream = from_tag_matches(cx.msg, &routed.params);
    let wanted_downstream = direction.eq_ignore_ascii_case(b"downstream");
    if downstream == wanted_downstream { 1 } else { -1 }
}

/// `check_route_param("re")`: the parameters of our Route entry match.
pub fn check_route_param<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, re: &Regex) -> i32 {
    match &cx.env.routed {
        Some(routed) if re.is_match(&routed.params) => 1,
        _ => -1,
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::*;
    use crate::config::{Config, parse_listen};
    use crate::context::{MsgEnv, Request};

    /// Runs `loose_route` on `text` as received by a proxy at 127.0.42.1:5060.
    fn route(text: &str) -> (i32, MsgEnv, String) {
        let config = Config { listen: parse_listen("udp:127.0.42.1:5060", 5060).expect("listen"), ..Config::default() };
        let io = crate::server::test_io(config);
        let mut msg = Message::parse(Bytes::from(text.replace('\n', "\r\n"))).expect("parses");
        let src = "127.0.42.9:5062".parse().expect("address");
        let mut env = MsgEnv::new(src, "127.0.42.1:5060".parse().expect("address"), Transport::Udp);
        let mut worker = ();
        let code = {
            let mut cx: Ctx<'_, Request, (), ()> = Ctx::new(&mut msg, &mut env, &(), &mut worker, &io);
            loose_route(&mut cx)
        };
        let mut out = BytesMut::new();
        msg.write_to(&mut out);
        (code, env, String::from_utf8_lossy(&out).into_owned())
    }

    fn request(ruri: &str, to_tag: bool, routes: &[&str]) -> String {
        let mut text = format!("BYE {ruri} SIP/2.0\nVia: SIP/2.0/UDP 127.0.42.9:5062;branch=z9hG4bKx\n");
        for r in routes {
            text.push_str(&format!("Route: {r}\n"));
        }
        let tag = if to_tag { ";tag=t" } else { "" };
        text.push_str(&format!(
            "From: <sip:a@x>;tag=f\nTo: <sip:b@y>{tag}\nCall-ID: c\nCSeq: 2 BYE\nContent-Length: 0\n\n"
        ));
        text
    }

    #[test]
    fn no_route_is_minus_one() {
        assert_eq!(route(&request("sip:b@10.0.0.2", true, &[])).0, -1);
    }

    #[test]
    fn our_entry_is_removed_and_the_next_loose_hop_becomes_du() {
        let (code, env, out) =
            route(&request("sip:b@10.0.0.2", true, &["<sip:127.0.42.1;lr;ftag=f>", "<sip:10.0.0.7;lr>"]));
        assert_eq!(code, 1);
        assert_eq!(env.dst_uri.as_deref(), Some(&b"sip:10.0.0.7;lr"[..]));
        assert_eq!(env.new_uri, None);
        assert!(!out.contains("127.0.42.1;lr"), "{out}");
        assert!(out.contains("Route: <sip:10.0.0.7;lr>"), "{out}");
        assert_eq!(env.routed.expect("ours").params, Bytes::from_static(b";lr;ftag=f"));
    }

    #[test]
    fn only_our_entry_on_an_initial_request_is_minus_three() {
        let (code, _, out) = route(&request("sip:b@10.0.0.2", false, &["<sip:127.0.42.1;lr>"]));
        assert_eq!(code, -3);
        assert!(!out.contains("Route:"), "{out}");
        // In a dialog the same is a success: the R-URI is the next hop.
        assert_eq!(route(&request("sip:b@10.0.0.2", true, &["<sip:127.0.42.1;lr>"])).0, 1);
    }

    #[test]
    fn a_strict_next_hop_takes_the_request_uri() {
        let (code, env, out) = route(&request("sip:b@10.0.0.2", true, &["<sip:127.0.42.1;lr>, <sip:strict.example>"]));
        assert_eq!(code, 1);
        assert_eq!(env.new_uri.as_deref(), Some(&b"sip:strict.example"[..]));
        assert!(out.ends_with("Route: <sip:b@10.0.0.2>\r\n\r\n"), "{out}");
        assert!(!out.contains("<sip:strict.example>"), "{out}");
    }

    #[test]
    fn after_a_strict_router_the_last_route_becomes_the_request_uri() {
        let (code, env, out) = route(&request("sip:127.0.42.1;lr", true, &["<sip:10.0.0.7;lr>", "<sip:b@10.0.0.2>"]));
        assert_eq!(code, 1);
        assert_eq!(env.dst_uri.as_deref(), Some(&b"sip:10.0.0.7;lr"[..]));
        assert_eq!(env.new_uri.as_deref(), Some(&b"sip:b@10.0.0.2"[..]));
        assert!(out.contains("Route: <sip:10.0.0.7;lr>") && !out.contains("<sip:b@10.0.0.2>"), "{out}");
    }

    #[test]
    fn both_double_record_route_entries_are_removed() {
        let (code, env, out) = route(&request(
            "sip:b@10.0.0.2",
            true,
            &["<sip:127.0.42.1;r2=on;lr>", "<sip:127.0.42.1;transport=tcp;r2=on;lr>", "<sip:10.0.0.7;lr>"],
        ));
        assert_eq!(code, 1);
        assert_eq!(env.dst_uri.as_deref(), Some(&b"sip:10.0.0.7;lr"[..]));
        assert_eq!(out.matches("Route:").count(), 1, "{out}");
    }
}
