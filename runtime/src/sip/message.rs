//! The message: start line, header table and body over one buffer.

use std::cell::OnceCell;

use bytes::{Bytes, BytesMut};
use memchr::memchr;
use smallvec::SmallVec;

use super::Slice;
use super::edit::Edits;
use super::error::{HeaderError, HeaderErrorKind, Limits, ParseError, ParseErrorKind};
use super::name::HeaderName;
use super::name_addr::{ContactIter, NameAddr, NameAddrParts};
use super::scan::{is_token, parse_u64, skip_lws, token_end, trim_lws_end};
use super::uri::{Uri, UriParts};
use super::values::{CSeq, CSeqParts};
use super::via::{Via, ViaIter, ViaParts};

/// A SIP method. Known methods are recognised case-insensitively, as Kamailio does; the
/// text as written stays available through [`Message::method_text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Cancel,
    Bye,
    Options,
    Register,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Message,
    Refer,
    Publish,
    Kdmq,
    Get,
    Post,
    Put,
    Delete,
    Other,
}

impl Method {
    const NAMED: [(Method, &'static str); 19] = [
        (Method::Invite, "INVITE"),
        (Method::Ack, "ACK"),
        (Method::Cancel, "CANCEL"),
        (Method::Bye, "BYE"),
        (Method::Options, "OPTIONS"),
        (Method::Register, "REGISTER"),
        (Method::Info, "INFO"),
        (Method::Update, "UPDATE"),
        (Method::Prack, "PRACK"),
        (Method::Subscribe, "SUBSCRIBE"),
        (Method::Notify, "NOTIFY"),
        (Method::Message, "MESSAGE"),
        (Method::Refer, "REFER"),
        (Method::Publish, "PUBLISH"),
        (Method::Kdmq, "KDMQ"),
        (Method::Get, "GET"),
        (Method::Post, "POST"),
        (Method::Put, "PUT"),
        (Method::Delete, "DELETE"),
    ];

    pub fn from_bytes(text: &[u8]) -> Method {
        // Methods are written in capitals (RFC 3261 §7.1): one jump on the exact spelling,
        // the case-insensitive search (as Kamailio's parser) only for the rest.
        match text {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"OPTIONS" => Method::Options,
            b"REGISTER" => Method::Register,
            _ => Method::NAMED
                .iter()
                .find(|(_, name)| name.len() == text.len() && name.as_bytes().eq_ignore_ascii_case(text))
                .map(|(m, _)| *m)
                .unwrap_or(Method::Other),
        }
    }

    /// The standard spelling; `None` for [`Method::Other`].
    pub fn as_str(self) -> Option<&'static str> {
        Method::NAMED.iter().find(|(m, _)| *m == self).map(|(_, n)| *n)
    }
}

/// The first line of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request { method: Method, method_text: Slice, uri: Slice },
    Response { code: u16, reason: Slice },
}

/// One header line: its name, its value (without surrounding whitespace; may span folded
/// lines) and the whole line including its line end, for removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: HeaderName,
    pub name_text: Slice,
    pub value: Slice,
    pub line: Slice,
}

/// Views parsed on first access. Reads see the message as received, so they never go stale.
#[derive(Debug, Default)]
struct Cache {
    ruri: OnceCell<Result<UriParts, HeaderError>>,
    top_via: OnceCell<Result<ViaParts, HeaderError>>,
    /// The Via iterator's state after the top Via, so that the next one (a reply's way back)
    /// is parsed without parsing the top one again.
    after_top_via: std::cell::Cell<(usize, Option<usize>)>,
    from: OnceCell<Result<NameAddrParts, HeaderError>>,
    to: OnceCell<Result<NameAddrParts, HeaderError>>,
    cseq: OnceCell<Result<CSeqParts, HeaderError>>,
}

/// A parsed SIP message over one buffer. See the [module docs](super).
#[derive(Debug)]
pub struct Message {
    buf: Bytes,
    start: StartLine,
    version: Slice,
    headers: SmallVec<[Header; 24]>,
    /// Where the empty line that ends the headers starts (appended headers go here).
    headers_end: u32,
    body: Slice,
    content_length: Option<u32>,
    cache: Cache,
    pub(crate) edits: Edits,
}

