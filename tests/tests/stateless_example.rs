//! examples/stateless-proxy.cfg, the stateless edge proxy that exercises every module sipcfg
//! compiles today (maxfwd, sanity, textops, pv, cfgutils, siputils, xlog, switch, while,
//! sub-routes, reply_route), built and checked on the wire.

use std::net::SocketAddr;
use std::time::Duration;

use sipcfg_tests::proxy::{Proxy, build};
use sipcfg_tests::repo_root;
use sipcfg_tests::sip::{Peer, Request, header, headers, lines, reply_to, start_line, status};

const PROXY: &str = "127.0.115.1:5060";
const UPSTREAM: &str = "127.0.115.2:5060";

fn proxy_addr() -> SocketAddr {
    PROXY.parse().expect("address")
}

/// The proxy and its upstream; each check uses its own client address.
struct Setup {
    proxy: Proxy,
    upstream: Peer,
}

fn client(n: u8) -> Peer {
    Peer::bind(&format!("127.0.115.{n}:0"))
}

/// One proxy for every check (the upstream address is compiled into it), so the checks run
/// in turn inside one test.
#[test]
fn the_example_stateless_proxy_behaves_as_its_config_says() {
    let text = std::fs::read_to_string(repo_root().join("examples/stateless-proxy.cfg")).expect("example");
    let text = text.replace("\"127.0.0.2:5060\"", &format!("\"{UPSTREAM}\"")).replace("== 127.0.0.2", "== 127.0.115.2");
    let binary = build("stateless-proxy", &text);
    let upstream = Peer::bind(UPSTREAM);
    let proxy = Proxy::start(&binary, &["-l", &format!("udp:{PROXY}")]);
    let setup = Setup { proxy, upstream };
    requests_are_forwarded_to_du_with_the_scripts_edits(&setup);
    a_request_without_max_forwards_gets_one_first(&setup);
    max_forwards_zero_is_refused(&setup);
    sanity_answers_a_cseq_method_mismatch(&setup);
    scanners_are_refused_and_echo_is_answered_locally(&setup);
    options_to_the_proxy_itself_get_options_reply(&setup);
    assert!(!setup.proxy.log().contains("panicked"), "{}", setup.proxy.log());
}

fn requests_are_forwarded_to_du_with_the_scripts_edits(setup: &Setup) {
    let client = client(10);
    let mut invite = Request::new("INVITE", "sip:0033123456@example.com", client.addr(), "ex-fwd");
    invite.extra.push("X-Secret: hunter2".to_string());
    invite.extra.push("X-Internal: from the client".to_string());
    client.send(proxy_addr(), &invite.text());
    let (forwarded, _) = setup.upstream.recv();
    // The R-URI keeps its host ($du only picks where to send); the number is made E.164.
    assert_eq!(start_line(&forwarded), "INVITE sip:+33123456@example.com SIP/2.0");
    // max_limit 70 caps nothing here: 70 → 69, padded to the old width.
    assert_eq!(header(&forwarded, "Max-Forwards"), "69");
    assert!(headers(&forwarded, "X-Secret").is_empty(), "{forwarded}");
    assert!(headers(&forwarded, "X-Internal").is_empty(), "{forwarded}");
    // The while loop stopped at 2 with `break`.
    assert_eq!(header(&forwarded, "X-Loop-Count"), "2");
    assert!(headers(&forwarded, "Via")[0].starts_with("SIP/2.0/UDP 127.0.115.1;branch=z9hG4bK"));

    // The reply comes back through reply_route, which strips X-Internal with the same route.
    let mut reply = reply_to(&forwarded, 200, "OK");
    reply = reply.replace("Content-Length: 0\r\n", "X-Internal: secret\r\nContent-Length: 0\r\n");
    setup.upstream.send(proxy_addr(), &reply);
    let (relayed, _) = client.recv();
    assert_eq!(status(&relayed), 200);
    assert!(headers(&relayed, "X-Internal").is_empty(), "{relayed}");
}

fn a_request_without_max_forwards_gets_one_first(setup: &Setup) {
    let client = client(11);
    let text = Request::new("MESSAGE", "sip:bob@example.com", client.addr(), "ex-nomf")
        .text()
        .replace("Max-Forwards: 70\r\n", "");
    client.send(proxy_addr(), &text);
    let (forwarded, _) = setup.upstream.recv();
    assert_eq!(lines(&forwarded).nth(1), Some("Max-Forwards: 10"), "{forwarded}");
}

fn max_forwards_zero_is_refused(_setup: &Setup) {
    let client = client(12);
    let text = Request::new("INVITE", "sip:bob@example.com", client.addr(), "ex-mf0")
        .text()
        .replace("Max-Forwards: 70", "Max-Forwards: 0");
    client.send(proxy_addr(), &text);
    assert_eq!(start_line(&client.recv().0), "SIP/2.0 483 Too Many Hops");
}

fn sanity_answers_a_cseq_method_mismatch(setup: &Setup) {
    let client = client(13);
    let text = Request::new("INVITE", "sip:bob@example.com", client.addr(), "ex-sanity")
        .text()
        .replace("CSeq: 1 INVITE", "CSeq: 1 BYE");
    client.send(proxy_addr(), &text);
    assert_eq!(status(&client.recv().0), 400);
    setup.upstream.expect_silence(Duration::from_millis(200));
}

fn scanners_are_refused_and_echo_is_answered_locally(setup: &Setup) {
    let client = client(14);
    let mut scan = Request::new("OPTIONS", "sip:100@example.com", client.addr(), "ex-scan");
    scan.extra.push("User-Agent: friendly-scanner".to_string());
    client.send(proxy_addr(), &scan.text());
    assert_eq!(start_line(&client.recv().0), "SIP/2.0 403 Forbidden");

    client.send(proxy_addr(), &Request::new("INVITE", "sip:echo@example.com", client.addr(), "ex-echo").text());
    assert_eq!(start_line(&client.recv().0), "SIP/2.0 200 Echo INVITE from 127.0.115.14");
    setup.upstream.expect_silence(Duration::from_millis(200));
}

fn options_to_the_proxy_itself_get_options_reply(_setup: &Setup) {
    let client = client(15);
    client.send(proxy_addr(), &Request::new("OPTIONS", "sip:127.0.115.1", client.addr(), "ex-opt").text());
    let (reply, _) = client.recv();
    assert_eq!(start_line(&reply), "SIP/2.0 200 OK");
    assert_eq!(header(&reply, "Accept"), "*/*");
    assert_eq!(header(&reply, "Accept-Language"), "en");
}
