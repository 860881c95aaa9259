//! Via values: `SIP/2.0/UDP host:port;branch=...;received=...;rport`.

use super::Slice;
use super::error::{HeaderError, HeaderErrorKind};
use super::message::Header;
use super::name::HeaderName;
use super::scan::{find_top_level, host_end, is_lws, skip_lws, token_end, trim_lws_end};
use super::uri::Params;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    Sctp,
    Ws,
    Wss,
    Other,
}

impl Transport {
    pub fn from_bytes(text: &[u8]) -> Transport {
        match text.len() {
            3 if text.eq_ignore_ascii_case(b"UDP") => Transport::Udp,
            3 if text.eq_ignore_ascii_case(b"TCP") => Transport::Tcp,
            3 if text.eq_ignore_ascii_case(b"TLS") => Transport::Tls,
            4 if text.eq_ignore_ascii_case(b"SCTP") => Transport::Sctp,
            2 if text.eq_ignore_ascii_case(b"WS") => Transport::Ws,
            3 if text.eq_ignore_ascii_case(b"WSS") => Transport::Wss,
            _ => Transport::Other,
        }
    }

    /// The token as written in a Via (`UDP`); `None` for [`Transport::Other`].
    pub fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
            Transport::Other => return None,
        })
    }

    /// Whether the transport delivers reliably (no retransmission timers).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }
}

/// The `rport` parameter (RFC 3581).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rport<'a> {
    Absent,
    /// `;rport` without a value: the client asks for one.
    Requested,
    Value(&'a [u8]),
}

/// A Via value as ranges of its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ViaParts {
    /// Index of the header line holding this value.
    pub(crate) header: u16,
    /// This value (one element of a comma-separated list).
    pub(crate) value: Slice,
    /// Whether it is the first value of its header line.
    pub(crate) first_in_line: bool,
    /// Whether more values follow in the same header line.
    pub(crate) more_in_line: bool,
    pub(crate) protocol: Slice,
    pub(crate) version: Slice,
    pub(crate) transport: Slice,
    pub(crate) host: Slice,
    pub(crate) port: Option<u16>,
    pub(crate) port_text: Option<Slice>,
    /// From the first `;` to the end of the value.
    pub(crate) params: Slice,
    pub(crate) branch: Option<Slice>,
    pub(crate) received: Option<Slice>,
    /// `Some(None)` for a bare `;rport`.
    pub(crate) rport: Option<Option<Slice>>,
    pub(crate) maddr: Option<Slice>,
    pub(crate) ttl: Option<Slice>,
    /// The whole `;rport[=...]` parameter, for rewriting it.
    pub(crate) rport_param: Option<Slice>,
    pub(crate) received_param: Option<Slice>,
}

fn bad<T>(at: usize) -> Result<T, HeaderError> {
    Err(HeaderError::new(HeaderErrorKind::BadVia, at))
}

