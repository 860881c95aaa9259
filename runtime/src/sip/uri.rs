//! URIs: `sip:`/`sips:` (user, password, host, port, params, headers), `tel:`, and any other
//! scheme as opaque text. %-escapes are kept as written; [`percent_decode`] decodes once.

use super::Slice;
use super::error::{HeaderError, HeaderErrorKind};
use super::scan::{is_lws, table, trim_lws_end};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
    /// Any other scheme (`http:`, `isbn:`...): only the scheme and the rest are known.
    Other,
}

/// What kind of host a SIP URI names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    Name,
    Ipv4,
    /// Written in brackets: `[2001:db8::1]`.
    Ipv6,
}

/// A parsed URI as ranges of its buffer (see [`Uri`] for the borrowed view).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UriParts {
    pub(crate) whole: Slice,
    pub(crate) scheme: Scheme,
    pub(crate) scheme_text: Slice,
    pub(crate) user: Option<Slice>,
    pub(crate) password: Option<Slice>,
    pub(crate) host: Slice,
    pub(crate) host_kind: Host,
    pub(crate) port: Option<u16>,
    pub(crate) port_text: Option<Slice>,
    /// `;a=b;c`, starting at the first `;` (empty if none).
    pub(crate) params: Slice,
    /// After `?` (without it).
    pub(crate) headers: Option<Slice>,
}

fn err<T>(at: usize) -> Result<T, HeaderError> {
    Err(HeaderError::new(HeaderErrorKind::BadUri, at))
}

/// What a URI may not hold anywhere after its scheme: whitespace and angle brackets (the
/// URI was taken out of a header value too generously).
static NOT_IN_URI: [bool; 256] = table(b" \t\r\n<>", &[]);

impl UriParts {
    /// Parses `buf[start..end]` as a URI. SIP URIs are read in a few forward passes over
    /// their bytes: they are parsed several times per request (R-URI, Route, Record-Route,
    /// next hop), so this is on every hot path.
    pub(crate) fn parse(buf: &[u8], start: usize, end: usize) -> Result<UriParts, HeaderError> {
        let (scheme, colon) = scheme(buf, start, end)?;
        let rest = colon + 1;
        if rest >= end {
            return err(rest);
        }
        // One pass: nothing forbidden anywhere, and where the first `@` is.
        let mut at = None;
        for (k, &c) in buf[rest..end].iter().enumerate() {
            if NOT_IN_URI[c as usize] {
                return err(rest);
            }
            if c == b'@' && at.is_none() {
                at = Some(rest + k);
            }
        }
        let mut parts = UriParts {
            whole: Slice::new(start, end),
            scheme,
            scheme_text: Slice::new(start, colon),
            user: None,
            password: None,
            host: Slice::new(rest, rest),
            host_kind: Host::Name,
            port: None,
            port_text: None,
            params: Slice::new(end, end),
            headers: None,
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => parse_sip(buf, rest, at, end, &mut parts)?,
            Scheme::Tel => {
                // tel:number;params
                let number_end = memchr::memchr(b';', &buf[rest..end]).map_or(end, |p| rest + p);
                if number_end == rest {
                    return err(rest);
                }
                parts.user = Some(Slice::new(rest, number_end));
                parts.params = Slice::new(number_end, end);
                check_params(buf, number_end, end)?;
            }
            Scheme::Other => {}
        }
        Ok(parts)
    }
}

/// The scheme and where the `:` after it is. `sip:` is by far the most common and is
/// recognised without a search.
fn scheme(buf: &[u8], start: usize, end: usize) -> Result<(Scheme, usize), HeaderError> {
    if end - start > 4 && buf[start..start + 4].eq_ignore_ascii_case(b"sip:") {
        return Ok((Scheme::Sip, start + 3));
    }
    let colon = match memchr::memchr(b':', &buf[start..end]) {
        Some(p) if p > 0 => start + p,
        _ => return err(start),
    };
    let text = &buf[start..colon];
    if !text[0].is_ascii_alphabetic()
        || !text.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return err(start);
    }
    let scheme = if text.eq_ignore_ascii_case(b"sip") {
        Scheme::Sip
    } else if text.eq_ignore_ascii_case(b"sips") {
        Scheme::Sips
    } else if text.eq_ignore_ascii_case(b"tel") {
        Scheme::Tel
    } else {
        Scheme::Other
    };
    Ok((scheme, colon))
}

