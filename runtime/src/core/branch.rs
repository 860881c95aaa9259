//! The stateless Via branch (sip-behaviour.md §1.2): a value recomputed from the request, so a
//! retransmission, and the ACK or CANCEL of an INVITE, get exactly the INVITE's branch.
//!
//! `z9hG4bK` + RH(hash) + `.` + MD5HEX + `.` + RH(index), where RH writes a number in
//! lowercase hex, least significant nibble first.

use md5::{Digest, Md5};

use crate::sip::{Message, Method};

/// Appends `value` in reverse hex (least significant nibble first, "0" for 0).
pub fn push_reverse_hex(out: &mut Vec<u8>, mut value: u32) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    if value == 0 {
        out.push(b'0');
        return;
    }
    while value != 0 {
        out.push(DIGITS[(value & 0xf) as usize]);
        value >>= 4;
    }
}

/// A 16-bit hash of Call-ID and CSeq number (Kamailio uses it to pick the transaction table
/// bucket; any deterministic function interoperates).
pub fn call_hash(call_id: &[u8], cseq_number: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &b in call_id.iter().chain(cseq_number) {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash ^ (hash >> 16)) & 0xffff
}

/// 32 lowercase hex characters of the MD5 of the request's transaction key parts.
pub fn request_digest<'m>(msg: &'m Message) -> [u8; 32] {
    let mut parts: [&'m [u8]; 8] = [b""; 8];
    let mut count = 0;
    let mut add = |part: Option<&'m [u8]>| {
        parts[count] = part.unwrap_or_default().trim_ascii();
        count += 1;
    };
    add(msg.from().ok().and_then(|f| f.tag()));
    // The To-tag is left out for INVITE, ACK and CANCEL so they share the branch.
    match msg.method() {
        Method::Invite | Method::Ack | Method::Cancel => {}
        _ => add(msg.to().ok().and_then(|t| t.tag())),
    }
    add(msg.call_id().ok());
    add(msg.ruri_slice().map(|s| msg.get(s)));
    add(msg.cseq().ok().map(|c| c.number_text()));
    if let Ok(via) = msg.top_via() {
        add(Some(via.host()));
        add(via.port_text());
        if let Some(branch) = via.branch() {
            add(Some(branch));
        }
    }
    let digest = md5_of(&parts[..count]);
    let mut hex = [0u8; 32];
    for (i, byte) in digest.iter().enumerate() {
        hex[2 * i] = b"0123456789abcdef"[(byte >> 4) as usize];
        hex[2 * i + 1] = b"0123456789abcdef"[(byte & 0xf) as usize];
    }
    hex
}

/// The MD5 of `parts` joined.
fn md5_of(parts: &[&[u8]]) -> [u8; 16] {
    super::key_parts::hash_joined::<512, _>(
        parts,
        |joined| Md5::digest(joined).into(),
        |parts| {
            let mut md5 = Md5::new();
            parts.iter().for_each(|part| md5.update(part));
            md5.finalize().into()
        },
    )
}

/// The bucket hash of a request (Call-ID and CSeq number).
pub fn request_hash(msg: &Message) -> u32 {
    let call_id = msg.call_id().unwrap_or_default();
    let cseq = msg.cseq().map(|c| c.number_text()).unwrap_or_default();
    call_hash(call_id, cseq)
}

/// `z9hG4bK<RH(hash)>.<md5>.<RH(index)>`.
pub fn branch_value(hash: u32, md5: &[u8; 32], index: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"z9hG4bK");
    push_reverse_hex(&mut out, hash);
    out.push(b'.');
    out.extend_from_slice(md5);
    out.push(b'.');
    push_reverse_hex(&mut out, index);
    out
}

/// The parts of a branch made by [`branch_value`]: (hash, md5, index).
pub fn parse_branch(branch: &[u8]) -> Option<(u32, [u8; 32], u32)> {
    let rest = branch.strip_prefix(b"z9hG4bK")?;
    let mut parts = rest.split(|&b| b == b'.');
    let hash = parse_reverse_hex(parts.next()?)?;
    let md5: [u8; 32] = parts.next()?.try_into().ok()?;
    let index = parse_reverse_hex(parts.next()?)?;
    if parts.next().is_some() || hash > 0xffff {
        return None;
    }
    Some((hash, md5, index))
}

