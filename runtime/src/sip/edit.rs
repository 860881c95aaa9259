//! The edit list (Kamailio's "lumps"): changes anchored to offsets of the received buffer,
//! applied in one sorted pass when the message is written.
//!
//! Rules, pinned by tests:
//! * Reads never see edits: every view shows the message as received.
//! * Inserts at the same offset come out in the order they were made, before any
//!   replacement or deletion that starts there.
//! * A replacement or deletion that overlaps an earlier one (in offset order) only covers what
//!   is left of it; an insert strictly inside a deleted range is dropped with it.
//! * When the body was replaced, Content-Length is rewritten (or added) to match.

use bytes::BytesMut;
use smallvec::SmallVec;

use super::Slice;
use super::error::HeaderError;
use super::message::Message;
use super::name::HeaderName;
use super::name_addr::ValuePlace;
use super::scan::{is_lws, skip_lws};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Op {
    /// Original range replaced; `start == end` for an insert.
    start: u32,
    end: u32,
    /// The new bytes, in the arena.
    data: Slice,
}

/// The edits recorded on a message.
#[derive(Clone, Debug, Default)]
pub struct Edits {
    ops: SmallVec<[Op; 8]>,
    /// The bytes of every edit; inline for the usual one or two header lines.
    arena: SmallVec<[u8; 192]>,
    /// A replacement body (in the arena).
    new_body: Option<Slice>,
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.new_body.is_none()
    }

    pub fn len(&self) -> usize {
        self.ops.len() + usize::from(self.new_body.is_some())
    }

    fn store(&mut self, bytes: &[u8]) -> Slice {
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        Slice::new(start, self.arena.len())
    }

    pub(crate) fn push(&mut self, start: u32, end: u32, bytes: &[u8]) {
        let data = self.store(bytes);
        self.ops.push(Op { start, end, data });
    }

    /// Applies the edits to `msg` into `out`, with `extra` one-shot edits (start, end, bytes)
    /// after the recorded ones (so at equal offsets they come after them).
    pub(crate) fn apply(&self, msg: &Message, extra: &[(u32, u32, &[u8])], out: &mut BytesMut) {
        let buf = msg.as_bytes();
        let body = msg.body_slice();
        let body_end = body.end as usize;
        if self.is_empty() && extra.is_empty() {
            out.extend_from_slice(&buf[..body_end]);
            return;
        }
        // With a new body, edits stop where the old body starts and the new one follows.
        let limit = if self.new_body.is_some() { body.start as usize } else { body_end };
        let mut digits = itoa::Buffer::new();
        let mut length_line = SmallVec::<[u8; 32]>::new();
        let mut ops: SmallVec<[(u32, u32, &[u8]); 12]> =
            self.ops.iter().map(|op| (op.start, op.end, op.data.of(&self.arena))).collect();
        ops.extend(extra.iter().copied());
        if let Some(new_body) = self.new_body {
            // Content-Length follows the new body: rewritten in place, or added last.
            let text = digits.format(new_body.len()).as_bytes();
            let mut rewritten = false;
            // Every Content-Length line, or a repeated one would contradict the new value.
            for header in msg.headers_named(HeaderName::ContentLength) {
                ops.push((header.value.start, header.value.end, text));
                rewritten = true;
            }
            match rewritten {
                true => {}
                false => {
                    length_line.extend_from_slice(b"Content-Length: ");
                    length_line.extend_from_slice(text);
                    length_line.extend_from_slice(b"\r\n");
                    ops.push((msg.headers_end(), msg.headers_end(), &length_line));
                }
            }
        }
        // Stable sort: equal keys keep the order the edits were made in.
        ops.sort_by_key(|&(start, end, _)| (start, u8::from(end > start)));
        let extra_len: usize = ops.iter().map(|(_, _, d)| d.len()).sum();
        out.reserve(body_end + extra_len + self.new_body.map_or(0, |b| b.len()) + 2);
        let mut cursor = 0usize;
        for (start, end, data) in ops {
            let (start, end) = ((start as usize).min(limit), (end as usize).min(limit));
            if start < cursor {
                // Inside something already replaced: an insert goes with it, a replacement
                // keeps only its part beyond.
                if start == end || end <= cursor {
                    continue;
                }
                out.extend_from_slice(data);
                cursor = end;
                continue;
            }
            out.extend_from_slice(&buf[cursor..start]);
            out.extend_from_slice(data);
            cursor = end.max(start);
        }
        if cursor < limit {
            out.extend_from_slice(&buf[cursor..limit]);
        }
        if let Some(new_body) = self.new_body {
            if msg.headers_end() == body.start {
                // The datagram ended without the empty line after the headers; a body needs it.
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(new_body.of(&self.arena));
        }
    }
}

impl Message {
    /// Inserts `bytes` before original offset `at`.
    pub fn insert(&mut self, at: u32, bytes: &[u8]) {
        self.edits.push(at, at, bytes);
    }