/// What a stream (TCP) reader has in its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A whole message of this many bytes is at the front of the buffer.
    Complete(usize),
    /// More bytes are needed.
    Partial,
    /// The buffer starts with this many bytes of CRLF keep-alive.
    KeepAlive(usize),
}

/// Index of the `\n` ending the line that starts at `from`, and the start of the line end
/// (`\r\n` or a bare `\n`).
#[inline]
fn line_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let nl = from + memchr(b'\n', &buf[from..])?;
    let term = if nl > from && buf[nl - 1] == b'\r' { nl - 1 } else { nl };
    Some((term, nl))
}

impl Message {
    /// Parses a datagram-framed message with the default [`Limits`]: the body is bounded by
    /// Content-Length, or runs to the end of the buffer when there is none.
    #[inline]
    pub fn parse(buf: Bytes) -> Result<Message, ParseError> {
        Message::parse_with(buf, &Limits::default())
    }

    #[inline]
    pub fn parse_with(buf: Bytes, limits: &Limits) -> Result<Message, ParseError> {
        let b: &[u8] = &buf;
        if b.len() > limits.max_message {
            return Err(ParseError::new(ParseErrorKind::TooLarge, limits.max_message));
        }
        let (term, nl) = line_end(b, 0).ok_or(ParseError::new(ParseErrorKind::Incomplete, b.len()))?;
        if term > limits.max_line {
            return Err(ParseError::new(ParseErrorKind::LineTooLong, 0));
        }
        let (start, version) = parse_start_line(b, term)?;

        let mut headers: SmallVec<[Header; 24]> = SmallVec::new();
        let mut pos = nl + 1;
        let (headers_end, body_start) = loop {
            match b.get(pos) {
                // A datagram that ends right after a complete header line: the datagram
                // boundary ends the headers (some RFC 4475 archive files end this way).
                None if pos == b.len() => break (pos, pos),
                None => return Err(ParseError::new(ParseErrorKind::Incomplete, pos)),
                Some(b'\r') if b.get(pos + 1) == Some(&b'\n') => break (pos, pos + 2),
                Some(b'\n') => break (pos, pos + 1),
                Some(_) => {}
            }
            let header = parse_header_line(b, pos, limits)?;
            pos = header.line.end as usize;
            headers.push(header);
            if headers.len() > limits.max_headers {
                return Err(ParseError::new(ParseErrorKind::TooManyHeaders, pos));
            }
        };

        let content_length = content_length(b, &headers)?;
        let body_end = match content_length {
            Some(len) => {
                let end = body_start + len as usize;
                if end > b.len() {
                    return Err(ParseError::new(ParseErrorKind::BodyTruncated, b.len()));
                }
                end
            }
            None => b.len(),
        };
        Ok(Message {
            start,
            version,
            headers,
            headers_end: headers_end as u32,
            body: Slice::new(body_start, body_end),
            content_length,
            cache: Cache::default(),
            edits: Edits::default(),
            buf,
        })
    }

    /// The bytes as received.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The receive buffer (reference counted; slicing it does not copy).
    pub fn buffer(&self) -> &Bytes {
        &self.buf
    }

    /// A range of the message as an owned, zero-copy `Bytes`.
    pub fn bytes_of(&self, slice: Slice) -> Bytes {
        self.buf.slice(slice.range())
    }

    /// The bytes a range covers.
    pub fn get(&self, slice: Slice) -> &[u8] {
        slice.of(&self.buf)
    }

