//! siputils: message tests (modules.md §8).

use bytes::Bytes;

use crate::context::{Ctx, MainRequest, RequestSide, RouteKind};
use crate::core::keywords::uri_is_myself;
use crate::sip::{Method, Uri};

/// `has_totag()`: the To header has a non-empty tag.
pub fn has_totag<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> i32 {
    if cx.msg.to().is_ok_and(|t| t.tag().is_some_and(|tag| !tag.is_empty())) { 1 } else { -1 }
}

pub fn is_request<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> i32 {
    if cx.msg.is_request() { 1 } else { -1 }
}

pub fn is_reply<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> i32 {
    if cx.msg.is_request() { -1 } else { 1 }
}

/// `is_uri_host_local()`: the R-URI names this proxy.
pub fn is_uri_host_local<K: RequestSide, S, W>(cx: &Ctx<'_, K, S, W>) -> i32 {
    if uri_is_myself(cx.io, cx.current_uri()) { 1 } else { -1 }
}

/// `is_first_hop()`: a request with a single Via (a reply with two).
pub fn is_first_hop<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> i32 {
    let vias = cx.msg.vias().count();
    let first = if cx.msg.is_request() { vias == 1 } else { vias == 2 };
    if first { 1 } else { -1 }
}

/// `uri_param("name")` / `uri_param("name", "value")` on the current R-URI.
pub fn uri_param<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, name: &[u8], value: Option<&[u8]>) -> i32 {
    let Ok(uri) = cx.current_uri_parsed() else { return -1 };
    match (uri.param(name), value) {
        (Some(_), None) => 1,
        (Some(Some(found)), Some(wanted)) if found == wanted => 1,
        _ => -1,
    }
}

/// `add_uri_param(";name=value")`... given without the `;`, as Kamailio takes it.
pub fn add_uri_param<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, param: &[u8]) -> i32 {
    let current = cx.current_uri();
    let Ok(uri) = Uri::parse(current) else { return -1 };
    let insert_at = uri.headers().map_or(current.len(), |h| current.len() - h.len() - 1);
    let mut new = current[..insert_at].to_vec();
    new.push(b';');
    new.extend_from_slice(param);
    new.extend_from_slice(&current[insert_at..]);
    cx.env.new_uri = Some(Bytes::from(new));
    1
}

/// `is_e164("+123...")`: `+` then 2..15 digits.
pub fn is_e164(text: &[u8]) -> i32 {
    let ok = text.first() == Some(&b'+') && (3..=16).contains(&text.len()) && text[1..].iter().all(u8::is_ascii_digit);
    if ok { 1 } else { -1 }
}

/// `is_user("u")`: the R-URI user.
pub fn is_user<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, user: &[u8]) -> i32 {
    let same = cx.current_uri_parsed().ok().and_then(|u| u.user().map(|v| v == user)).unwrap_or(false);
    if same { 1 } else { -1 }
}

/// `options_reply()`: a stateless 200 to an OPTIONS for us without a user part.
pub fn options_reply<K: MainRequest, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    let no_user = cx.current_uri_parsed().is_ok_and(|u| u.user().is_none());
    if cx.msg.method() != Method::Options || !no_user {
        return -1;
    }
    let headers: [&[u8]; 4] =
        [b"Accept: */*\r\n", b"Accept-Encoding: \r\n", b"Accept-Language: en\r\n", b"Supported: \r\n"];
    crate::modules::sl::reply(cx.msg, cx.env, cx.io, 200, b"OK", &headers)
}
