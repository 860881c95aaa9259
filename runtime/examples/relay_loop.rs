//! Runs the relay path of the `sip_parse` benchmark N times (default 10000), for instruction
//! counts: `valgrind --tool=callgrind target/release/examples/relay_loop 10000`.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use sipcfg_runtime::sip::Message;

const INVITE: &[u8] = include_bytes!("../benches/data/invite.sip");

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let input = Bytes::from_static(INVITE);
    let mut out = BytesMut::with_capacity(2048);
    let mut total = 0;
    for _ in 0..rounds {
        let Ok(mut msg) = Message::parse(black_box(&input).clone()) else { continue };
        if let Ok(via) = msg.top_via() {
            black_box(via.branch());
        }
        black_box(msg.from().map(|f| f.tag()).ok());
        black_box(msg.to().map(|t| t.tag()).ok());
        black_box(msg.cseq().map(|c| c.number()).ok());
        black_box(msg.call_id().ok());
        msg.push_via(b"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK7a9f.d9a1b0c6e2f34a5b8c7d6e5f4a3b2c1d.0");
        out.clear();
        msg.write_to(&mut out);
        total += out.len();
    }
    println!("{total}");
}