/// `rest` is just after `sip:`; `at` is the first `@` after it, if any.
fn parse_sip(buf: &[u8], rest: usize, at: Option<usize>, end: usize, parts: &mut UriParts) -> Result<(), HeaderError> {
    // The user part may hold `;` and `?` (semiuri, intmeth), never an unescaped `@`.
    let mut host_start = rest;
    if let Some(at) = at {
        let userinfo = Slice::new(rest, at);
        if userinfo.is_empty() {
            return err(rest);
        }
        match userinfo.of(buf).iter().position(|&c| c == b':') {
            Some(p) => {
                parts.user = Some(Slice::new(rest, rest + p));
                parts.password = Some(Slice::new(rest + p + 1, at));
            }
            None => parts.user = Some(userinfo),
        }
        host_start = at + 1;
    }
    let mut i = host_start;
    if buf.get(i) == Some(&b'[') {
        let Some(close) = buf[i..end].iter().position(|&c| c == b']') else {
            return err(i);
        };
        let inner = &buf[i + 1..i + close];
        if inner.is_empty() || !inner.iter().all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return err(i);
        }
        parts.host_kind = Host::Ipv6;
        i += close + 1;
    } else {
        // An IPv4 address is digits in four dot-separated groups.
        let (mut dots, mut only_digits) = (0, true);
        while i < end {
            match buf[i] {
                b'0'..=b'9' => {}
                b'.' => dots += 1,
                b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' => only_digits = false,
                _ => break,
            }
            i += 1;
        }
        if i == host_start {
            return err(i);
        }
        if only_digits && dots == 3 {
            parts.host_kind = Host::Ipv4;
        }
    }
    parts.host = Slice::new(host_start, i);
    if i < end && buf[i] == b':' {
        let port_start = i + 1;
        let mut j = port_start;
        while j < end && buf[j].is_ascii_digit() {
            j += 1;
        }
        let digits = &buf[port_start..j];
        let port = (!digits.is_empty() && digits.len() <= 5)
            .then(|| digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
            .filter(|p| (1..=65535).contains(p));
        let Some(port) = port else {
            return Err(HeaderError::new(HeaderErrorKind::BadPort, port_start));
        };
        parts.port = Some(port as u16);
        parts.port_text = Some(Slice::new(port_start, j));
        i = j;
    }
    let headers_at = memchr::memchr(b'?', &buf[i..end]).map(|p| i + p);
    let params_end = headers_at.unwrap_or(end);
    if i < params_end {
        if buf[i] != b';' {
            return err(i);
        }
        check_params(buf, i, params_end)?;
        parts.params = Slice::new(i, params_end);
    } else {
        parts.params = Slice::new(params_end, params_end);
    }
    if let Some(q) = headers_at {
        parts.headers = Some(Slice::new(q + 1, end));
    }
    Ok(())
}

/// `;name[=value]` repeated, as [`Params`] reads them: every name must be non-empty. The
/// text holds no whitespace (the URI was refused otherwise), so a name is empty exactly when
/// a `;` outside quotes is last or is followed by `;` or `=`.
fn check_params(buf: &[u8], start: usize, end: usize) -> Result<(), HeaderError> {
    let mut k = start;
    while k < end {
        match buf[k] {
            b';' => {
                if k + 1 == end || matches!(buf[k + 1], b';' | b'=') {
                    return Err(HeaderError::new(HeaderErrorKind::BadParams, start));
                }
                k += 1;
            }
            b'"' => k = super::scan::quoted_end(buf, k, end).unwrap_or(end),
            _ => k += 1,
        }
    }
    Ok(())
}

/// A URI borrowed from its buffer.
#[derive(Clone, Copy, Debug)]
pub struct Uri<'a> {
    buf: &'a [u8],
    parts: UriParts,
}

impl<'a> Uri<'a> {
    pub(crate) fn new(buf: &'a [u8], parts: UriParts) -> Self {
        Uri { buf, parts }
    }

    /// Parses a URI held in its own buffer (a config string, a header value).
    pub fn parse(text: &'a [u8]) -> Result<Uri<'a>, HeaderError> {
        UriParts::parse(text, 0, text.len()).map(|p| Uri::new(text, p))
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.parts.whole.of(self.buf)
    }

    pub fn slice(&self) -> Slice {
        self.parts.whole
    }

    pub fn scheme(&self) -> Scheme {
        self.parts.scheme
    }

    pub fn scheme_text(&self) -> &'a [u8] {
        self.parts.scheme_text.of(self.buf)
    }

