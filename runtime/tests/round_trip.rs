//! Parse then write with no edits gives back the bytes, for the RFC 4475 corpus and for
//! generated messages; edits on corpus messages give pinned bytes (insta snapshots).

use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sipcfg_runtime::sip::{HeaderName, Message};

fn corpus() -> Vec<(String, Bytes)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/rfc4475");
    let mut files: Vec<(String, Bytes)> = std::fs::read_dir(&dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sip"))
        .map(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            (name, Bytes::from(std::fs::read(&p).expect("readable")))
        })
        .collect();
    files.sort();
    files
}

fn write(msg: &Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    msg.write_to(&mut out);
    out.to_vec()
}

#[test]
fn corpus_round_trips_byte_for_byte() {
    let mut checked = 0;
    for (name, bytes) in corpus() {
        let Ok(msg) = Message::parse(bytes.clone()) else { continue };
        let end = msg.body_slice().end as usize;
        assert_eq!(write(&msg), &bytes[..end], "{name}");
        // Only dblreq carries bytes after its Content-Length; they are not part of it.
        assert!(end == bytes.len() || name == "dblreq.sip", "{name} lost {} bytes", bytes.len() - end);
        checked += 1;
    }
    assert!(checked >= 40, "{checked} messages parsed");
}

/// A proxy's usual edits: our Via on top, the first Route consumed, the R-URI rewritten, a
/// header appended.
fn proxy_edits(msg: &mut Message) {
    msg.push_via(b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-sipcfg.0");
    if let Some(index) = msg.headers().iter().position(|h| h.name == HeaderName::Route) {
        msg.remove_header(index);
    }
    if msg.is_request() {
        let _ = msg.set_ruri(b"sip:rewritten@127.0.0.2:5080");
    }
    msg.append_header(b"X-Sipcfg: edited\r\n");
}

#[test]
fn edits_on_corpus_messages() {
    for name in ["wsinv.sip", "esc01.sip", "mpart01.sip", "inv2543.sip", "noreason.sip", "longreq.sip"] {
        let (_, bytes) = corpus().into_iter().find(|(n, _)| n == name).expect("in corpus");
        let mut msg = Message::parse(bytes).expect("parses");
        proxy_edits(&mut msg);
        let out = write(&msg);
        let reparsed = Message::parse(Bytes::from(out.clone())).expect("edited message parses");
        assert_eq!(reparsed.top_via().expect("via").branch(), Some(&b"z9hG4bK-sipcfg.0"[..]), "{name}");
        assert_eq!(reparsed.body(), msg.body(), "{name}: body unchanged");
        // Line ends are shown as `\r` so the snapshot pins them too.
        insta::assert_snapshot!(name, String::from_utf8_lossy(&out).replace("\r\n", "\\r\n"));
    }
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9.!%*_+`'~-]{0,12}"
}

fn header_value() -> impl Strategy<Value = String> {
    // Printable text, sometimes folded over lines.
    ("[ -~]{0,40}", prop::option::of("[ -~]{1,20}")).prop_map(|(first, more)| {
        let first = first.trim().to_string();
        match more {
            Some(more) if !first.is_empty() => format!("{first}\r\n {}", more.trim()),
            _ => first,
        }
    })
}

prop_compose! {
    fn message()(
        request in any::<bool>(),
        method in prop::sample::select(vec!["INVITE", "ACK", "BYE", "OPTIONS", "REGISTER", "MESSAGE", "X-CUSTOM"]),
        user in "[a-z0-9]{1,10}",
        host in "[a-z]{1,10}\\.example\\.(com|org)",
        code in 100u16..700,
        reason in "[A-Za-z ]{0,20}",
        headers in prop::collection::vec((token(), header_value()), 0..12),
        body in prop::collection::vec(any::<u8>(), 0..200),
        with_length in any::<bool>(),
    ) -> Vec<u8> {
        let mut text = if request {
            format!("{method} sip:{user}@{host} SIP/2.0\r\n")
        } else {
            format!("SIP/2.0 {code} {}\r\n", reason.trim())
        };
        text.push_str(&format!("Via: SIP/2.0/UDP {host};branch=z9hG4bK{user}\r\nCall-ID: {user}@{host}\r\nCSeq: 1 {method}\r\n"));
        for (name, value) in headers {
            if HeaderName::from_bytes(name.as_bytes()) == HeaderName::ContentLength {
                continue;
            }
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        let mut bytes = text.into_bytes();
        if with_length || !body.is_empty() {
            bytes.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&body);
        bytes
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn generated_messages_round_trip(bytes in message()) {
        let msg = Message::parse(Bytes::from(bytes.clone())).expect("generated messages are valid");
        prop_assert_eq!(write(&msg), bytes);
    }

    #[test]
    fn edited_messages_reparse(bytes in message()) {
        let mut msg = Message::parse(Bytes::from(bytes)).expect("valid");
        let body = msg.body().to_vec();
        proxy_edits(&mut msg);
        let reparsed = Message::parse(Bytes::from(write(&msg))).expect("edited output parses");
        prop_assert_eq!(reparsed.body(), &body[..]);
        prop_assert_eq!(reparsed.header_count(HeaderName::Via), msg.header_count(HeaderName::Via) + 1);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(msg) = Message::parse(Bytes::from(bytes)) {
            let _ = (msg.ruri().map(|u| u.params().count()), msg.vias().count(), msg.top_via().map(|v| v.branch()));
            let _ = (msg.from().map(|f| f.tag()), msg.to().map(|t| t.uri().is_ok()), msg.cseq().map(|c| c.number()));
            let _ = (msg.contacts().count(), msg.max_forwards(), msg.content_type());
            let reparsed = Message::parse(Bytes::from(write(&msg)));
            prop_assert!(reparsed.is_ok());
        }
    }
}
