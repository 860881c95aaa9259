//! name-addr / addr-spec values: From, To, Contact, Route, Record-Route.
//!
//! `"Display" <uri;uri-params>;header-params` or `uri;header-params`. Without angle brackets
//! every `;param` belongs to the header, not the URI (RFC 3261 §20), and the URI may not
//! hold `?` or `,`.

use super::Slice;
use super::error::{HeaderError, HeaderErrorKind};
use super::message::Header;
use super::name::HeaderName;
use super::scan::{find_top_level, is_lws, is_token, quoted_end, skip_lws, trim_lws_end};
use super::uri::{Params, Uri, UriParts};

fn bad<T>(at: usize) -> Result<T, HeaderError> {
    Err(HeaderError::new(HeaderErrorKind::BadNameAddr, at))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NameAddrParts {
    pub(crate) value: Slice,
    /// As written, quotes included.
    pub(crate) display: Option<Slice>,
    pub(crate) uri: Slice,
    pub(crate) bracketed: bool,
    /// Header parameters, from the first `;` after the URI.
    pub(crate) params: Slice,
    pub(crate) tag: Option<Slice>,
}

impl NameAddrParts {
    pub(crate) fn parse(buf: &[u8], start: usize, end: usize) -> Result<NameAddrParts, HeaderError> {
        let start = skip_lws(buf, start, end);
        let end = trim_lws_end(buf, start, end);
        if start >= end {
            return bad(start);
        }
        let mut display = None;
        let (uri, bracketed, after) = if buf[start] == b'"' {
            let Some(close) = quoted_end(buf, start, end) else {
                return bad(start);
            };
            display = Some(Slice::new(start, close));
            let open = skip_lws(buf, close, end);
            if buf.get(open) != Some(&b'<') || open >= end {
                return bad(open);
            }
            bracketed_uri(buf, open, end)?
        } else {
            match buf[start..end].iter().position(|&c| c == b'<') {
                Some(p) => {
                    let open = start + p;
                    let name_end = trim_lws_end(buf, start, open);
                    if name_end > start {
                        // An unquoted display name is tokens separated by LWS.
                        if !buf[start..name_end].iter().all(|&c| is_token(c) || is_lws(c)) {
                            return bad(start);
                        }
                        display = Some(Slice::new(start, name_end));
                    }
                    bracketed_uri(buf, open, end)?
                }
                None => {
                    // addr-spec: the URI ends at the first `;`.
                    let uri_end = buf[start..end].iter().position(|&c| c == b';').map_or(end, |p| start + p);
                    let uri_end = trim_lws_end(buf, start, uri_end);
                    if buf[start..uri_end].iter().any(|&c| matches!(c, b'?' | b',' | b'"' | b'>')) {
                        return bad(start);
                    }
                    (Slice::new(start, uri_end), false, uri_end)
                }
            }
        };
        if uri.is_empty() {
            return bad(uri.start as usize);
        }
        // Header params after the URI.
        let params_start = skip_lws(buf, after, end);
        if params_start < end && buf[params_start] != b';' {
            return bad(params_start);
        }
        let params = Slice::new(params_start, end);
        let mut tag = None;
        for (name, value) in Params::new(buf, params) {
            if name.is_empty() || !name.iter().all(|&c| is_token(c)) {
                return Err(HeaderError::new(HeaderErrorKind::BadParams, params_start));
            }
            if name.eq_ignore_ascii_case(b"tag") {
                let Some(value) = value.filter(|v| !v.is_empty()) else {
                    return Err(HeaderError::new(HeaderErrorKind::BadParams, params_start));
                };
                let offset = value.as_ptr() as usize - buf.as_ptr() as usize;
                tag = Some(Slice::new(offset, offset + value.len()));
            }
        }
        Ok(NameAddrParts { value: Slice::new(start, end), display, uri, bracketed, params, tag })
    }
}

/// `<uri>` starting at `open`: the URI range, and where parsing goes on.
fn bracketed_uri(buf: &[u8], open: usize, end: usize) -> Result<(Slice, bool, usize), HeaderError> {
    let Some(close) = buf[open..end].iter().position(|&c| c == b'>') else {
        return bad(open);
    };
    let close = open + close;
    Ok((Slice::new(open + 1, close), true, close + 1))
}

/// A name-addr borrowed from its message.
#[derive(Clone, Copy, Debug)]
pub struct NameAddr<'a> {
    buf: &'a [u8],
    parts: NameAddrParts,
}

impl<'a> NameAddr<'a> {
    pub(crate) fn new(buf: &'a [u8], parts: NameAddrParts) -> Self {
        NameAddr { buf, parts }
    }

    /// Parses one value held in its own buffer.
    pub fn parse(text: &'a [u8]) -> Result<NameAddr<'a>, HeaderError> {
        NameAddrParts::parse(text, 0, text.len()).map(|p| NameAddr::new(text, p))
    }

    /// The whole value.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.parts.value.of(self.buf)
    }

    pub fn slice(&self) -> Slice {
        self.parts.value
    }

