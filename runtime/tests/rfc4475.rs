//! RFC 4475 torture messages (../shared/testdata/rfc4475): every well-formed message parses
//! and its views give what the RFC describes; every malformed one is rejected or yields the
//! view error the RFC points at; nothing panics. `cargo test -p sipcfg-runtime --test rfc4475
//! -- --nocapture` prints the per-message verdicts.

use std::path::PathBuf;

use bytes::Bytes;
use sipcfg_runtime::sip::{
    Contact, HeaderErrorKind, HeaderName, Host, Message, Method, ParseErrorKind, Rport, Scheme, Transport,
    percent_decode,
};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/rfc4475")
}

fn load(name: &str) -> Bytes {
    let path = corpus_dir().join(name);
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn parse(name: &str) -> Message {
    Message::parse(load(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn rejected(name: &str) -> ParseErrorKind {
    match Message::parse(load(name)) {
        Ok(_) => panic!("{name} should be rejected"),
        Err(e) => e.kind,
    }
}

/// What happened to one message, for the report.
fn check(name: &str) -> String {
    match name {
        // ---------------------------------------------------------------- 3.1.1 valid
        "wsinv.sip" => {
            let m = parse(name);
            assert_eq!(m.method(), Method::Invite);
            assert_eq!(m.to().expect("To").tag(), Some(&b"1918181833n"[..]));
            assert_eq!(m.from().expect("From").tag(), Some(&b"98asjd8"[..]));
            assert_eq!(m.from().expect("From").uri().expect("uri").user(), Some(&b"jdrosen"[..]));
            assert_eq!(m.max_forwards(), Ok(68));
            let cseq = m.cseq().expect("CSeq");
            assert_eq!((cseq.number(), cseq.method()), (9, Method::Invite));
            assert_eq!(m.content_length(), Some(150));
            assert_eq!(m.body().len(), 150);
            let vias: Vec<_> = m.vias().map(|v| v.expect("via")).collect();
            assert_eq!(vias.len(), 3);
            assert_eq!((vias[0].host(), vias[0].transport()), (&b"192.0.2.2"[..], Transport::Udp));
            assert_eq!(vias[0].branch(), Some(&b"390skdjuw"[..]));
            assert_eq!((vias[1].host(), vias[1].transport()), (&b"spindle.example.com"[..], Transport::Tcp));
            assert_eq!(vias[1].branch(), Some(&b"z9hG4bK9ikj8"[..]));
            assert_eq!(vias[2].host(), b"192.168.255.111");
            assert_eq!(vias[2].branch(), Some(&b"z9hG4bK30239"[..]));
            let contact = m.contacts().next().expect("one").expect("parses");
            let addr = contact.address().expect("address");
            assert_eq!(addr.param(b"newparam"), Some(Some(&b"newvalue"[..])));
            assert_eq!(addr.param(b"q"), Some(Some(&b"0.33"[..])));
            assert_eq!(m.ruri().expect("ruri").param(b"unknownparam"), Some(None));
            let unknown = m.header_by_name(b"NewFangledHeader").expect("kept");
            assert_eq!(m.get(unknown.value), b"newfangled value\r\n continued newfangled value");
            let route = m.routes().next().expect("route").expect("parses");
            assert_eq!(route.address().expect("addr").uri().expect("uri").param(b"unknown-no-value"), Some(None));
            "parses; folded and spaced headers read correctly".into()
        }
        "intmeth.sip" => {
            let m = parse(name);
            assert_eq!(m.method(), Method::Other);
            assert_eq!(m.method_text(), b"!interesting-Method0123456789_*+`.%indeed'~");
            let ruri = m.ruri().expect("ruri");
            assert_eq!(ruri.host(), b"example.com");
            assert_eq!(ruri.user(), Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..]));
            assert_eq!(ruri.password(), Some(&b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"[..]));
            let to = m.to().expect("To");
            assert_eq!(to.display_name(), Some(&b"\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\""[..]));
            assert_eq!(to.uri().expect("uri").host(), b"example.com");
            let from = m.from().expect("From");
            assert_eq!(from.tag(), Some(&b"_token~1'+`*%!-."[..]));
            assert_eq!(m.cseq().expect("CSeq").method_text(), m.method_text());
            assert_eq!(m.call_id(), Ok(&b"intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"[..]));
            "parses; unknown method kept as written".into()
        }
        "esc01.sip" => {
            let m = parse(name);
            let ruri = m.ruri().expect("ruri");
            assert_eq!(ruri.user(), Some(&b"sips%3Auser%40example.com"[..]));
            assert_eq!(&*percent_decode(ruri.user().unwrap_or_default()), b"sips:user@example.com");
            let to = m.to().expect("To").uri().expect("uri").user().map(|u| percent_decode(u).into_owned());
            assert_eq!(to.as_deref(), Some(&b"user"[..]));
            let contact = m.contacts().next().expect("contact").expect("parses");
            let uri = contact.address().expect("addr").uri().expect("uri");
            assert_eq!(uri.param(b"n%61me"), Some(Some(&b"v%61lue%25%34%31"[..])));
            assert_eq!(&*percent_decode(b"v%61lue%25%34%31"), b"value%41", "unescaped once only");
            "parses; escapes kept, decoded once on request".into()
        }
        "escnull.sip" => {
            let m = parse(name);
            let users: Vec<Vec<u8>> = m
                .contacts()
                .map(|c| {
                    let c = c.expect("contact");
                    percent_decode(c.address().expect("addr").uri().expect("uri").user().unwrap_or_default())
                        .into_owned()
                })
                .collect();
            assert_eq!(users, vec![b"\0".to_vec(), b"\0\0".to_vec()], "two distinct bindings");
            let to_user = m.to().expect("To").uri().expect("uri").user().map(|u| percent_decode(u).into_owned());
            assert_eq!(to_user.as_deref(), Some(&b"null-\0-null"[..]));
            "parses; %00 does not cut the user".into()
        }
        "esc02.sip" => {
            let m = parse(name);
            assert_eq!(m.method(), Method::Other, "RE%47IST%45R is not REGISTER");
            assert_eq!(m.contacts().count(), 2, "C%6Fntact is another header");
            assert!(m.header_by_name(b"C%6Fntact").is_some());
            assert_eq!(m.to().expect("To").display_name(), Some(&b"\"%Z%45\""[..]));
            "parses; % is not an escape outside URIs".into()
        }
        "lwsdisp.sip" => {
            let m = parse(name);
            assert_eq!(m.from().expect("From").display_name(), Some(&b"caller"[..]));
            "parses; display name glued to <".into()
        }
        "longreq.sip" => {
            let m = parse(name);
            let vias: Vec<_> = m.vias().map(|v| v.expect("via")).collect();
            assert_eq!(vias.len(), 34);
            assert_eq!(vias[0].host(), b"sip33.example.com");
            assert_eq!(vias[33].received(), Some(&b"192.0.2.5"[..]));
            assert!(vias[33].branch().is_some_and(|b| b.len() > 100));
            let to = m.to().expect("To");
            assert!(to.display_name().is_some_and(|d| d.len() > 100));
            assert_eq!(to.uri().expect("uri").port(), Some(6000));
            assert!(m.from().expect("From").tag().is_some_and(|t| t.len() > 100));
            "parses; 34 Via values in every spelling".into()
        }
        "dblreq.sip" => {
            let m = parse(name);
            assert_eq!(m.method(), Method::Register);
            assert_eq!(m.content_length(), Some(0));
            assert!(m.body().is_empty(), "the trailing INVITE is not part of the message");
            "parses the REGISTER; trailing bytes ignored".into()
        }
        "semiuri.sip" => {
            let m = parse(name);
            let ruri = m.ruri().expect("ruri");
            assert_eq!(ruri.user(), Some(&b"user;par=u%40example.net"[..]));
            assert_eq!(ruri.host(), b"example.com");
            assert!(ruri.params().next().is_none(), "the ; belongs to the user part");
            let accept = m.header_value(HeaderName::Accept).expect("Accept");
            assert!(accept.ends_with(b"message/sip, message/sipfrag"));
            "parses; ; and escaped @ in the user part".into()
        }
        "transports.sip" => {
            let m = parse(name);
            let transports: Vec<_> = m.vias().map(|v| v.expect("via").transport()).collect();
            assert_eq!(
                transports,
                vec![Transport::Udp, Transport::Sctp, Transport::Tls, Transport::Other, Transport::Tcp]
            );
            "parses; unknown transport kept".into()
        }
        "mpart01.sip" => {
            let m = parse(name);
            assert_eq!(m.content_length(), Some(553));
            assert_eq!(m.body().len(), 553);
            assert!(m.body().contains(&0), "binary part with NUL bytes");
            assert_eq!(m.content_type(), Ok(&b"multipart/mixed"[..]));
            assert_eq!(m.top_via().expect("via").rport(), Rport::Requested);
            "parses; binary body framed by Content-Length".into()
        }
        "unreason.sip" => {
            let m = parse(name);
            assert_eq!(m.status(), Some(200));
            assert!(m.reason().is_some_and(|r| r.starts_with(b"= 2**3 * 5**2 ") && std::str::from_utf8(r).is_ok()));
            "parses; UTF-8 reason phrase".into()
        }
        "noreason.sip" => {
            let m = parse(name);
            assert_eq!((m.status(), m.reason()), (Some(100), Some(&b""[..])));
            "parses; empty reason phrase".into()
        }
        // ---------------------------------------------------------------- 3.1.2 invalid
        "badinv01.sip" => {
            let m = parse(name);
            assert!(m.top_via().is_err());
            assert!(m.vias().any(|v| v.is_err()));
            assert!(m.contacts().next().is_some_and(|c| c.is_err()));
            "message parses; Via and Contact views fail (empty params/values)".into()
        }
        "clerr.sip" => {
            assert_eq!(rejected(name), ParseErrorKind::BodyTruncated);
            let framing = sipcfg_runtime::sip::frame_stream(&load(name), &Default::default());
            assert_eq!(framing, Ok(sipcfg_runtime::sip::Framing::Partial), "on a stream: wait for more");
            "rejected: Content-Length beyond the datagram (partial on a stream)".into()
        }
        "ncl.sip" => {
            assert_eq!(rejected(name), ParseErrorKind::BadContentLength);
            "rejected: negative Content-Length".into()
        }
        "scalar02.sip" => {
            let m = parse(name);
            assert_eq!(m.cseq().map(|c| c.number()).map_err(|e| e.kind), Err(HeaderErrorKind::BadNumber));
            assert_eq!(m.max_forwards().map_err(|e| e.kind), Err(HeaderErrorKind::BadNumber));
            assert_eq!(m.expires().map_err(|e| e.kind), Err(HeaderErrorKind::BadNumber));
            "message parses; CSeq, Max-Forwards and Expires views fail (out of range)".into()
        }
        "scalarlg.sip" => {
            let m = parse(name);
            assert_eq!(m.status(), Some(503));
            assert!(m.cseq().is_err());
            "message parses; CSeq view fails (over 2^32-1)".into()
        }
        "quotbal.sip" => {
            let m = parse(name);
            assert_eq!(m.to().map(|_| ()).map_err(|e| e.kind), Err(HeaderErrorKind::BadNameAddr));
            "message parses; To view fails (unterminated quote)".into()
        }
        "ltgtruri.sip" => {
            let m = parse(name);
            assert_eq!(m.ruri().map(|_| ()).map_err(|e| e.kind), Err(HeaderErrorKind::BadUri));
            "message parses; Request-URI view fails (<> around it)".into()
        }
        "lwsruri.sip" => {
            assert_eq!(rejected(name), ParseErrorKind::BadStartLine);
            "rejected: whitespace inside the Request-URI".into()
        }
        "lwsstart.sip" => {
            assert_eq!(rejected(name), ParseErrorKind::BadStartLine);
            "rejected: two spaces in the request line".into()
        }
        "trws.sip" => {
            assert_eq!(rejected(name), ParseErrorKind::BadStartLine);
            "rejected: trailing space after SIP/2.0".into()
        }
        "escruri.sip" => {
            let m = parse(name);
            let ruri = m.ruri().expect("parses");
            assert_eq!(
                ruri.headers(),
                Some(&b"Route=%3Csip:example.com%3E"[..]),
                "kept as URI headers, never a real header"
            );
            assert_eq!(m.header_count(HeaderName::Route), 0);
            "parses; escaped header stays inside the Request-URI".into()
        }
        "baddate.sip" => {
            let m = parse(name);
            assert!(m.header(HeaderName::Date).is_some());
            "parses; Date value not interpreted".into()
        }
        "regbadct.sip" => {
            let m = parse(name);
            assert_eq!(
                m.contacts().next().map(|c| c.map(|_| ()).map_err(|e| e.kind)),
                Some(Err(HeaderErrorKind::BadNameAddr))
            );
            "message parses; Contact view fails (URI with ? outside <>)".into()
        }
        "badaspec.sip" => {
            let m = parse(name);
            assert_eq!(m.to().expect("name-addr").uri().map(|_| ()).map_err(|e| e.kind), Err(HeaderErrorKind::BadUri));
            "message parses; To URI view fails (spaces inside <>)".into()
        }
        "baddn.sip" => {
            let m = parse(name);
            assert_eq!(m.from().map(|_| ()).map_err(|e| e.kind), Err(HeaderErrorKind::BadNameAddr));
            assert_eq!(m.to().map(|_| ()).map_err(|e| e.kind), Err(HeaderErrorKind::BadNameAddr));
            "message parses; From and To views fail (unquoted , and . in display names)".into()
        }
        "badvers.sip" => {
            assert_eq!(rejected(name), ParseErrorKind::BadVersion);
            "rejected: SIP/7.0".into()
        }
        "mismatch01.sip" => {
            let m = parse(name);
            assert_eq!(m.method(), Method::Options);
            assert_eq!(m.cseq().expect("CSeq").method(), Method::Invite);
            "parses; CSeq method differs from the request method (sanity_check's job)".into()
        }
        "mismatch02.sip" => {
            let m = parse(name);
            assert_eq!(m.method(), Method::Other);
            assert_eq!(m.cseq().expect("CSeq").method(), Method::Invite);
            "parses; unknown method, CSeq says INVITE".into()
        }
        "bigcode.sip" => {
            assert_eq!(rejected(name), ParseErrorKind::BadStatusCode);
            "rejected: status code 4294967301".into()
        }
        // ---------------------------------------------------------------- 3.2-3.4
        "badbranch.sip" => {
            let m = parse(name);
            assert_eq!(m.top_via().expect("via").branch(), Some(&b"z9hG4bK"[..]));
            "parses; branch is only the magic cookie".into()
        }
        "insuf.sip" => {
            let m = parse(name);
            assert_eq!(m.call_id().map_err(|e| e.kind), Err(HeaderErrorKind::Missing));
            assert_eq!(m.from().map(|_| ()).map_err(|e| e.kind), Err(HeaderErrorKind::Missing));
            assert_eq!(m.to().map(|_| ()).map_err(|e| e.kind), Err(HeaderErrorKind::Missing));
            "parses; Call-ID, From and To views report missing".into()
        }
        "unkscm.sip" => {
            let m = parse(name);
            let ruri = m.ruri().expect("opaque URI");
            assert_eq!((ruri.scheme(), ruri.scheme_text()), (Scheme::Other, &b"nobodyKnowsThisScheme"[..]));
            "parses; unknown scheme as an opaque URI".into()
        }
        "novelsc.sip" => {
            let m = parse(name);
            let ruri = m.ruri().expect("opaque URI");
            assert_eq!((ruri.scheme_text(), ruri.opaque()), (&b"soap.beep"[..], &b"//192.0.2.103:3002"[..]));
            "parses; soap.beep scheme as an opaque URI".into()
        }
        "unksm2.sip" => {
            let m = parse(name);
            assert_eq!(m.to().expect("To").uri().expect("uri").scheme_text(), b"isbn");
            assert_eq!(m.from().expect("From").uri().expect("uri").scheme_text(), b"http");
            let contact = m.contacts().next().expect("contact").expect("parses");
            assert_eq!(contact.address().expect("addr").uri().expect("uri").scheme_text(), b"name");
            "parses; non-SIP URIs in To, From, Contact".into()
        }
        "bext01.sip" => {
            let m = parse(name);
            assert!(m.header(HeaderName::Require).is_some() && m.header(HeaderName::ProxyRequire).is_some());
            "parses; Require and Proxy-Require readable".into()
        }
        "invut.sip" => {
            let m = parse(name);
            assert_eq!(m.content_type(), Ok(&b"application/unknownformat"[..]));
            "parses; unknown Content-Type readable".into()
        }
        "regaut01.sip" => {
            let m = parse(name);
            assert!(m.header(HeaderName::Authorization).is_some());
            "parses; unknown Authorization scheme passed through".into()
        }
        "multi01.sip" => {
            let m = parse(name);
            for name in [HeaderName::CallId, HeaderName::To, HeaderName::From, HeaderName::CSeq] {
                assert_eq!(m.header_count(name), 2, "{name:?}");
            }
            "parses; duplicated single-value headers are countable".into()
        }
        "mcl01.sip" => {
            assert_eq!(rejected(name), ParseErrorKind::ConflictingContentLength);
            "rejected: two different Content-Length values".into()
        }
        "bcast.sip" => {
            let m = parse(name);
            assert_eq!(m.vias().nth(1).expect("two vias").expect("parses").host(), b"255.255.255.255");
            "parses; broadcast Via2 readable (the relay decides)".into()
        }
        "zeromf.sip" => {
            let m = parse(name);
            assert_eq!(m.max_forwards(), Ok(0));
            "parses; Max-Forwards 0".into()
        }
        "cparam01.sip" => {
            let m = parse(name);
            let contact = m.contacts().next().expect("contact").expect("parses");
            let addr = contact.address().expect("addr");
            assert_eq!(addr.param(b"unknownparam"), Some(None), "a contact parameter");
            assert_eq!(addr.uri().expect("uri").param(b"unknownparam"), None);
            "parses; ;unknownparam is a contact parameter".into()
        }
        "cparam02.sip" => {
            let m = parse(name);
            let contact = m.contacts().next().expect("contact").expect("parses");
            let addr = contact.address().expect("addr");
            assert_eq!(addr.param(b"unknownparam"), None);
            assert_eq!(addr.uri().expect("uri").param(b"unknownparam"), Some(None), "a URI parameter");
            "parses; ;unknownparam is a URI parameter".into()
        }
        "regescrt.sip" => {
            let m = parse(name);
            let contact = m.contacts().next().expect("contact").expect("parses");
            let uri = contact.address().expect("addr").uri().expect("uri");
            assert_eq!(uri.headers(), Some(&b"Route=%3Csip:sip.example.com%3E"[..]));
            assert!(matches!(contact, Contact::Address(..)));
            "parses; escaped Route kept in the Contact URI".into()
        }
        "sdp01.sip" => {
            let m = parse(name);
            assert_eq!(m.header_value(HeaderName::Accept), Some(&b"text/nobodyKnowsThis"[..]));
            "parses; Accept readable".into()
        }
        "inv2543.sip" => {
            let m = parse(name);
            assert_eq!(m.content_length(), None);
            assert!(m.body().starts_with(b"v=0") && m.body().ends_with(b"RTP/AVP 0\r\n"));
            let via = m.top_via().expect("via");
            assert_eq!((via.branch(), via.host()), (None, &b"iftgw.example.com"[..]));
            assert_eq!(m.from().expect("From").tag(), None);
            assert_eq!(
                m.to().expect("To").uri().expect("uri").param(b"user"),
                None,
                "addr-spec: ;user is a header param"
            );
            "parses; RFC 2543 message, body to the end of the datagram".into()
        }
        "test.sip" => match Message::parse(load(name)) {
            Ok(_) => "unclassified: parses".into(),
            Err(e) => format!("unclassified: rejected ({})", e.kind.description()),
        },
        other => panic!("{other} has no expectation: add one"),
    }
}

#[test]
fn every_message_of_the_corpus() {
    let index = std::fs::read_to_string(corpus_dir().join("INDEX.tsv")).expect("INDEX.tsv");
    let mut report = Vec::new();
    for line in index.lines().skip(1) {
        let mut fields = line.split('\t');
        let (Some(file), Some(section), Some(class)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let verdict = check(file);
        report.push(format!("{file:<16} {section:<16} {class:<12} {verdict}"));
    }
    assert_eq!(report.len(), 50, "INDEX.tsv lists 50 messages");
    println!("{}", report.join("\n"));
}

#[test]
fn no_message_panics_any_view() {
    for entry in std::fs::read_dir(corpus_dir()).expect("corpus") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "sip") {
            continue;
        }
        let bytes = Bytes::from(std::fs::read(&path).expect("readable"));
        let Ok(m) = Message::parse(bytes) else { continue };
        let _ = (m.ruri().map(|u| (u.user(), u.host(), u.port(), u.params().count(), u.host_kind() == Host::Ipv6)),);
        let _ = (m.top_via().map(|v| v.branch()), m.vias().count(), m.from(), m.to(), m.cseq().map(|c| c.number()));
        let _ =
            (m.call_id(), m.max_forwards(), m.expires(), m.content_type(), m.contacts().count(), m.routes().count());
        for contact in m.contacts().flatten() {
            if let Some(addr) = contact.address() {
                let _ = addr.uri().map(|u| u.params().count());
            }
        }
    }
}
