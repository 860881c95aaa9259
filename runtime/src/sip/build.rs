//! Building new messages: a reply from a request (the layout Kamailio's sl and tm use, see
//! sip-behaviour.md §3.2) and a request from parts.

use bytes::BytesMut;
use smallvec::SmallVec;

use super::error::HeaderError;
use super::message::Message;
use super::name::HeaderName;

/// `received` / `rport` values to write into the top Via of a local reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TopViaParams<'a> {
    pub received: Option<&'a [u8]>,
    pub rport: Option<u16>,
}

/// What goes into a reply besides the headers copied from the request.
#[derive(Clone, Copy, Debug)]
pub struct ReplySpec<'a> {
    pub code: u16,
    pub reason: &'a [u8],
    /// Added as `;tag=` to To when the request's To has none.
    pub to_tag: Option<&'a [u8]>,
    pub via: TopViaParams<'a>,
    /// Copy the request's Record-Route lines (Kamailio does for 180..=299).
    pub record_route: bool,
    /// Our own Record-Route line(s), written before the copied ones when those are copied.
    pub own_record_route: Option<&'a [u8]>,
    /// Extra header lines, each ending in CRLF, after the copied ones.
    pub headers: &'a [&'a [u8]],
    /// `Server:` header value.
    pub server: Option<&'a [u8]>,
    /// Content type and body.
    pub body: Option<(&'a [u8], &'a [u8])>,
}

impl<'a> ReplySpec<'a> {
    pub fn new(code: u16, reason: &'a [u8]) -> Self {
        ReplySpec {
            code,
            reason,
            to_tag: None,
            via: TopViaParams::default(),
            record_route: false,
            own_record_route: None,
            headers: &[],
            server: None,
            body: None,
        }
    }
}

/// Writes a reply to `request`: status line, every Via line (the top value gets `rport` and
/// `received` as Kamailio places them), From, To (with a tag if asked and missing), Call-ID
/// and CSeq in request order, Record-Route if asked, the extra headers, Server,
/// Content-Length, then the body. Copied lines keep their bytes (compact names included).
pub fn build_reply(request: &Message, spec: &ReplySpec<'_>, out: &mut BytesMut) -> Result<(), HeaderError> {
    let buf = request.as_bytes();
    let top = request.top_via()?;
    let to = request.to()?;
    let mut code = itoa::Buffer::new();
    out.reserve(buf.len().min(1024) + 128);
    out.extend_from_slice(request.version());
    out.extend_from_slice(b" ");
    out.extend_from_slice(code.format(spec.code).as_bytes());
    out.extend_from_slice(b" ");
    out.extend_from_slice(spec.reason);
    out.extend_from_slice(b"\r\n");

    let top_header = top.header_index();
    let mut own_record_route = spec.own_record_route.filter(|_| spec.record_route);
    for (index, header) in request.headers().iter().enumerate() {
        let line = header.line.of(buf);
        match header.name {
            HeaderName::Via if index == top_header => write_top_via(request, &top, spec.via, out),
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                write_line(out, line);
            }
            HeaderName::To => match spec.to_tag {
                Some(tag) if to.tag().is_none() => {
                    // `;tag=` goes right after the value, before the line end.
                    let value_end = (header.value.end - header.line.start) as usize;
                    out.extend_from_slice(&line[..value_end]);
                    out.extend_from_slice(b";tag=");
                    out.extend_from_slice(tag);
                    write_line(out, &line[value_end..]);
                }
                _ => write_line(out, line),
            },
            HeaderName::RecordRoute if spec.record_route => {
                if let Some(own) = own_record_route.take() {
                    out.extend_from_slice(own);
                }
                write_line(out, line);
            }
            _ => {}
        }
    }
    if let Some(own) = own_record_route {
        out.extend_from_slice(own);
    }
    for extra in spec.headers {
        out.extend_from_slice(extra);
    }
    if let Some(server) = spec.server {
        out.extend_from_slice(b"Server: ");
        out.extend_from_slice(server);
        out.extend_from_slice(b"\r\n");
    }
    let (content_type, body) = spec.body.unwrap_or((b"", b""));
    if !content_type.is_empty() {
        out.extend_from_slice(b"Content-Type: ");
        out.extend_from_slice(content_type);
        out.extend_from_slice(b"\r\n");
    }
    let mut length = itoa::Buffer::new();
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(length.format(body.len()).as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    Ok(())
}

/// Copies a header line, making sure it ends in CRLF (a bare LF is normalised).
fn write_line(out: &mut BytesMut, line: &[u8]) {
    let content = line.strip_suffix(b"\n").map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n");
}

