//! Keyword operands: `method`, `uri`, `status`, `from_uri`, `to_uri`, `src_ip`, `dst_ip`,
//! `src_port`, `dst_port`, `proto`, `af`, `msg:len`, and `myself`.
//!
//! String comparisons on keywords ignore case (`method == "invite"` is true), unlike the same
//! comparison on a pseudo-variable.

use std::net::IpAddr;

use crate::context::{Ctx, RouteKind};
use crate::sip::{Transport, Uri};
use crate::transport::Io;

/// An address with a prefix length: `10.0.0.0/8`, `192.0.2.1` (/32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub const fn v4(octets: [u8; 4], prefix: u8) -> IpNet {
        IpNet { addr: IpAddr::V4(std::net::Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3])), prefix }
    }

    pub const fn v6(segments: [u16; 8], prefix: u8) -> IpNet {
        let [a, b, c, d, e, f, g, h] = segments;
        IpNet { addr: IpAddr::V6(std::net::Ipv6Addr::new(a, b, c, d, e, f, g, h)), prefix }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix.min(32))).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix.min(128))).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The method (request line, or CSeq for a reply) equals `text`, ignoring case.
pub fn method_is<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, text: &[u8]) -> bool {
    cx.msg.method_text().eq_ignore_ascii_case(text)
}

pub fn method<'c, K: RouteKind, S, W>(cx: &'c Ctx<'_, K, S, W>) -> &'c [u8] {
    cx.msg.method_text()
}

/// The current R-URI (as rewritten), or a reply's status code for `status`.
pub fn uri<'c, K: RouteKind, S, W>(cx: &'c Ctx<'_, K, S, W>) -> &'c [u8] {
    cx.current_uri()
}

pub fn status<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> Vec<u8> {
    cx.msg.status().map(|c| c.to_string().into_bytes()).unwrap_or_default()
}

pub fn from_uri<'c, K: RouteKind, S, W>(cx: &'c Ctx<'_, K, S, W>) -> &'c [u8] {
    cx.msg.from().map(|f| f.uri_bytes()).unwrap_or_default()
}

pub fn to_uri<'c, K: RouteKind, S, W>(cx: &'c Ctx<'_, K, S, W>) -> &'c [u8] {
    cx.msg.to().map(|t| t.uri_bytes()).unwrap_or_default()
}

/// Case-insensitive equality of keyword strings.
pub fn text_eq(left: &[u8], right: &[u8]) -> bool {
    left.eq_ignore_ascii_case(right)
}

pub fn src_ip<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> IpAddr {
    cx.env.src.ip()
}

pub fn dst_ip<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> IpAddr {
    cx.env.local.ip()
}

pub fn src_port<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> i64 {
    i64::from(cx.env.src.port())
}

pub fn dst_port<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> i64 {
    i64::from(cx.env.local.port())
}

pub fn proto_is<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>, proto: Transport) -> bool {
    cx.env.proto == proto
}

/// `af`: 2 for IPv4 (AF_INET), 10 for IPv6 (AF_INET6), as Kamailio compares it.
pub fn af<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> i64 {
    if cx.env.src.is_ipv4() { 2 } else { 10 }
}

pub fn msg_len<K: RouteKind, S, W>(cx: &Ctx<'_, K, S, W>) -> i64 {
    cx.msg.as_bytes().len() as i64
}

/// An IP written as text (a `$si`-like value or a host) equals `ip`.
pub fn ip_text_is(text: &[u8], ip: IpAddr) -> bool {
    let text = text.trim_ascii();
    if let IpAddr::V4(v4) = ip {
        // Every reply and relayed request asks this of its Via host: no str parsing for IPv4.
        return dotted_quad_is(text, v4);
    }
    let bare = text.strip_prefix(b"[").and_then(|t| t.strip_suffix(b"]")).unwrap_or(text);
    std::str::from_utf8(bare).ok().and_then(|t| t.parse::<IpAddr>().ok()) == Some(ip)
}