    /// The user part, %-escapes as written.
    pub fn user(&self) -> Option<&'a [u8]> {
        self.parts.user.map(|s| s.of(self.buf))
    }

    pub fn user_slice(&self) -> Option<Slice> {
        self.parts.user
    }

    pub fn password(&self) -> Option<&'a [u8]> {
        self.parts.password.map(|s| s.of(self.buf))
    }

    /// The host as written (IPv6 in brackets). Empty for non-SIP schemes.
    pub fn host(&self) -> &'a [u8] {
        self.parts.host.of(self.buf)
    }

    pub fn host_slice(&self) -> Slice {
        self.parts.host
    }

    pub fn host_kind(&self) -> Host {
        self.parts.host_kind
    }

    pub fn port(&self) -> Option<u16> {
        self.parts.port
    }

    /// The port digits as written.
    pub fn port_text(&self) -> Option<&'a [u8]> {
        self.parts.port_text.map(|s| s.of(self.buf))
    }

    /// `host[:port]` as written.
    pub fn host_port(&self) -> &'a [u8] {
        let end = self.parts.port_text.map_or(self.parts.host.end, |p| p.end);
        Slice { start: self.parts.host.start, end }.of(self.buf)
    }

    /// URI parameters (`;transport=tcp;lr`).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.buf, self.parts.params)
    }

    /// The raw `;...` parameter text.
    pub fn params_text(&self) -> &'a [u8] {
        self.parts.params.of(self.buf)
    }

    /// Where [`Uri::params_text`] lies in the buffer.
    pub fn params_slice(&self) -> Slice {
        self.parts.params
    }

    /// A parameter by name (case-insensitive): `Some(None)` for a flag like `lr`.
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.params().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Header part after `?`, as written.
    pub fn headers(&self) -> Option<&'a [u8]> {
        self.parts.headers.map(|s| s.of(self.buf))
    }

    /// The part after `scheme:` for schemes other than sip, sips and tel.
    pub fn opaque(&self) -> &'a [u8] {
        Slice { start: self.parts.scheme_text.end + 1, end: self.parts.whole.end }.of(self.buf)
    }
}