impl ViaParts {
    pub(crate) fn parse(buf: &[u8], header: u16, start: usize, end: usize) -> Result<ViaParts, HeaderError> {
        let mut i = skip_lws(buf, start, end);
        let protocol_start = i;
        i = token_end(buf, i, end);
        let protocol = Slice::new(protocol_start, i);
        i = expect_slash(buf, i, end)?;
        let version_start = i;
        i = token_end(buf, i, end);
        let version = Slice::new(version_start, i);
        i = expect_slash(buf, i, end)?;
        let transport_start = i;
        i = token_end(buf, i, end);
        let transport = Slice::new(transport_start, i);
        if protocol.is_empty() || version.is_empty() || transport.is_empty() {
            return bad(i);
        }
        let after_protocol = i;
        i = skip_lws(buf, i, end);
        if i == after_protocol {
            return bad(i);
        }
        // sent-by: host [ ":" port ]
        let host_start = i;
        if buf.get(i) == Some(&b'[') {
            match buf[i..end].iter().position(|&c| c == b']') {
                Some(p) => i += p + 1,
                None => return bad(i),
            }
        } else {
            i = host_end(buf, i, end);
        }
        let host = Slice::new(host_start, i);
        if host.is_empty() {
            return bad(i);
        }
        let mut port = None;
        let mut port_text = None;
        let after_host = skip_lws(buf, i, end);
        if buf.get(after_host) == Some(&b':') {
            let digits_start = skip_lws(buf, after_host + 1, end);
            let mut j = digits_start;
            while j < end && buf[j].is_ascii_digit() {
                j += 1;
            }
            let digits = &buf[digits_start..j];
            let value = (!digits.is_empty() && digits.len() <= 5)
                .then(|| digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
                .filter(|p| (1..=65535).contains(p));
            let Some(value) = value else {
                return Err(HeaderError::new(HeaderErrorKind::BadPort, digits_start));
            };
            port = Some(value as u16);
            port_text = Some(Slice::new(digits_start, j));
            i = j;
        }
        i = skip_lws(buf, i, end);
        let params = Slice::new(i, end);
        if i < end && buf[i] != b';' {
            return bad(i);
        }
        let mut parts = ViaParts {
            header,
            value: Slice::new(start, end),
            first_in_line: true,
            more_in_line: false,
            protocol,
            version,
            transport,
            host,
            port,
            port_text,
            params,
            branch: None,
            received: None,
            rport: None,
            maddr: None,
            ttl: None,
            rport_param: None,
            received_param: None,
        };
        // Walk the parameters by hand to keep their positions.
        let mut p = i;
        while p < end {
            let param_start = p;
            p += 1; // the `;`
            // The parameter ends at the next `;` outside a quoted value.
            let mut q = p;
            loop {
                let Some(found) = memchr::memchr2(b';', b'"', &buf[q..end]) else {
                    q = end;
                    break;
                };
                q += found;
                if buf[q] == b';' {
                    break;
                }
                q = super::scan::quoted_end(buf, q, end).unwrap_or(end);
            }
            let (name, value) = split_param(buf, p, q);
            if name.is_empty() {
                return Err(HeaderError::new(HeaderErrorKind::BadParams, param_start));
            }
            let name_bytes = name.of(buf);
            let whole = Slice::new(param_start, trim_lws_end(buf, param_start, q));
            if name_bytes.eq_ignore_ascii_case(b"branch") {
                parts.branch = value;
            } else if name_bytes.eq_ignore_ascii_case(b"received") {
                parts.received = value;
                parts.received_param = Some(whole);
            } else if name_bytes.eq_ignore_ascii_case(b"rport") {
                parts.rport = Some(value);
                parts.rport_param = Some(whole);
            } else if name_bytes.eq_ignore_ascii_case(b"maddr") {
                parts.maddr = value;
            } else if name_bytes.eq_ignore_ascii_case(b"ttl") {
                parts.ttl = value;
            }
            p = q;
        }
        Ok(parts)
    }
}

fn expect_slash(buf: &[u8], i: usize, end: usize) -> Result<usize, HeaderError> {
    let i = skip_lws(buf, i, end);
    if buf.get(i) != Some(&b'/') || i >= end {
        return bad(i);
    }
    Ok(skip_lws(buf, i + 1, end))
}

/// Splits `name[=value]` in `buf[start..end]`, trimming LWS around both.
fn split_param(buf: &[u8], start: usize, end: usize) -> (Slice, Option<Slice>) {
    let name_start = skip_lws(buf, start, end);
    let eq = buf[name_start..end].iter().position(|&c| c == b'=').map(|p| name_start + p);
    let name_end = trim_lws_end(buf, name_start, eq.unwrap_or(end));
    let value = eq.map(|eq| {
        let v = skip_lws(buf, eq + 1, end);
        Slice::new(v, trim_lws_end(buf, v, end))
    });
    (Slice::new(name_start, name_end), value)
}

/// A Via value borrowed from its message.
#[derive(Clone, Copy, Debug)]
pub struct Via<'a> {
    buf: &'a [u8],
    parts: ViaParts,
}

impl<'a> Via<'a> {
    pub(crate) fn new(buf: &'a [u8], parts: ViaParts) -> Self {
        Via { buf, parts }
    }

    pub(crate) fn parts(&self) -> ViaParts {
        self.parts
    }

    /// Parses one Via value held in its own buffer.
    pub fn parse(text: &'a [u8]) -> Result<Via<'a>, HeaderError> {
        ViaParts::parse(text, 0, 0, text.len()).map(|p| Via::new(text, p))
    }

    /// The whole value, as written.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.parts.value.of(self.buf)
    }

    pub fn slice(&self) -> Slice {
        self.parts.value
    }

    /// Index of the header line this value is in.
    pub fn header_index(&self) -> usize {
        self.parts.header as usize
    }

    /// Whether this value shares its header line with others (`Via: a, b`).
    pub fn shares_line(&self) -> bool {
        !self.parts.first_in_line || self.parts.more_in_line
    }

    pub fn is_first_in_line(&self) -> bool {
        self.parts.first_in_line
    }