    /// Removes an original range.
    pub fn delete(&mut self, range: Slice) {
        self.edits.push(range.start, range.end, &[]);
    }

    /// Replaces an original range.
    pub fn replace(&mut self, range: Slice, bytes: &[u8]) {
        self.edits.push(range.start, range.end, bytes);
    }

    /// Rewrites the Request-URI (requests only).
    pub fn set_ruri(&mut self, uri: &[u8]) -> Result<(), HeaderError> {
        let slice = self.ruri_slice().ok_or_else(HeaderError::missing)?;
        self.replace(slice, uri);
        Ok(())
    }

    /// Adds a header line (with its CRLF) after the last header.
    pub fn append_header(&mut self, line: &[u8]) {
        let at = self.headers_end();
        self.insert(at, line);
    }

    /// Adds a header line (with its CRLF) before the first header.
    pub fn prepend_header(&mut self, line: &[u8]) {
        let at = self.headers().first().map_or(self.headers_end(), |h| h.line.start);
        self.insert(at, line);
    }

    /// Adds a header line (with its CRLF) before header `index`.
    pub fn insert_header_before(&mut self, index: usize, line: &[u8]) {
        let at = self.headers().get(index).map_or(self.headers_end(), |h| h.line.start);
        self.insert(at, line);
    }

    /// Adds `Via: <value>` above the first Via (or at the top when there is none).
    pub fn push_via(&mut self, value: &[u8]) {
        let at = self.header(HeaderName::Via).or(self.headers().first()).map_or(self.headers_end(), |h| h.line.start);
        let mut line = SmallVec::<[u8; 128]>::new();
        line.extend_from_slice(b"Via: ");
        line.extend_from_slice(value);
        line.extend_from_slice(b"\r\n");
        self.insert(at, &line);
    }

    /// Removes header line `index` (folded continuation lines included).
    pub fn remove_header(&mut self, index: usize) {
        if let Some(line) = self.headers().get(index).map(|h| h.line) {
            self.delete(line);
        }
    }

    /// Removes every header with this name; returns how many lines went.
    pub fn remove_headers(&mut self, name: HeaderName) -> usize {
        let lines: SmallVec<[Slice; 8]> = self.headers_named(name).map(|h| h.line).collect();
        for line in &lines {
            self.delete(*line);
        }
        lines.len()
    }

    /// Removes one value of a comma-separated header line; the whole line when it was the
    /// only value. `value` is the value's range and `place` where it sits.
    pub fn remove_value(&mut self, value: Slice, place: ValuePlace) {
        if place.first_in_line && !place.more_in_line {
            self.remove_header(place.header);
            return;
        }
        let buf = self.as_bytes();
        let Some(header) = self.headers().get(place.header).copied() else { return };
        let range = if place.more_in_line {
            // `a, b` → `b`: drop the value, its comma and the blanks after it.
            let comma = buf[value.end as usize..header.value.end as usize].iter().position(|&c| c == b',');
            let after = comma.map_or(value.end as usize, |c| value.end as usize + c + 1);
            Slice::new(value.start as usize, skip_lws(buf, after, header.value.end as usize))
        } else {
            // `a, b` → `a`: drop the comma before the value and the blanks around it.
            let before = buf[header.value.start as usize..value.start as usize].iter().rposition(|&c| c == b',');
            let mut start = before.map_or(value.start as usize, |c| header.value.start as usize + c);
            while start > header.value.start as usize && is_lws(buf[start - 1]) {
                start -= 1;
            }
            Slice::new(start, value.end as usize)
        };
        self.delete(range);
    }

    /// Removes the topmost Via value (for relaying a reply).
    pub fn remove_top_via(&mut self) -> Result<(), HeaderError> {
        let via = self.top_via()?;
        let (slice, header) = (via.slice(), via.header_index());
        // The top Via is always the first value of its line.
        let place = ValuePlace { header, first_in_line: true, more_in_line: via.shares_line() };
        self.remove_value(slice, place);
        Ok(())
    }

    /// Replaces the body; Content-Length follows when written.
    pub fn set_body(&mut self, body: &[u8]) {
        let stored = self.edits.store(body);
        self.edits.new_body = Some(stored);
    }