/// The top Via line with `;rport=` and `;received=` placed as Kamailio places them in local
/// replies: in place of an existing `rport`, else right after `branch=...`, else at the end
/// of the value. An existing `received` is replaced.
fn write_top_via(request: &Message, top: &super::via::Via<'_>, params: TopViaParams<'_>, out: &mut BytesMut) {
    let buf = request.as_bytes();
    let Some(header) = request.headers().get(top.header_index()) else { return };
    let line = header.line;
    if params.received.is_none() && params.rport.is_none() {
        write_line(out, line.of(buf));
        return;
    }
    let (insert_at, replaced) = match (top.rport_param(), params.rport) {
        (Some(rport), Some(_)) => (rport.start, Some(rport)),
        (Some(rport), None) => (rport.end, None),
        _ => (top.branch_slice().map_or(top.slice().end, |b| b.end), None),
    };
    // Ranges of the line to leave out: the old rport (when rewritten) and the old received.
    let mut skips: SmallVec<[super::Slice; 2]> = SmallVec::new();
    skips.extend(replaced);
    if params.received.is_some()
        && let Some(received) = top.received_param()
    {
        skips.push(received);
    }
    skips.sort_by_key(|s| s.start);
    let mut port = itoa::Buffer::new();
    let mut added = SmallVec::<[u8; 64]>::new();
    if let Some(rport) = params.rport {
        added.extend_from_slice(b";rport=");
        added.extend_from_slice(port.format(rport).as_bytes());
    }
    if let Some(received) = params.received {
        added.extend_from_slice(b";received=");
        added.extend_from_slice(received);
    }
    let mut line_out = SmallVec::<[u8; 256]>::new();
    let mut cursor = line.start as usize;
    let mut inserted = false;
    for skip in skips.iter().copied().chain(std::iter::once(super::Slice { start: line.end, end: line.end })) {
        let (start, end) = (skip.start as usize, skip.end as usize);
        if !inserted && (insert_at as usize) <= start {
            line_out.extend_from_slice(&buf[cursor..insert_at as usize]);
            line_out.extend_from_slice(&added);
            cursor = insert_at as usize;
            inserted = true;
        }
        if start >= cursor {
            line_out.extend_from_slice(&buf[cursor..start]);
            cursor = end;
        }
    }
    write_line(out, &line_out);
}

/// Writes a request from parts: request line, headers in order, `Content-Length` (added
/// unless given), the empty line and the body.
pub fn build_request(method: &[u8], uri: &[u8], headers: &[(&[u8], &[u8])], body: &[u8], out: &mut BytesMut) {
    out.reserve(64 + uri.len() + headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>() + body.len());
    out.extend_from_slice(method);
    out.extend_from_slice(b" ");
    out.extend_from_slice(uri);
    out.extend_from_slice(b" SIP/2.0\r\n");
    let mut has_length = false;
    for (name, value) in headers {
        has_length |= HeaderName::from_bytes(name) == HeaderName::ContentLength;
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !has_length {
        let mut length = itoa::Buffer::new();
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(length.format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::*;

    const REQUEST: &[u8] = b"INVITE sip:bob@b.example SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport\r\n\
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb\r\n\
Record-Route: <sip:10.0.0.1;lr>\r\n\
Max-Forwards: 70\r\n\
f: <sip:alice@a.example>;tag=111\r\n\
To: <sip:bob@b.example>\r\n\
Call-ID: c1@10.0.0.5\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@10.0.0.5>\r\n\
Content-Length: 0\r\n\
\r\n";

    fn reply(spec: &ReplySpec<'_>) -> String {
        let request = Message::parse(Bytes::from_static(REQUEST)).expect("parses");
        let mut out = BytesMut::new();
        build_reply(&request, spec, &mut out).expect("builds");
        String::from_utf8(out.to_vec()).expect("utf-8")
    }

    #[test]
    fn kamailio_layout_with_rport_received_and_tag() {
        let spec = ReplySpec {
            to_tag: Some(b"abc.def"),
            via: TopViaParams { received: Some(b"10.0.0.5"), rport: Some(5062) },
            record_route: true,
            server: Some(b"sipcfg"),
            ..ReplySpec::new(200, b"OK")
        };
        let expected = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport=5062;received=10.0.0.5\r\n\
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb\r\n\
Record-Route: <sip:10.0.0.1;lr>\r\n\
f: <sip:alice@a.example>;tag=111\r\n\
To: <sip:bob@b.example>;tag=abc.def\r\n\
Call-ID: c1@10.0.0.5\r\n\
CSeq: 1 INVITE\r\n\
Server: sipcfg\r\n\
Content-Length: 0\r\n\
\r\n";
        assert_eq!(reply(&spec), expected);
    }

    #[test]
    fn received_goes_after_branch_without_rport() {
        let request = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP host.example;branch=z9hG4bKq;x=1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 2 OPTIONS\r\n\r\n";
        let msg = Message::parse(Bytes::from_static(request)).expect("parses");
        let spec = ReplySpec {
            via: TopViaParams { received: Some(b"10.0.0.9"), rport: None },
            ..ReplySpec::new(100, b"Trying")
        };
        let mut out = BytesMut::new();
        build_reply(&msg, &spec, &mut out).expect("builds");
        let text = String::from_utf8(out.to_vec()).expect("utf-8");
        assert!(text.contains("Via: SIP/2.0/UDP host.example;branch=z9hG4bKq;received=10.0.0.9;x=1\r\n"), "{text}");
        assert!(text.contains("To: <sip:a@b>\r\n"), "no tag asked for");
    }

    #[test]
    fn body_and_extra_headers() {
        let spec = ReplySpec {
            headers: &[b"Contact: <sip:bob@10.0.0.1>, <sip:bob@10.0.0.2>\r\n"],
            body: Some((b"text/plain", b"hello")),
            ..ReplySpec::new(302, b"Moved Temporarily")
        };
        let text = reply(&spec);
        assert!(text.contains("CSeq: 1 INVITE\r\nContact: <sip:bob@10.0.0.1>, <sip:bob@10.0.0.2>\r\n"), "{text}");
        assert!(text.ends_with("Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"), "{text}");
        assert!(!text.contains("Record-Route"), "not asked for");
    }

    #[test]
    fn requests_from_parts_parse_back() {
        let mut out = BytesMut::new();
        build_request(
            b"ACK",
            b"sip:bob@10.0.0.1",
            &[(b"Via", b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"), (b"CSeq", b"1 ACK"), (b"Call-ID", b"x")],
            b"",
            &mut out,
        );
        let msg = Message::parse(out.freeze()).expect("parses");
        assert_eq!(msg.method(), super::super::Method::Ack);
        assert_eq!(msg.content_length(), Some(0));
        assert_eq!(msg.cseq().map(|c| c.number()), Ok(1));
    }
}