    pub fn start_line(&self) -> StartLine {
        self.start
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request's method; for a reply, the method of its CSeq.
    pub fn method(&self) -> Method {
        match self.start {
            StartLine::Request { method, .. } => method,
            StartLine::Response { .. } => self.cseq().map(|c| c.method()).unwrap_or(Method::Other),
        }
    }

    /// The method as written in the request line (or in CSeq for a reply).
    pub fn method_text(&self) -> &[u8] {
        match self.start {
            StartLine::Request { method_text, .. } => self.get(method_text),
            StartLine::Response { .. } => self.cseq().map(|c| c.method_text()).unwrap_or_default(),
        }
    }

    /// `SIP/2.0` as written.
    pub fn version(&self) -> &[u8] {
        self.get(self.version)
    }

    /// A reply's status code.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// A reply's reason phrase (may be empty, may be any UTF-8).
    pub fn reason(&self) -> Option<&[u8]> {
        match self.start {
            StartLine::Response { reason, .. } => Some(self.get(reason)),
            StartLine::Request { .. } => None,
        }
    }

    /// The Request-URI range.
    pub fn ruri_slice(&self) -> Option<Slice> {
        match self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI, parsed.
    pub fn ruri(&self) -> Result<Uri<'_>, HeaderError> {
        let slice = self.ruri_slice().ok_or_else(HeaderError::missing)?;
        let parts =
            self.cache.ruri.get_or_init(|| UriParts::parse(&self.buf, slice.start as usize, slice.end as usize));
        parts.map(|p| Uri::new(&self.buf, p))
    }

    /// Header lines in wire order.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first header with this name.
    pub fn header(&self, name: HeaderName) -> Option<&Header> {
        self.headers.iter().find(|h| h.name == name)
    }

    /// Every header with this name, in order.
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &Header> + '_ {
        self.headers.iter().filter(move |h| h.name == name)
    }

    /// The first header with a name as a user writes it (`"X-Foo"`, `"v"`, `"Via"`).
    pub fn header_by_name(&self, written: &[u8]) -> Option<&Header> {
        let name = HeaderName::from_bytes(written);
        self.headers.iter().find(|h| {
            h.name == name && (name != HeaderName::Other || self.get(h.name_text).eq_ignore_ascii_case(written))
        })
    }

    /// The value of the first header with this name.
    pub fn header_value(&self, name: HeaderName) -> Option<&[u8]> {
        self.header(name).map(|h| self.get(h.value))
    }

    /// How many header lines have this name (duplicates of single-value headers are an
    /// error the caller may want to report).
    pub fn header_count(&self, name: HeaderName) -> usize {
        self.headers.iter().filter(|h| h.name == name).count()
    }

    /// Where the empty line after the headers starts.
    pub fn headers_end(&self) -> u32 {
        self.headers_end
    }

    pub fn body(&self) -> &[u8] {
        self.get(self.body)
    }

    pub fn body_slice(&self) -> Slice {
        self.body
    }

    /// The Content-Length value, if the header is there.
    pub fn content_length(&self) -> Option<u32> {
        self.content_length
    }

    /// Call-ID with surrounding whitespace removed.
    pub fn call_id(&self) -> Result<&[u8], HeaderError> {
        let header = self.header(HeaderName::CallId).ok_or_else(HeaderError::missing)?;
        let value = self.get(header.value);
        if value.is_empty() {
            return Err(HeaderError::new(HeaderErrorKind::BadToken, header.value.start as usize));
        }
        Ok(value)
    }