/// `text` is `ip` in dotted-quad form.
fn dotted_quad_is(text: &[u8], ip: std::net::Ipv4Addr) -> bool {
    parse_dotted_quad(text) == Some(ip)
}

/// An IPv4 address in dotted-quad form, read as `Ipv4Addr`'s parser reads it (one to three
/// digits per octet, no leading zero) without going through `str`.
pub fn parse_dotted_quad(text: &[u8]) -> Option<std::net::Ipv4Addr> {
    // One pass over at most 15 bytes: an address is compared for every local reply.
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut value: u16 = 0;
    let mut digits = 0;
    for &c in text {
        match c {
            b'0'..=b'9' => {
                // No leading zero, at most three digits.
                if digits == 3 || (digits == 1 && value == 0) {
                    return None;
                }
                value = value * 10 + u16::from(c - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && index < 3 => {
                octets[index] = u8::try_from(value).ok()?;
                index += 1;
                value = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if index != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(std::net::Ipv4Addr::from(octets))
}

/// Whether `host[:port]` names this proxy: one of its listen addresses or aliases (a missing
/// port means 5060), as Kamailio's `check_self`.
pub fn is_myself(io: &Io, host: &[u8], port: Option<u16>) -> bool {
    let port = port.unwrap_or(5060);
    let globals = io.globals();
    let listens = globals.listen_addrs().any(|addr| addr.port() == port && ip_text_is(host, addr.ip()));
    listens
        || globals.config.aliases.iter().any(|(alias, alias_port)| {
            alias.as_bytes().eq_ignore_ascii_case(host) && alias_port.is_none_or(|p| p == port)
        })
}

/// `uri == myself` (also `from_uri`, `to_uri` with their URIs).
pub fn uri_is_myself(io: &Io, uri: &[u8]) -> bool {
    match Uri::parse(uri) {
        Ok(uri) => is_myself(io, uri.host(), uri.port()),
        Err(_) => false,
    }
}

/// `src_ip == myself`.
pub fn ip_is_myself(io: &Io, ip: IpAddr) -> bool {
    io.globals().listen_addrs().any(|addr| addr.ip() == ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let net = IpNet::v4([10, 0, 0, 0], 8);
        assert!(net.contains("10.200.1.1".parse().expect("ip")));
        assert!(!net.contains("11.0.0.1".parse().expect("ip")));
        assert!(IpNet::v4([192, 0, 2, 1], 32).contains("192.0.2.1".parse().expect("ip")));
        assert!(IpNet::v4([0, 0, 0, 0], 0).contains("8.8.8.8".parse().expect("ip")));
        assert!(IpNet::v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32).contains("2001:db8::1".parse().expect("ip")));
    }

    #[test]
    fn ip_text() {
        let ip: IpAddr = "::1".parse().expect("ip");
        assert!(ip_text_is(b"[::1]", ip));
        assert!(ip_text_is(b"::1", ip));
        assert!(!ip_text_is(b"host.example", ip));
        let v4: IpAddr = "10.0.0.5".parse().expect("ip");
        assert!(ip_text_is(b" 10.0.0.5 ", v4));
        for other in
            [&b"10.0.0.50"[..], b"10.0.0", b"10.0.0.5.1", b"10.0.00.5", b"10.0.0.05", b"10..0.5", b"[10.0.0.5]"]
        {
            assert!(!ip_text_is(other, v4), "{}", String::from_utf8_lossy(other));
        }
    }

    proptest::proptest! {
        #[test]
        fn dotted_quads_read_as_the_std_parser_reads_them(text in "[0-9.]{0,16}", octets: [u8; 4]) {
            let ip = std::net::Ipv4Addr::from(octets);
            proptest::prop_assert_eq!(dotted_quad_is(text.as_bytes(), ip), text.parse() == Ok(ip));
            proptest::prop_assert_eq!(parse_dotted_quad(text.as_bytes()), text.parse().ok());
            let written = ip.to_string();
            proptest::prop_assert!(dotted_quad_is(written.as_bytes(), ip));
        }
    }
}