/// `;name[=value]` parameters, trimmed of LWS. A value keeps its quotes if it had any.
#[derive(Clone, Debug)]
pub struct Params<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Params<'a> {
    pub(crate) fn new(buf: &'a [u8], slice: Slice) -> Self {
        Params { buf, pos: slice.start as usize, end: slice.end as usize }
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = (&'a [u8], Option<&'a [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        let buf = self.buf;
        let mut i = self.pos;
        while i < self.end && is_lws(buf[i]) {
            i += 1;
        }
        if i >= self.end {
            return None;
        }
        if buf[i] == b';' {
            i += 1;
        }
        // Find the end of this parameter: the next `;` outside a quoted value.
        let start = i;
        let mut j = i;
        while j < self.end && buf[j] != b';' {
            if buf[j] == b'"' {
                j = super::scan::quoted_end(buf, j, self.end).unwrap_or(self.end);
            } else {
                j += 1;
            }
        }
        self.pos = j;
        let text = &buf[start..j];
        let (name, value) = match text.iter().position(|&c| c == b'=') {
            Some(eq) => (&text[..eq], Some(&text[eq + 1..])),
            None => (text, None),
        };
        let trim = |s: &'a [u8]| -> &'a [u8] {
            let begin = s.iter().position(|&c| !is_lws(c)).unwrap_or(s.len());
            &s[begin..trim_lws_end(s, begin, s.len())]
        };
        Some((trim(name), value.map(trim)))
    }
}

/// Decodes %-escapes once (`%2541` gives `%41`, never `A`). Invalid escapes are kept as
/// written. NUL bytes (`%00`) are kept.
pub fn percent_decode(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !text.contains(&b'%') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%'
            && i + 2 < text.len()
            && let (Some(h), Some(l)) = (hex(text[i + 1]), hex(text[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(text[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri<'_> {
        Uri::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn sip_uri_parts() {
        let u = uri("sip:alice:secret@example.com:5070;transport=tcp;lr?Subject=hi");
        assert_eq!(u.scheme(), Scheme::Sip);
        assert_eq!(u.user(), Some(&b"alice"[..]));
        assert_eq!(u.password(), Some(&b"secret"[..]));
        assert_eq!(u.host(), b"example.com");
        assert_eq!(u.port(), Some(5070));
        assert_eq!(u.param(b"transport"), Some(Some(&b"tcp"[..])));
        assert_eq!(u.param(b"LR"), Some(None));
        assert_eq!(u.headers(), Some(&b"Subject=hi"[..]));
        assert_eq!(u.host_port(), b"example.com:5070");
    }

    #[test]
    fn hosts() {
        assert_eq!(uri("sip:10.0.0.1").host_kind(), Host::Ipv4);
        let v6 = uri("sips:[2001:db8::1]:5061");
        assert_eq!((v6.host(), v6.host_kind(), v6.port()), (&b"[2001:db8::1]"[..], Host::Ipv6, Some(5061)));
        assert_eq!(uri("sip:host.example.com").host_kind(), Host::Name);
    }

    #[test]
    fn user_parts_with_separators() {
        let u = uri("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user(), Some(&b"user;par=u%40example.net"[..]));
        assert_eq!(u.host(), b"example.com");
    }

    #[test]
    fn other_schemes_are_opaque() {
        let u = uri("isbn:2983792873");
        assert_eq!((u.scheme(), u.opaque()), (Scheme::Other, &b"2983792873"[..]));
        let t = uri("tel:+1-201-555-0123;phone-context=example.com");
        assert_eq!(t.user(), Some(&b"+1-201-555-0123"[..]));
        assert_eq!(t.param(b"phone-context"), Some(Some(&b"example.com"[..])));
    }

    #[test]
    fn malformed() {
        for text in [
            "",
            "sip:",
            "nocolon",
            "sip:@host",
            "sip:host:0",
            "sip:host:99999",
            "sip:ho st",
            "<sip:a@b>",
            "sip:h;;x",
            "sip:h;",
            "sip:h;=v",
            "sip:h;a;",
        ] {
            assert!(Uri::parse(text.as_bytes()).is_err(), "{text}");
        }
    }

    #[test]
    fn quoted_param_values_may_hold_separators() {
        let u = uri("sip:h;a=\"x;=y\";b?c=;");
        assert_eq!(u.param(b"a"), Some(Some(&b"\"x;=y\""[..])));
        assert_eq!(u.param(b"b"), Some(None));
        assert_eq!(u.headers(), Some(&b"c=;"[..]));
    }

    proptest::proptest! {
        /// Whatever the text, it parses or is refused without panicking, and a SIP URI's
        /// parts put back together give the text again.
        #[test]
        fn any_text_parses_or_is_refused(
            scheme in proptest::sample::select(vec!["sip:", "SIPS:", "tel:", "x-y:", ""]),
            // Mostly bytes a URI may hold, so that many texts parse; a few it may not.
            rest in proptest::collection::vec(
                proptest::sample::select(b"aaa111...:::@@;;==?\"[]%-_ <".to_vec()),
                0..24,
            ),
        ) {
            let mut text = scheme.as_bytes().to_vec();
            text.extend_from_slice(&rest);
            let Ok(u) = Uri::parse(&text) else { return Ok(()) };
            let _ = (u.params().count(), u.opaque(), u.as_bytes());
            if matches!(u.scheme(), Scheme::Sip | Scheme::Sips) {
                let mut again = [u.scheme_text(), b":"].concat();
                if let Some(user) = u.user() {
                    again.extend_from_slice(user);
                    if let Some(password) = u.password() {
                        again.extend_from_slice(&[b":", password].concat());
                    }
                    again.push(b'@');
                }
                again.extend_from_slice(&[u.host_port(), u.params_text()].concat());
                if let Some(headers) = u.headers() {
                    again.extend_from_slice(&[b"?", headers].concat());
                }
                proptest::prop_assert_eq!(again, text);
            }
        }
    }

    #[test]
    fn decode_once() {
        assert_eq!(&*percent_decode(b"value%2541"), b"value%41");
        assert_eq!(&*percent_decode(b"null-%00-null"), b"null-\0-null");
        assert_eq!(&*percent_decode(b"bad%zz%4"), b"bad%zz%4");
        assert_eq!(&*percent_decode(b"%75se%72"), b"user");
    }
}