    pub fn cseq(&self) -> Result<CSeq<'_>, HeaderError> {
        let parts = self.cache.cseq.get_or_init(|| {
            let header = self.header(HeaderName::CSeq).ok_or_else(HeaderError::missing)?;
            CSeqParts::parse(&self.buf, header.value)
        });
        parts.map(|p| CSeq::new(&self.buf, p))
    }

    pub fn from(&self) -> Result<NameAddr<'_>, HeaderError> {
        let parts = self.cache.from.get_or_init(|| self.single_name_addr(HeaderName::From));
        parts.map(|p| NameAddr::new(&self.buf, p))
    }

    pub fn to(&self) -> Result<NameAddr<'_>, HeaderError> {
        let parts = self.cache.to.get_or_init(|| self.single_name_addr(HeaderName::To));
        parts.map(|p| NameAddr::new(&self.buf, p))
    }

    fn single_name_addr(&self, name: HeaderName) -> Result<NameAddrParts, HeaderError> {
        let header = self.header(name).ok_or_else(HeaderError::missing)?;
        NameAddrParts::parse(&self.buf, header.value.start as usize, header.value.end as usize)
    }

    /// The topmost Via value.
    pub fn top_via(&self) -> Result<Via<'_>, HeaderError> {
        let parts = self.cache.top_via.get_or_init(|| {
            let mut vias = self.vias();
            let top = vias.next();
            self.cache.after_top_via.set(vias.state());
            top.ok_or_else(HeaderError::missing).and_then(|v| v.map(|v| v.parts()))
        });
        parts.map(|p| Via::new(&self.buf, p))
    }

    /// The Via after the top one (where a reply goes next), `None` if there is none.
    pub fn second_via(&self) -> Option<Result<Via<'_>, HeaderError>> {
        if self.top_via().is_err() {
            return self.vias().nth(1);
        }
        ViaIter::resume(&self.buf, &self.headers, self.cache.after_top_via.get()).next()
    }

    /// Every Via value in order, across header lines and comma-separated values.
    pub fn vias(&self) -> ViaIter<'_> {
        ViaIter::new(&self.buf, &self.headers)
    }

    /// Every Contact value in order (`*` included).
    pub fn contacts(&self) -> ContactIter<'_> {
        ContactIter::new(&self.buf, &self.headers, HeaderName::Contact)
    }

    /// Every Route value in order.
    pub fn routes(&self) -> ContactIter<'_> {
        ContactIter::new(&self.buf, &self.headers, HeaderName::Route)
    }

    /// Every Record-Route value in order.
    pub fn record_routes(&self) -> ContactIter<'_> {
        ContactIter::new(&self.buf, &self.headers, HeaderName::RecordRoute)
    }

    /// Max-Forwards (0..=255).
    pub fn max_forwards(&self) -> Result<u8, HeaderError> {
        let header = self.header(HeaderName::MaxForwards).ok_or_else(HeaderError::missing)?;
        small_number(&self.buf, header.value, 255).map(|n| n as u8)
    }

    /// Expires (delta-seconds, up to 2^32-1).
    pub fn expires(&self) -> Result<u32, HeaderError> {
        let header = self.header(HeaderName::Expires).ok_or_else(HeaderError::missing)?;
        small_number(&self.buf, header.value, u64::from(u32::MAX)).map(|n| n as u32)
    }

    /// Content-Type's media type (`application/sdp`), without parameters.
    pub fn content_type(&self) -> Result<&[u8], HeaderError> {
        let header = self.header(HeaderName::ContentType).ok_or_else(HeaderError::missing)?;
        let value = self.get(header.value);
        let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
        let media = &value[..trim_lws_end(value, 0, end)];
        let valid = media.split(|&b| b == b'/').count() == 2
            && media.split(|&b| b == b'/').all(|part| {
                let part = trim_ascii(part);
                !part.is_empty() && part.iter().all(|&c| is_token(c))
            });
        if !valid {
            return Err(HeaderError::new(HeaderErrorKind::BadToken, header.value.start as usize));
        }
        Ok(media)
    }

    /// Edits recorded on this message (applied by [`Message::write_to`]).
    pub fn edits(&self) -> &Edits {
        &self.edits
    }

    /// Writes the message with its edits applied. With no edits the output is identical to
    /// the input bytes (up to the end of the body; trailing bytes after Content-Length are
    /// not part of the message).
    pub fn write_to(&self, out: &mut BytesMut) {
        self.edits.apply(self, &[], out);
    }

    /// Like [`Message::write_to`], with one-shot edits `(start, end, bytes)` applied after the
    /// recorded ones (a forwarded copy's Via and R-URI, which must not stay on the message).
    pub fn write_with(&self, extra: &[(u32, u32, &[u8])], out: &mut BytesMut) {
        self.edits.apply(self, extra, out);
    }
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |p| p + 1);
    &bytes[start..end]
}