    pub fn protocol(&self) -> &'a [u8] {
        self.parts.protocol.of(self.buf)
    }

    pub fn version(&self) -> &'a [u8] {
        self.parts.version.of(self.buf)
    }

    pub fn transport(&self) -> Transport {
        Transport::from_bytes(self.transport_text())
    }

    pub fn transport_text(&self) -> &'a [u8] {
        self.parts.transport.of(self.buf)
    }

    /// The sent-by host (IPv6 in brackets).
    pub fn host(&self) -> &'a [u8] {
        self.parts.host.of(self.buf)
    }

    pub fn host_slice(&self) -> Slice {
        self.parts.host
    }

    pub fn port(&self) -> Option<u16> {
        self.parts.port
    }

    pub fn port_text(&self) -> Option<&'a [u8]> {
        self.parts.port_text.map(|s| s.of(self.buf))
    }

    /// Where `host[:port]` ends: params inserted here come first.
    pub fn sent_by_end(&self) -> u32 {
        self.parts.port_text.map_or(self.parts.host.end, |p| p.end)
    }

    pub fn branch(&self) -> Option<&'a [u8]> {
        self.parts.branch.map(|s| s.of(self.buf))
    }

    pub fn branch_slice(&self) -> Option<Slice> {
        self.parts.branch
    }

    pub fn received(&self) -> Option<&'a [u8]> {
        self.parts.received.map(|s| s.of(self.buf))
    }

    pub fn rport(&self) -> Rport<'a> {
        match self.parts.rport {
            None => Rport::Absent,
            Some(None) => Rport::Requested,
            Some(Some(v)) => Rport::Value(v.of(self.buf)),
        }
    }

    /// The `;rport[=..]` and `;received=..` parameters as ranges, for rewriting.
    pub fn rport_param(&self) -> Option<Slice> {
        self.parts.rport_param
    }

    pub fn received_param(&self) -> Option<Slice> {
        self.parts.received_param
    }

    pub fn maddr(&self) -> Option<&'a [u8]> {
        self.parts.maddr.map(|s| s.of(self.buf))
    }

    pub fn ttl(&self) -> Option<&'a [u8]> {
        self.parts.ttl.map(|s| s.of(self.buf))
    }

    /// All parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.buf, self.parts.params)
    }

    pub fn params_slice(&self) -> Slice {
        self.parts.params
    }

    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.params().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
}

/// Every Via value of a message, in order.
#[derive(Clone, Debug)]
pub struct ViaIter<'a> {
    buf: &'a [u8],
    headers: &'a [Header],
    index: usize,
    /// Position inside the current header's value; `None` when a new header starts.
    pos: Option<usize>,
}

impl<'a> ViaIter<'a> {
    pub(crate) fn new(buf: &'a [u8], headers: &'a [Header]) -> Self {
        ViaIter { buf, headers, index: 0, pos: None }
    }

    /// Where the iterator stands, to start again from there with [`ViaIter::resume`].
    pub(crate) fn state(&self) -> (usize, Option<usize>) {
        (self.index, self.pos)
    }

    pub(crate) fn resume(buf: &'a [u8], headers: &'a [Header], (index, pos): (usize, Option<usize>)) -> Self {
        ViaIter { buf, headers, index, pos }
    }
}

impl<'a> Iterator for ViaIter<'a> {
    type Item = Result<Via<'a>, HeaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let header = self.headers.get(self.index)?;
            if header.name != HeaderName::Via {
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
                return Some(Err(HeaderError::new(HeaderErrorKind::BadVia, start)));
            };
            let value_start = skip_lws(self.buf, start, comma);
            let value_end = trim_lws_end(self.buf, value_start, comma);
            let more = comma < end;
            self.pos = Some(if more { comma + 1 } else { end + 1 });
            if value_start == value_end {
                return Some(Err(HeaderError::new(HeaderErrorKind::BadVia, start)));
            }
            let parsed = ViaParts::parse(self.buf, self.index as u16, value_start, value_end).map(|mut parts| {
                parts.first_in_line = first;
                parts.more_in_line = more && self.buf[comma + 1..end].iter().any(|&c| !is_lws(c));
                Via::new(self.buf, parts)
            });
            return Some(parsed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via(text: &str) -> Via<'_> {
        Via::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn parts_of_a_via() {
        let v = via("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport;received=10.0.0.9");
        assert_eq!(v.transport(), Transport::Udp);
        assert_eq!(v.host(), b"10.0.0.5");
        assert_eq!(v.port(), Some(5060));
        assert_eq!(v.branch(), Some(&b"z9hG4bKa"[..]));
        assert_eq!(v.rport(), Rport::Requested);
        assert_eq!(v.received(), Some(&b"10.0.0.9"[..]));
        let v = via("SIP/2.0/TCP [2001:db8::1];rport=5062");
        assert_eq!((v.host(), v.port(), v.rport()), (&b"[2001:db8::1]"[..], None, Rport::Value(b"5062")));
    }

    #[test]
    fn whitespace_everywhere() {
        let v = via("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw");
        assert_eq!((v.protocol(), v.version(), v.transport_text()), (&b"SIP"[..], &b"2.0"[..], &b"UDP"[..]));
        assert_eq!(v.host(), b"192.0.2.2");
        let v = via("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8");
        assert_eq!(v.branch(), Some(&b"z9hG4bK9ikj8"[..]));
    }

    #[test]
    fn unknown_transport_is_kept() {
        let v = via("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en");
        assert_eq!((v.transport(), v.transport_text()), (Transport::Other, &b"UNKNOWN"[..]));
    }

    #[test]
    fn malformed() {
        for text in [
            "",
            "SIP/2.0/UDP",
            "SIP/2.0 UDP host",
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/2.0/UDP h:70000",
            "SIP/2.0/UDP h x",
        ] {
            assert!(Via::parse(text.as_bytes()).is_err(), "{text}");
        }
    }
}