/// Reads what [`push_reverse_hex`] writes.
fn parse_reverse_hex(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 8 {
        return None;
    }
    let mut value: u32 = 0;
    for (i, &c) in text.iter().enumerate() {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        value |= u32::from(digit) << (4 * i);
    }
    Some(value)
}

/// The branch for forwarding `msg` as branch number `index`.
pub fn stateless_branch(msg: &Message, index: u32) -> Vec<u8> {
    branch_value(request_hash(msg), &request_digest(msg), index)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn msg(text: &'static [u8]) -> Message {
        Message::parse(Bytes::from_static(text)).expect("parses")
    }

    #[test]
    fn branches_parse_back() {
        let md5 = *b"0123456789abcdef0123456789abcdef";
        for (hash, index) in [(0, 0), (0xffff, 11), (0x1a2, 3)] {
            let branch = branch_value(hash, &md5, index);
            assert_eq!(parse_branch(&branch), Some((hash, md5, index)));
        }
        assert_eq!(parse_branch(b"z9hG4bKclient"), None);
        assert_eq!(parse_branch(b"z9hG4bK1.short.0"), None);
        assert_eq!(parse_branch(b"z9hG4bK00001.0123456789abcdef0123456789abcdef.0"), None);
    }

    #[test]
    fn reverse_hex() {
        let mut out = Vec::new();
        push_reverse_hex(&mut out, 0x1a2);
        assert_eq!(out, b"2a1");
        out.clear();
        push_reverse_hex(&mut out, 0);
        assert_eq!(out, b"0");
    }

    fn hex_md5(text: &[u8]) -> [u8; 32] {
        let mut hex = [0u8; 32];
        for (i, byte) in Md5::digest(text).iter().enumerate() {
            hex[2 * i..2 * i + 2].copy_from_slice(format!("{byte:02x}").as_bytes());
        }
        hex
    }

    #[test]
    fn the_digest_hashes_the_key_parts_joined_in_order() {
        // From-tag, To-tag, Call-ID, R-URI, CSeq number, Via host, port, branch.
        let options = msg(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=f1\r\nTo: <sip:a@b>;tag=t2\r\nCall-ID: c1\r\nCSeq: 3 OPTIONS\r\n\r\n");
        assert_eq!(request_digest(&options), hex_md5(b"f1t2c1sip:a@b310.0.0.55062z9hG4bK1"));
        // INVITE leaves the To-tag out; no port, no branch: nothing for them.
        let invite = msg(b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5\r\nFrom: <sip:x@y>;tag=f1\r\nTo: <sip:a@b>;tag=t2\r\nCall-ID: c1\r\nCSeq: 3 INVITE\r\n\r\n");
        assert_eq!(request_digest(&invite), hex_md5(b"f1c1sip:a@b310.0.0.5"));
    }

    #[test]
    fn parts_longer_than_the_stack_buffer_hash_the_same() {
        let long = [b'x'; 700];
        let parts: [&[u8]; 3] = [b"a", &long, b"b"];
        let mut joined = b"a".to_vec();
        joined.extend_from_slice(&long);
        joined.push(b'b');
        assert_eq!(md5_of(&parts), <[u8; 16]>::from(Md5::digest(&joined)));
        assert_eq!(md5_of(&[b"a", b"b"]), <[u8; 16]>::from(Md5::digest(b"ab")));
    }

    #[test]
    fn invite_ack_and_cancel_share_a_branch_retransmissions_too() {
        let invite = msg(b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 7 INVITE\r\n\r\n");
        let ack = msg(b"ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=9\r\nCall-ID: c\r\nCSeq: 7 ACK\r\n\r\n");
        let other = msg(b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKb\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 7 INVITE\r\n\r\n");
        let branch = stateless_branch(&invite, 0);
        assert!(branch.starts_with(b"z9hG4bK"));
        assert!(branch.ends_with(b".0"));
        assert_eq!(branch, stateless_branch(&invite, 0));
        assert_eq!(branch, stateless_branch(&ack, 0));
        assert_ne!(branch, stateless_branch(&other, 0));
        assert_ne!(branch, stateless_branch(&invite, 1));
    }
}