fn small_number(buf: &[u8], value: Slice, max: u64) -> Result<u64, HeaderError> {
    match parse_u64(value.of(buf)) {
        Some(n) if n <= max => Ok(n),
        _ => Err(HeaderError::new(HeaderErrorKind::BadNumber, value.start as usize)),
    }
}

/// Parses the first line, `term` being where its line end starts.
fn parse_start_line(b: &[u8], term: usize) -> Result<(StartLine, Slice), ParseError> {
    let bad = |kind, at| Err(ParseError::new(kind, at));
    if term >= 8 && b[..4].eq_ignore_ascii_case(b"SIP/") {
        // SIP-Version SP Status-Code SP Reason-Phrase
        let Some(sp) = memchr(b' ', &b[..term]) else {
            return bad(ParseErrorKind::BadStartLine, term);
        };
        if !b[..sp].eq_ignore_ascii_case(b"SIP/2.0") {
            return bad(ParseErrorKind::BadVersion, 0);
        }
        let code_start = sp + 1;
        let code_end = code_start + b[code_start..term].iter().take_while(|c| c.is_ascii_digit()).count();
        if code_end - code_start != 3 || (code_end < term && b[code_end] != b' ') {
            return bad(ParseErrorKind::BadStatusCode, code_start);
        }
        let code = b[code_start..code_end].iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        if code < 100 {
            return bad(ParseErrorKind::BadStatusCode, code_start);
        }
        let reason_start = (code_end + 1).min(term);
        let start = StartLine::Response { code, reason: Slice::new(reason_start, term) };
        return Ok((start, Slice::new(0, sp)));
    }
    // Method SP Request-URI SP SIP-Version, single spaces.
    let method_end = token_end(b, 0, term);
    if method_end == 0 {
        return bad(ParseErrorKind::BadMethod, 0);
    }
    if method_end >= term || b[method_end] != b' ' {
        return bad(ParseErrorKind::BadStartLine, method_end);
    }
    let uri_start = method_end + 1;
    let Some(last_sp) = b[uri_start..term].iter().rposition(|&c| c == b' ').map(|p| uri_start + p) else {
        return bad(ParseErrorKind::BadStartLine, uri_start);
    };
    let uri = Slice::new(uri_start, last_sp);
    if uri.is_empty() || b[uri.range()].iter().any(|&c| c <= b' ') {
        return bad(ParseErrorKind::BadStartLine, uri_start);
    }
    let version = Slice::new(last_sp + 1, term);
    if !version.of(b).eq_ignore_ascii_case(b"SIP/2.0") {
        return bad(ParseErrorKind::BadVersion, last_sp + 1);
    }
    let method_text = Slice::new(0, method_end);
    let method = Method::from_bytes(method_text.of(b));
    Ok((StartLine::Request { method, method_text, uri }, version))
}

/// Parses the header line at `pos`: `name LWS ":" value`, with folded continuation lines.
#[inline]
fn parse_header_line(b: &[u8], pos: usize, limits: &Limits) -> Result<Header, ParseError> {
    let name_end = token_end(b, pos, b.len());
    if name_end == pos {
        return Err(ParseError::new(ParseErrorKind::BadHeader, pos));
    }
    let mut colon = name_end;
    while colon < b.len() && (b[colon] == b' ' || b[colon] == b'\t') {
        colon += 1;
    }
    if b.get(colon) != Some(&b':') {
        return Err(ParseError::new(ParseErrorKind::BadHeader, colon));
    }
    let value_start = colon + 1;
    // The logical line goes on while the next physical line starts with SP or HT.
    let mut scan = value_start;
    let (term, nl) = loop {
        let Some((term, nl)) = line_end(b, scan) else {
            return Err(ParseError::new(ParseErrorKind::Incomplete, b.len()));
        };
        match b.get(nl + 1) {
            Some(b' ' | b'\t') => scan = nl + 1,
            _ => break (term, nl),
        }
    };
    if nl + 1 - pos > limits.max_line {
        return Err(ParseError::new(ParseErrorKind::LineTooLong, pos));
    }
    let value_begin = skip_lws(b, value_start, term);
    let value_end = trim_lws_end(b, value_begin, term);
    Ok(Header {
        name: HeaderName::from_bytes(&b[pos..name_end]),
        name_text: Slice::new(pos, name_end),
        value: Slice::new(value_begin, value_end),
        line: Slice::new(pos, nl + 1),
    })
}

