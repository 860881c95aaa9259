//! sanity: `sanity_check()` (modules.md §10). A failed check is answered statelessly with a
//! precise code; then the script stops (autodrop, return 0) or goes on with -1.

use crate::context::{Ctx, RouteKind};
use crate::sip::{HeaderName, Message, Scheme};

/// Module parameters, fixed at compile time.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub default_checks: u32,
    pub uri_checks: u32,
    pub autodrop: bool,
    pub noreply: bool,
    /// Option tags accepted in Proxy-Require (`proxy_require`).
    pub proxy_require: &'static [&'static str],
}

impl Settings {
    pub const DEFAULT: Settings =
        Settings { default_checks: 3047, uri_checks: 7, autodrop: true, noreply: false, proxy_require: &[] };
}

/// A failed check: the reply it deserves.
struct Failure {
    code: u16,
    reason: &'static str,
    extra: Option<String>,
}

fn fail(code: u16, reason: &'static str) -> Option<Failure> {
    Some(Failure { code, reason, extra: None })
}

fn run_checks(msg: &Message, checks: u32, uri_checks: u32, settings: &Settings) -> Option<Failure> {
    let request = msg.is_request();
    if request && checks & 1 != 0 && !msg.version().eq_ignore_ascii_case(b"SIP/2.0") {
        return fail(505, "Version Not Supported (R-URI)");
    }
    if request && checks & 2 != 0 {
        let ok = msg.ruri().is_ok_and(|u| {
            matches!(u.scheme(), Scheme::Sip | Scheme::Sips | Scheme::Tel)
                || u.scheme_text().eq_ignore_ascii_case(b"tels")
        });
        if !ok {
            return fail(416, "Unsupported URI Scheme in Request URI");
        }
    }
    if checks & 4 != 0 {
        let required = [HeaderName::To, HeaderName::From, HeaderName::CSeq, HeaderName::CallId, HeaderName::Via];
        if required.iter().any(|h| msg.header(*h).is_none()) {
            return fail(400, "Missing Required Header in Request");
        }
    }
    if request && checks & 32 != 0 {
        let same = msg.cseq().is_ok_and(|c| c.method_text() == msg.method_text());
        if !same {
            return fail(400, "CSeq method does not match request method");
        }
    }
    if checks & 64 != 0 && msg.header(HeaderName::CSeq).is_some() && msg.cseq().is_err() {
        return fail(400, "CSeq number is illegal");
    }
    if checks & 128 != 0
        && let Some(length) = msg.content_length()
        && length as usize != msg.body().len()
    {
        return fail(400, "Content-Length mis-match");
    }
    if checks & 256 != 0 && msg.header(HeaderName::Expires).is_some() && msg.expires().is_err() {
        return fail(400, "Expires value is illegal");
    }
    if request && checks & 512 != 0 {
        let unsupported: Vec<String> = msg
            .headers_named(HeaderName::ProxyRequire)
            .flat_map(|h| msg.get(h.value).split(|&c| c == b','))
            .map(|tag| String::from_utf8_lossy(tag.trim_ascii()).into_owned())
            .filter(|tag| !tag.is_empty() && !settings.proxy_require.iter().any(|ok| ok.eq_ignore_ascii_case(tag)))
            .collect();
        if !unsupported.is_empty() {
            return Some(Failure {
                code: 420,
                reason: "Bad Extension",
                extra: Some(format!("Unsupported: {}\r\n", unsupported.join(", "))),
            });
        }
    }
    if checks & 1024 != 0 {
        if request && uri_checks & 1 != 0 && msg.ruri().is_err() {
            return fail(400, "Bad Request URI");
        }
        if uri_checks & 2 != 0 && msg.from().and_then(|f| f.uri()).is_err() {
            return fail(400, "Bad From URI");
        }
        if uri_checks & 4 != 0 && msg.to().and_then(|t| t.uri()).is_err() {
            return fail(400, "Bad To URI");
        }
        if uri_checks & 8 != 0 {
            let bad = msg.contacts().any(|c| match c {
                Ok(c) => c.address().is_some_and(|a| a.uri().is_err()),
                Err(_) => true,
            });
            if bad {
                return fail(400, "Bad Contact URI");
            }
        }
    }
    None
}

/// `sanity_check([checks[, uri_checks]])`: 1 if every check passes; else a reply (not to
/// ACK, not for replies, not with `noreply`) and 0 (autodrop: the script ends) or -1.
pub fn check<K: RouteKind, S, W>(
    cx: &mut Ctx<'_, K, S, W>,
    checks: Option<i64>,
    uri_checks: Option<i64>,
    settings: &Settings,
) -> i32 {
    let checks = checks.map_or(settings.default_checks, |c| c as u32);
    let uri_checks = uri_checks.map_or(settings.uri_checks, |c| c as u32);
    let Some(failure) = run_checks(cx.msg, checks, uri_checks, settings) else { return 1 };
    tracing::info!("sanity check failed: {} {} from {}", failure.code, failure.reason, cx.env.src);
    if cx.msg.is_request() && !settings.noreply {
        let extra: Vec<&[u8]> = failure.extra.iter().map(|e| e.as_bytes()).collect();
        crate::modules::sl::reply(cx.msg, cx.env, cx.io, failure.code, failure.reason.as_bytes(), &extra);
    }
    if settings.autodrop { 0 } else { -1 }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn verdict(text: &'static [u8], checks: u32) -> Option<u16> {
        let msg = Message::parse(Bytes::from_static(text)).expect("parses");
        run_checks(&msg, checks, 7, &Settings::DEFAULT).map(|f| f.code)
    }

    const GOOD: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn checks() {
        assert_eq!(verdict(GOOD, 3047 | 1024), None);
        assert_eq!(verdict(b"OPTIONS http://a SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n", 2), Some(416));
        assert_eq!(verdict(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", 32), Some(400));
        assert_eq!(verdict(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nProxy-Require: foo\r\n\r\n", 512), Some(420));
        assert_eq!(
            verdict(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n", 4),
            Some(400)
        );
    }
}