    /// The display name as written (quotes included).
    pub fn display_name(&self) -> Option<&'a [u8]> {
        self.parts.display.map(|s| s.of(self.buf))
    }

    /// The URI text (inside the brackets, if any).
    pub fn uri_bytes(&self) -> &'a [u8] {
        self.parts.uri.of(self.buf)
    }

    pub fn uri_slice(&self) -> Slice {
        self.parts.uri
    }

    /// The URI, parsed (not cached: parse once and keep it if needed often).
    pub fn uri(&self) -> Result<Uri<'a>, HeaderError> {
        UriParts::parse(self.buf, self.parts.uri.start as usize, self.parts.uri.end as usize)
            .map(|p| Uri::new(self.buf, p))
    }

    /// Whether the URI was written in `<>`.
    pub fn is_bracketed(&self) -> bool {
        self.parts.bracketed
    }

    /// Header parameters (`;tag=...;expires=...`).
    pub fn params(&self) -> Params<'a> {
        Params::new(self.buf, self.parts.params)
    }

    pub fn params_slice(&self) -> Slice {
        self.parts.params
    }

    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.params().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    pub fn tag(&self) -> Option<&'a [u8]> {
        self.parts.tag.map(|s| s.of(self.buf))
    }

    pub fn tag_slice(&self) -> Option<Slice> {
        self.parts.tag
    }
}

/// One Contact value: `*` or a name-addr. Route and Record-Route values are name-addrs.
#[derive(Clone, Copy, Debug)]
pub enum Contact<'a> {
    Star(Slice),
    Address(NameAddr<'a>, ValuePlace),
}

/// Where a comma-separated value sits, for removing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValuePlace {
    /// Index of the header line.
    pub header: usize,
    pub first_in_line: bool,
    pub more_in_line: bool,
}

impl<'a> Contact<'a> {
    pub fn address(&self) -> Option<&NameAddr<'a>> {
        match self {
            Contact::Star(_) => None,
            Contact::Address(a, _) => Some(a),
        }
    }
}

/// The values of every header line with one name, split at top-level commas.
#[derive(Clone, Debug)]
pub struct ContactIter<'a> {
    buf: &'a [u8],
    headers: &'a [Header],
    name: HeaderName,
    index: usize,
    pos: Option<usize>,
}

impl<'a> ContactIter<'a> {
    pub(crate) fn new(buf: &'a [u8], headers: &'a [Header], name: HeaderName) -> Self {
        ContactIter { buf, headers, name, index: 0, pos: None }
    }
}

impl<'a> Iterator for ContactIter<'a> {
    type Item = Result<Contact<'a>, HeaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let header = self.headers.get(self.index)?;
            if header.name != self.name {
                self.index += 1;
                self.pos = None;
                continue;
            }
            let end = header.value.end as usize;
            let first = self.pos.is_none();
            let start = self.pos.unwrap_or(header.value.start as usize);
            if start > end || (!first && start == end) {
                self.index += 1;
                self.pos = None;
                continue;
            }
            let Some(comma) = find_top_level(self.buf, start, end, b',') else {
                self.index += 1;
                self.pos = None;
                return Some(Err(HeaderError::new(HeaderErrorKind::BadNameAddr, start)));
            };
            let more = comma < end;
            self.pos = Some(if more { comma + 1 } else { end + 1 });
            let value_start = skip_lws(self.buf, start, comma);
            let value_end = trim_lws_end(self.buf, value_start, comma);
            let place = ValuePlace {
                header: self.index,
                first_in_line: first,
                more_in_line: more && self.buf[comma + 1..end].iter().any(|&c| !is_lws(c)),
            };
            if self.name == HeaderName::Contact && &self.buf[value_start..value_end] == b"*" {
                return Some(Ok(Contact::Star(Slice::new(value_start, value_end))));
            }
            return Some(
                NameAddrParts::parse(self.buf, value_start, value_end)
                    .map(|p| Contact::Address(NameAddr::new(self.buf, p), place)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn na(text: &str) -> NameAddr<'_> {
        NameAddr::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn forms() {
        let a = na("\"Alice A.\" <sip:alice@example.com;transport=tcp>;tag=1928301774");
        assert_eq!(a.display_name(), Some(&b"\"Alice A.\""[..]));
        assert_eq!(a.uri_bytes(), b"sip:alice@example.com;transport=tcp");
        assert_eq!(a.tag(), Some(&b"1928301774"[..]));
        let b = na("sip:bob@example.com;tag=x;unknownparam");
        assert_eq!((b.uri_bytes(), b.tag(), b.is_bracketed()), (&b"sip:bob@example.com"[..], Some(&b"x"[..]), false));
        assert_eq!(b.param(b"unknownparam"), Some(None));
        let c = na("caller<sip:caller@example.com>;tag=323");
        assert_eq!(c.display_name(), Some(&b"caller"[..]));
        let d = na("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>");
        assert_eq!(d.display_name(), Some(&b"token1~` token2'+_ token3*%!.-"[..]));
    }

    #[test]
    fn whitespace_around_params() {
        let a = na("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8");
        assert_eq!(a.tag(), Some(&b"98asjd8"[..]));
    }

    #[test]
    fn malformed() {
        for text in [
            "\"Mr. J. User <sip:j.user@example.com>",
            "Bell, Alexander <sip:a.g.bell@example.com>",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:joe@example.org>;;;;",
            "<sip:open@example.org",
            "",
        ] {
            assert!(NameAddr::parse(text.as_bytes()).is_err(), "{text}");
        }
        // Parses as a name-addr, but the URI inside has spaces.
        assert!(na("\"Watson, Thomas\" < sip:t.watson@example.org >").uri().is_err());
    }
}