/// The Content-Length value; several headers must agree.
fn content_length(b: &[u8], headers: &[Header]) -> Result<Option<u32>, ParseError> {
    let mut found: Option<u32> = None;
    for header in headers.iter().filter(|h| h.name == HeaderName::ContentLength) {
        let value = match parse_u64(header.value.of(b)) {
            Some(v) if v <= u64::from(u32::MAX) => v as u32,
            _ => return Err(ParseError::new(ParseErrorKind::BadContentLength, header.value.start as usize)),
        };
        match found {
            Some(previous) if previous != value => {
                return Err(ParseError::new(ParseErrorKind::ConflictingContentLength, header.value.start as usize));
            }
            _ => found = Some(value),
        }
    }
    Ok(found)
}

/// Frames the next message of a byte stream (TCP): it ends after Content-Length bytes of
/// body, which must be given (Kamailio's default `tcp_accept_no_cl=0`).
pub fn frame_stream(buf: &[u8], limits: &Limits) -> Result<Framing, ParseError> {
    let keepalive = buf.iter().take_while(|&&c| c == b'\r' || c == b'\n').count();
    if keepalive > 0 {
        return Ok(Framing::KeepAlive(keepalive));
    }
    let window = &buf[..buf.len().min(limits.max_message)];
    let Some(headers_end) = memchr::memmem::find(window, b"\r\n\r\n").map(|p| p + 4) else {
        if buf.len() >= limits.max_message {
            return Err(ParseError::new(ParseErrorKind::TooLarge, limits.max_message));
        }
        return Ok(Framing::Partial);
    };
    let (_, first_nl) = line_end(buf, 0).ok_or(ParseError::new(ParseErrorKind::Incomplete, 0))?;
    let mut pos = first_nl + 1;
    let mut headers: SmallVec<[Header; 24]> = SmallVec::new();
    while pos < headers_end - 2 {
        let header = parse_header_line(buf, pos, limits)?;
        pos = header.line.end as usize;
        if header.name == HeaderName::ContentLength {
            headers.push(header);
        }
    }
    let Some(length) = content_length(buf, &headers)? else {
        return Err(ParseError::new(ParseErrorKind::BadContentLength, headers_end));
    };
    let total = headers_end + length as usize;
    if total > limits.max_message {
        return Err(ParseError::new(ParseErrorKind::TooLarge, limits.max_message));
    }
    Ok(if buf.len() >= total { Framing::Complete(total) } else { Framing::Partial })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx\r\n\
v: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\r\n";

    fn parse(bytes: &[u8]) -> Message {
        Message::parse(Bytes::copy_from_slice(bytes)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn methods_are_recognised_in_any_case_and_unknown_ones_are_other() {
        for (method, name) in Method::NAMED {
            assert_eq!(Method::from_bytes(name.as_bytes()), method, "{name}");
            assert_eq!(Method::from_bytes(name.to_ascii_lowercase().as_bytes()), method, "{name}");
            assert_eq!(method.as_str(), Some(name));
        }
        for other in [&b""[..], b"INVITEX", b"INVIT", b"FOO"] {
            assert_eq!(Method::from_bytes(other), Method::Other);
        }
    }

    #[test]
    fn request_parts() {
        let msg = parse(INVITE);
        assert_eq!(msg.method(), Method::Invite);
        assert_eq!(msg.ruri().map(|u| u.host()), Ok(&b"biloxi.example.com"[..]));
        assert_eq!(msg.call_id(), Ok(&b"a84b4c76e66710@pc33.atlanta.example.com"[..]));
        let cseq = msg.cseq().expect("cseq");
        assert_eq!((cseq.number(), cseq.method()), (314159, Method::Invite));
        assert_eq!(msg.from().expect("from").tag(), Some(&b"1928301774"[..]));
        assert_eq!(msg.to().expect("to").tag(), None);
        assert_eq!(msg.max_forwards(), Ok(70));
        assert_eq!(msg.content_type(), Ok(&b"application/sdp"[..]));
        assert_eq!(msg.body(), b"v=0\r");
        assert_eq!(msg.content_length(), Some(4));
    }

    #[test]
    fn the_second_via_follows_the_top_one_in_the_same_line_or_the_next() {
        let msg = parse(INVITE);
        assert_eq!(msg.second_via().map(|v| v.expect("via").host().to_vec()), Some(b"10.0.0.1".to_vec()));
        let reply = |vias: &str| {
            parse(format!("SIP/2.0 200 OK\r\n{vias}From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n").as_bytes())
        };
        let msg = reply("Via: SIP/2.0/UDP a.example\r\nVia: SIP/2.0/UDP b.example\r\n");
        assert_eq!(msg.second_via().map(|v| v.expect("via").host().to_vec()), Some(b"b.example".to_vec()));
        let msg = reply("Via: SIP/2.0/UDP a.example , SIP/2.0/TCP c.example;rport\r\n");
        let second = msg.second_via().expect("second").expect("parses");
        assert_eq!((second.host(), second.transport_text()), (&b"c.example"[..], &b"TCP"[..]));
        assert!(reply("Via: SIP/2.0/UDP a.example\r\n").second_via().is_none());
    }

    #[test]
    fn vias_across_lines_and_commas() {
        let msg = parse(INVITE);
        let hosts: Vec<Vec<u8>> = msg.vias().map(|v| v.expect("via").host().to_vec()).collect();
        assert_eq!(
            hosts,
            vec![b"pc33.atlanta.example.com".to_vec(), b"10.0.0.1".to_vec(), b"proxy.example.com".to_vec()]
        );
        let top = msg.top_via().expect("top");
        assert!(top.shares_line());
        assert_eq!(top.branch(), Some(&b"z9hG4bK776asdhds"[..]));
    }

    #[test]
    fn status_lines() {
        let msg = parse(b"SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\n\r\n");
        assert_eq!((msg.status(), msg.reason()), (Some(180), Some(&b"Ringing"[..])));
        assert_eq!(msg.method(), Method::Invite);
        let msg = parse(b"SIP/2.0 100 \r\n\r\n");
        assert_eq!(msg.reason(), Some(&b""[..]));
        for bad in [&b"SIP/2.0 4294967301 x\r\n\r\n"[..], b"SIP/2.0 20 OK\r\n\r\n", b"SIP/3.0 200 OK\r\n\r\n"] {
            assert!(Message::parse(Bytes::copy_from_slice(bad)).is_err());
        }
    }

    #[test]
    fn request_line_errors() {
        for (bad, kind) in [
            (&b"INVITE  sip:a@b SIP/2.0\r\n\r\n"[..], ParseErrorKind::BadStartLine),
            (b"INVITE sip:a@b; lr SIP/2.0\r\n\r\n", ParseErrorKind::BadStartLine),
            (b"INVITE sip:a@b SIP/2.0 \r\n\r\n", ParseErrorKind::BadStartLine),
            (b"OPTIONS sip:a@b SIP/7.0\r\n\r\n", ParseErrorKind::BadVersion),
            (b"INVITE sip:a@b SIP/2.0\r\nVia: x", ParseErrorKind::Incomplete),
            (b"INVITE sip:a@b SIP/2.0\r\nno colon here\r\n\r\n", ParseErrorKind::BadHeader),
            (b"<bad> sip:a@b SIP/2.0\r\n\r\n", ParseErrorKind::BadMethod),
        ] {
            let err = Message::parse(Bytes::copy_from_slice(bad)).expect_err("rejected");
            assert_eq!(err.kind, kind, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn content_length_rules() {
        let msg = parse(b"MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhi and trailing junk");
        assert_eq!(msg.body(), b"hi");
        let msg = parse(b"MESSAGE sip:a@b SIP/2.0\r\n\r\nno length: to the end");
        assert_eq!(msg.body(), b"no length: to the end");
        let kind = |b: &[u8]| Message::parse(Bytes::copy_from_slice(b)).map(|_| ()).map_err(|e| e.kind);
        assert_eq!(kind(b"M sip:a@b SIP/2.0\r\nContent-Length: 9\r\n\r\nshort"), Err(ParseErrorKind::BodyTruncated));
        assert_eq!(kind(b"M sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n"), Err(ParseErrorKind::BadContentLength));
        assert_eq!(
            kind(b"M sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab"),
            Err(ParseErrorKind::ConflictingContentLength)
        );
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits { max_message: 100, max_headers: 2, max_line: 40 };
        let many = b"O sip:a@b SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        let err = Message::parse_with(Bytes::copy_from_slice(many), &limits).expect_err("too many");
        assert_eq!(err.kind, ParseErrorKind::TooManyHeaders);
        let long = b"O sip:a@b SIP/2.0\r\nSubject: a very long subject that is over the limit\r\n\r\n";
        let err = Message::parse_with(Bytes::copy_from_slice(long), &limits).expect_err("too long");
        assert_eq!(err.kind, ParseErrorKind::LineTooLong);
        let big = vec![b'x'; 101];
        assert_eq!(
            Message::parse_with(Bytes::from(big), &limits).map(|_| ()).map_err(|e| e.kind),
            Err(ParseErrorKind::TooLarge)
        );
    }

    #[test]
    fn header_lookup_by_written_name() {
        let msg = parse(b"OPTIONS sip:a@b SIP/2.0\r\nX-Custom: one\r\nv: SIP/2.0/UDP h\r\n\r\n");
        assert_eq!(msg.header_by_name(b"x-custom").map(|h| msg.get(h.value)), Some(&b"one"[..]));
        assert_eq!(msg.header_by_name(b"Via").map(|h| msg.get(h.value)), Some(&b"SIP/2.0/UDP h"[..]));
        assert!(msg.header_by_name(b"X-Other").is_none());
        assert_eq!(msg.header_count(HeaderName::Via), 1);
    }

    #[test]
    fn views_fail_alone() {
        let msg = parse(b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: x OPTIONS\r\nCall-ID: ok\r\nMax-Forwards: 300\r\n\r\n");
        assert!(msg.cseq().is_err());
        assert_eq!(msg.max_forwards().map_err(|e| e.kind), Err(HeaderErrorKind::BadNumber));
        assert_eq!(msg.call_id(), Ok(&b"ok"[..]));
        assert_eq!(msg.from().err().map(|e| e.kind), Some(HeaderErrorKind::Missing));
    }

    #[test]
    fn stream_framing() {
        let limits = Limits::default();
        let one = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(frame_stream(one, &limits), Ok(Framing::Complete(one.len())));
        assert_eq!(frame_stream(&one[..one.len() - 1], &limits), Ok(Framing::Partial));
        assert_eq!(frame_stream(&one[..10], &limits), Ok(Framing::Partial));
        let mut two = one.to_vec();
        two.extend_from_slice(one);
        assert_eq!(frame_stream(&two, &limits), Ok(Framing::Complete(one.len())));
        assert_eq!(frame_stream(b"\r\n\r\nOPTIONS", &limits), Ok(Framing::KeepAlive(4)));
        let no_length = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
        assert_eq!(frame_stream(no_length, &limits).map_err(|e| e.kind), Err(ParseErrorKind::BadContentLength));
    }

    #[test]
    fn a_message_stays_cheap_to_move() {
        // Parsing returns the message by value; its inline header table and view cache
        // make it large, and every byte is copied on each move.
        assert!(std::mem::size_of::<Message>() <= 1600, "{}", std::mem::size_of::<Message>());
    }

    #[test]
    fn bare_line_feeds_are_tolerated() {
        let msg = parse(b"OPTIONS sip:a@b SIP/2.0\nCall-ID: x\n\n");
        assert_eq!(msg.call_id(), Ok(&b"x"[..]));
    }
}
