//! Any bytes: parse as a datagram and as a stream; every view of a parsed message, the
//! writer, and a reparse of what was written.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use sipcfg_runtime::sip::{Limits, Message, frame_stream};

fuzz_target!(|data: &[u8]| {
    let _ = frame_stream(data, &Limits::default());
    let Ok(msg) = Message::parse(Bytes::copy_from_slice(data)) else { return };
    let _ = msg.ruri().map(|u| (u.user(), u.host(), u.port(), u.params().count(), u.headers()));
    for via in msg.vias() {
        let _ = via.map(|v| (v.branch(), v.received(), v.rport(), v.port(), v.params().count()));
    }
    for contact in msg.contacts().chain(msg.routes()).chain(msg.record_routes()).flatten() {
        if let Some(addr) = contact.address() {
            let _ = (addr.tag(), addr.display_name(), addr.uri().map(|u| u.params().count()));
        }
    }
    let _ = (msg.from().map(|f| f.tag()), msg.to().map(|t| t.uri().is_ok()), msg.cseq().map(|c| c.number()));
    let _ = (msg.call_id(), msg.max_forwards(), msg.expires(), msg.content_type(), msg.top_via().map(|v| v.host()));
    let mut out = BytesMut::new();
    msg.write_to(&mut out);
    assert_eq!(&out[..], &data[..msg.body_slice().end as usize], "write with no edits is the identity");
    assert!(Message::parse(out.freeze()).is_ok(), "what was written parses again");
});
