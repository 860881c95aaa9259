//! Parse, read Via/From/To/CSeq/Call-ID, insert one Via and serialize: sipcfg's message core
//! against the `rsip` crate, on a typical INVITE with SDP and on a 200 OK, in one run.
//!
//! `cargo bench -p sipcfg-runtime --bench sip_parse`

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use rsip::headers::{ToTypedHeader, UntypedHeader};
use rsip::message::HasHeaders;
use rsip::message::HeadersExt;
use sipcfg_runtime::sip::Message;

fn main() {
    divan::main();
}

const INVITE: &[u8] = include_bytes!("data/invite.sip");
const OK200: &[u8] = include_bytes!("data/ok200.sip");
const OUR_VIA: &str = "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK7a9f.d9a1b0c6e2f34a5b8c7d6e5f4a3b2c1d.0";

/// The work a proxy does on every message it relays.
fn sipcfg_relay(input: &Bytes, out: &mut BytesMut) -> usize {
    let mut msg = Message::parse(input.clone()).expect("parses");
    let via = msg.top_via().expect("via");
    black_box((via.branch(), via.host(), via.port()));
    black_box(msg.from().expect("from").tag());
    black_box(msg.to().expect("to").tag());
    black_box(msg.cseq().expect("cseq").number());
    black_box(msg.call_id().expect("call-id"));
    msg.push_via(OUR_VIA.as_bytes());
    out.clear();
    msg.write_to(out);
    out.len()
}

fn rsip_relay(input: &[u8]) -> usize {
    let mut msg = rsip::SipMessage::try_from(input).expect("parses");
    let via = msg.via_header().expect("via").typed().expect("typed via");
    black_box(via.branch().cloned());
    black_box(msg.from_header().expect("from").tag().expect("from tag"));
    black_box(msg.to_header().expect("to").tag().expect("to tag"));
    black_box(msg.cseq_header().expect("cseq").typed().expect("typed cseq").seq);
    black_box(msg.call_id_header().expect("call-id").value().to_string());
    let headers = msg.headers_mut();
    let mut list: Vec<rsip::Header> = std::mem::take(headers).into();
    list.insert(0, rsip::Header::Via(rsip::headers::Via::new(OUR_VIA)));
    *headers = list.into();
    let out: Vec<u8> = msg.into();
    out.len()
}

#[divan::bench(name = "sipcfg invite")]
fn sipcfg_invite(bencher: divan::Bencher<'_, '_>) {
    let input = Bytes::from_static(INVITE);
    let mut out = BytesMut::with_capacity(2048);
    bencher.bench_local(|| sipcfg_relay(black_box(&input), &mut out));
}

#[divan::bench(name = "rsip invite")]
fn rsip_invite(bencher: divan::Bencher<'_, '_>) {
    bencher.bench_local(|| rsip_relay(black_box(INVITE)));
}

#[divan::bench(name = "sipcfg 200 OK")]
fn sipcfg_ok(bencher: divan::Bencher<'_, '_>) {
    let input = Bytes::from_static(OK200);
    let mut out = BytesMut::with_capacity(2048);
    bencher.bench_local(|| sipcfg_relay(black_box(&input), &mut out));
}

#[divan::bench(name = "rsip 200 OK")]
fn rsip_ok(bencher: divan::Bencher<'_, '_>) {
    bencher.bench_local(|| rsip_relay(black_box(OK200)));
}

/// Parsing and reading alone (the zero-allocation path).
#[divan::bench(name = "sipcfg invite parse+read")]
fn sipcfg_invite_read(bencher: divan::Bencher<'_, '_>) {
    let input = Bytes::from_static(INVITE);
    bencher.bench_local(|| {
        let msg = Message::parse(black_box(&input).clone()).expect("parses");
        black_box(msg.top_via().expect("via").branch());
        black_box(msg.from().expect("from").tag());
        black_box(msg.to().expect("to").tag());
        black_box(msg.cseq().expect("cseq").number());
        black_box(msg.call_id().expect("call-id").len())
    });
}