    /// Forgets every edit.
    pub fn clear_edits(&mut self) {
        self.edits = Edits::default();
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::*;

    const REQUEST: &[u8] = b"INVITE sip:bob@b.example SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa\r\n\
Route: <sip:proxy.example;lr>\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@a.example>;tag=1\r\n\
To: <sip:bob@b.example>\r\n\
Call-ID: c1\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 4\r\n\
\r\n\
body";

    fn msg() -> Message {
        Message::parse(Bytes::from_static(REQUEST)).expect("parses")
    }

    fn written(msg: &Message) -> String {
        let mut out = BytesMut::new();
        msg.write_to(&mut out);
        String::from_utf8(out.to_vec()).expect("utf-8")
    }

    #[test]
    fn no_edits_is_identity() {
        assert_eq!(written(&msg()).as_bytes(), REQUEST);
    }

    #[test]
    fn via_on_top_route_removed_ruri_rewritten_header_appended() {
        let mut m = msg();
        m.push_via(b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew");
        let route = m.header(HeaderName::Route).map(|h| h.line).expect("route");
        m.delete(route);
        m.set_ruri(b"sip:bob@10.0.0.9:5080").expect("request");
        m.append_header(b"X-Seen: yes\r\n");
        let expected = "INVITE sip:bob@10.0.0.9:5080 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@a.example>;tag=1\r\n\
To: <sip:bob@b.example>\r\n\
Call-ID: c1\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 4\r\n\
X-Seen: yes\r\n\
\r\n\
body";
        assert_eq!(written(&m), expected);
        // Reads still see the message as received.
        assert_eq!(m.ruri().map(|u| u.host()), Ok(&b"b.example"[..]));
        assert_eq!(m.header_count(HeaderName::Route), 1);
    }

    #[test]
    fn inserts_at_one_offset_keep_call_order() {
        let mut m = msg();
        m.prepend_header(b"Record-Route: <sip:192.0.2.1;lr>\r\n");
        m.push_via(b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnew");
        let out = written(&m);
        let rr = out.find("Record-Route").expect("rr");
        let ours = out.find("branch=z9hG4bKnew").expect("via");
        let theirs = out.find("branch=z9hG4bKa").expect("their via");
        assert!(rr < ours && ours < theirs, "{out}");
    }

    #[test]
    fn body_change_rewrites_content_length() {
        let mut m = msg();
        m.set_body(b"a longer body");
        assert!(written(&m).ends_with("Content-Length: 13\r\n\r\na longer body"));
        let mut m =
            Message::parse(Bytes::from_static(b"MESSAGE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\nold")).expect("ok");
        m.set_body(b"new!");
        assert_eq!(written(&m), "MESSAGE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 4\r\n\r\nnew!");
    }

    #[test]
    fn new_body_after_headers_even_without_the_empty_line() {
        let mut m = Message::parse(Bytes::from_static(b"E sip:a SIP/2.0\n")).expect("ok");
        m.set_body(b"xyz");
        m.append_header(b"X-Fuzz: 1\r\n");
        let out = written(&m);
        assert_eq!(out, "E sip:a SIP/2.0\nX-Fuzz: 1\r\nContent-Length: 3\r\n\r\nxyz");
        assert!(Message::parse(Bytes::from(out)).is_ok());
    }

    #[test]
    fn every_content_length_follows_a_new_body() {
        let text = b"MESSAGE sip:a@b SIP/2.0\r\nl: 0\r\nContent-Length: 0\r\n\r\n";
        let mut m = Message::parse(Bytes::from_static(text)).expect("ok");
        m.set_body(b"four");
        let out = written(&m);
        assert_eq!(out, "MESSAGE sip:a@b SIP/2.0\r\nl: 4\r\nContent-Length: 4\r\n\r\nfour");
        assert!(Message::parse(Bytes::from(out)).is_ok());
    }

    #[test]
    fn overlapping_edits() {
        let mut m = msg();
        let from = m.header(HeaderName::From).map(|h| h.line).expect("from");
        m.delete(from);
        // An insert strictly inside the deleted line goes with it; one at its start stays.
        m.insert(from.start + 3, b"LOST");
        m.insert(from.start, b"X-Before: 1\r\n");
        let out = written(&m);
        assert!(!out.contains("LOST") && !out.contains("From:"), "{out}");
        assert!(out.contains("X-Before: 1\r\nTo:"), "{out}");
    }

    #[test]
    fn top_via_removal_in_shared_and_single_lines() {
        let shared = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\nCall-ID: x\r\n\r\n";
        let mut m = Message::parse(Bytes::from_static(shared)).expect("ok");
        m.remove_top_via().expect("via");
        assert_eq!(written(&m), "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP b;branch=z9hG4bK2\r\nCall-ID: x\r\n\r\n");
        let single = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\nVia: SIP/2.0/UDP b\r\nCall-ID: x\r\n\r\n";
        let mut m = Message::parse(Bytes::from_static(single)).expect("ok");
        m.remove_top_via().expect("via");
        assert_eq!(written(&m), "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP b\r\nCall-ID: x\r\n\r\n");
    }

    #[test]
    fn removing_the_last_value_of_a_line() {
        let text = b"OPTIONS sip:a@b SIP/2.0\r\nRoute: <sip:one;lr>, <sip:two;lr>\r\n\r\n";
        let mut m = Message::parse(Bytes::from_static(text)).expect("ok");
        let second = m.routes().nth(1).expect("two").expect("parses");
        let super::super::Contact::Address(addr, place) = second else { panic!("an address") };
        m.remove_value(addr.slice(), place);
        assert_eq!(written(&m), "OPTIONS sip:a@b SIP/2.0\r\nRoute: <sip:one;lr>\r\n\r\n");
    }
}
