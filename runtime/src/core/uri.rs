//! R-URI rewriting: `rewriteuri`, `rewritehost`, `rewritehostport`, `rewriteport`,
//! `rewriteuser`, `prefix`, `strip`, `strip_tail`, `revert_uri`. Each builds a new R-URI
//! (Kamailio's `new_uri`); the message is edited only when it is sent.

use bytes::{BufMut, Bytes, BytesMut};

use super::ActionError;
use crate::context::{Ctx, RequestSide};
use crate::sip::Uri;

/// The pieces of a SIP URI, some replaced.
#[derive(Default)]
struct Parts<'a> {
    user: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    host: &'a [u8],
    port: Option<&'a [u8]>,
}

fn rebuild(uri: &Uri<'_>, parts: &Parts<'_>) -> Bytes {
    let mut out = BytesMut::with_capacity(uri.as_bytes().len() + 32);
    out.put_slice(uri.scheme_text());
    out.put_u8(b':');
    if let Some(user) = parts.user.filter(|u| !u.is_empty()) {
        out.put_slice(user);
        if let Some(password) = parts.password {
            out.put_u8(b':');
            out.put_slice(password);
        }
        out.put_u8(b'@');
    }
    out.put_slice(parts.host);
    if let Some(port) = parts.port.filter(|p| !p.is_empty()) {
        out.put_u8(b':');
        out.put_slice(port);
    }
    out.put_slice(uri.params_text());
    if let Some(headers) = uri.headers() {
        out.put_u8(b'?');
        out.put_slice(headers);
    }
    out.freeze()
}

/// Applies `change` to the current R-URI and stores the result as the new R-URI.
fn rewrite<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, change: impl FnOnce(&Uri<'_>) -> Option<Bytes>) -> i32 {
    let updated = cx.current_uri_parsed().ok().and_then(|uri| change(&uri));
    match updated {
        Some(new) => {
            cx.env.new_uri = Some(new);
            1
        }
        None => {
            tracing::warn!("bad R-URI `{}`, not rewritten", String::from_utf8_lossy(cx.current_uri()));
            cx.env.last_error = Some(ActionError::BadUri);
            ActionError::BadUri.code()
        }
    }
}

fn parts<'a>(uri: &Uri<'a>) -> Parts<'a> {
    Parts { user: uri.user(), password: uri.password(), host: uri.host(), port: uri.port_text() }
}

/// `rewriteuri("sip:...")` / `seturi`.
pub fn rewrite_uri<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, uri: &[u8]) -> i32 {
    cx.env.new_uri = Some(Bytes::copy_from_slice(uri));
    1
}

/// `rewritehost("h")`: host only; user, port and params stay.
pub fn rewrite_host<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, host: &[u8]) -> i32 {
    rewrite(cx, |uri| Some(rebuild(uri, &Parts { host, ..parts(uri) })))
}

/// `rewritehostport("h[:p]")`: host and port; without `:p` the port goes.
pub fn rewrite_hostport<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, hostport: &[u8]) -> i32 {
    let (host, port) = split_hostport(hostport);
    rewrite(cx, |uri| Some(rebuild(uri, &Parts { host, port, ..parts(uri) })))
}

/// `rewriteport("p")`; `""` removes the port.
pub fn rewrite_port<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, port: &[u8]) -> i32 {
    rewrite(cx, |uri| Some(rebuild(uri, &Parts { port: Some(port), ..parts(uri) })))
}

/// `rewriteuser("u")`: the password stays only if a user remains.
pub fn rewrite_user<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, user: &[u8]) -> i32 {
    rewrite(cx, |uri| {
        let password = if user.is_empty() { None } else { uri.password() };
        Some(rebuild(uri, &Parts { user: Some(user), password, ..parts(uri) }))
    })
}

/// `rewriteuserpass("u:p")`.
pub fn rewrite_userpass<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, userpass: &[u8]) -> i32 {
    let (user, password) = match userpass.iter().position(|&c| c == b':') {
        Some(p) => (&userpass[..p], Some(&userpass[p + 1..])),
        None => (userpass, None),
    };
    rewrite(cx, |uri| Some(rebuild(uri, &Parts { user: Some(user), password, ..parts(uri) })))
}

/// `prefix("s")`: puts `s` in front of the user part.
pub fn prefix<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, text: &[u8]) -> i32 {
    rewrite(cx, |uri| {
        let mut user = text.to_vec();
        user.extend_from_slice(uri.user().unwrap_or_default());
        Some(rebuild(uri, &Parts { user: Some(&user), ..parts(uri) }))
    })
}

/// `strip(n)`: removes the first `n` characters of the user part (all of it if `n` is
/// larger).
pub fn strip<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, n: i64) -> i32 {
    rewrite(cx, |uri| {
        let user = uri.user().unwrap_or_default();
        let cut = usize::try_from(n).unwrap_or(0).min(user.len());
        Some(rebuild(uri, &Parts { user: Some(&user[cut..]), ..parts(uri) }))
    })
}

/// `strip_tail(n)`: removes the last `n` characters of the user part.
pub fn strip_tail<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>, n: i64) -> i32 {
    rewrite(cx, |uri| {
        let user = uri.user().unwrap_or_default();
        let keep = user.len() - usize::try_from(n).unwrap_or(0).min(user.len());
        Some(rebuild(uri, &Parts { user: Some(&user[..keep]), ..parts(uri) }))
    })
}

/// `revert_uri()`: back to the R-URI as received.
pub fn revert_uri<K: RequestSide, S, W>(cx: &mut Ctx<'_, K, S, W>) -> i32 {
    cx.env.new_uri = None;
    1
}

/// `host:port` → (host, Some(port)); `[v6]:port` kept bracketed.
fn split_hostport(text: &[u8]) -> (&[u8], Option<&[u8]>) {
    let colon = if text.starts_with(b"[") {
        text.iter()
            .position(|&c| c == b']')
            .and_then(|close| text.get(close + 1).filter(|&&c| c == b':').map(|_| close + 1))
    } else {
        text.iter().rposition(|&c| c == b':')
    };
    match colon {
        Some(p) => (&text[..p], Some(&text[p + 1..])),
        None => (text, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebuilt(uri: &str, f: impl FnOnce(&Uri<'_>) -> Parts<'static>) -> String {
        let uri = Uri::parse(uri.as_bytes()).expect("uri");
        let parts = f(&uri);
        String::from_utf8(rebuild(&uri, &parts).to_vec()).expect("utf-8")
    }

    #[test]
    fn hostport_rewrite_keeps_user_and_params() {
        let out = rebuilt("sip:bob@old.example:5080;transport=tcp?X=1", |u| Parts {
            user: u.user().map(|_| &b"bob"[..]),
            password: None,
            host: b"1.2.3.4",
            port: None,
        });
        assert_eq!(out, "sip:bob@1.2.3.4;transport=tcp?X=1");
    }

    #[test]
    fn host_and_port_split() {
        assert_eq!(split_hostport(b"1.2.3.4:5070"), (&b"1.2.3.4"[..], Some(&b"5070"[..])));
        assert_eq!(split_hostport(b"1.2.3.4"), (&b"1.2.3.4"[..], None));
        assert_eq!(split_hostport(b"[::1]:5070"), (&b"[::1]"[..], Some(&b"5070"[..])));
        assert_eq!(split_hostport(b"[::1]"), (&b"[::1]"[..], None));
    }
}
