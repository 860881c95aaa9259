//! A message followed by edit instructions: the edits are applied and written; the writer
//! must never panic, and a message given only proxy-like edits must parse again.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use sipcfg_runtime::sip::{HeaderName, Message, ParseErrorKind, Slice};

fuzz_target!(|data: &[u8]| {
    // Layout: [n_ops, ops..., message]; each op is 3 bytes: kind, offset, length.
    let Some((&count, rest)) = data.split_first() else { return };
    let ops_len = (count as usize % 8) * 3;
    if rest.len() < ops_len {
        return;
    }
    let (ops, message) = rest.split_at(ops_len);
    let Ok(mut msg) = Message::parse(Bytes::copy_from_slice(message)) else { return };
    let len = msg.as_bytes().len().max(1) as u32;
    let mut proxy_like = true;
    for op in ops.chunks(3) {
        let (kind, at, size) = (op[0] % 7, u32::from(op[1]) * len / 256, u32::from(op[2]));
        match kind {
            0 => msg.push_via(b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-fuzz"),
            1 => msg.append_header(b"X-Fuzz: 1\r\n"),
            2 => {
                let _ = msg.set_ruri(b"sip:fuzz@127.0.0.2");
            }
            3 => {
                if let Some(index) = msg.headers().iter().position(|h| h.name == HeaderName::Route) {
                    msg.remove_header(index);
                }
            }
            4 => msg.set_body(&vec![b'x'; size as usize]),
            5 => {
                proxy_like = false;
                msg.replace(Slice { start: at, end: (at + size).min(len) }, b"??");
            }
            _ => {
                let _ = msg.remove_top_via();
            }
        }
    }
    let mut out = BytesMut::new();
    msg.write_to(&mut out);
    if proxy_like {
        // Proxy-like edits keep the message parseable, unless one more header or byte
        // crosses a size limit.
        if let Err(e) = Message::parse(out.freeze()) {
            let limit = matches!(e.kind, ParseErrorKind::TooManyHeaders | ParseErrorKind::TooLarge | ParseErrorKind::LineTooLong);
            assert!(limit, "proxy-like edits made the message unparseable: {e}");
        }
    }
});
