//! examples/stateful-proxy.cfg on the wire: failure_route failover (on 503 and on timeout),
//! parallel forking with best-reply selection and CANCEL of the other branches, branch_route
//! and onreply_route edits, a stateful local reply, TCP on either side, and the transaction
//! table's cap. Network 127.0.160.0/24: the proxy on .1, the primary server on .2, the
//! backup on .3, clients from .9.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use sipcfg_tests::proxy::{Proxy, build};
use sipcfg_tests::repo_root;
use sipcfg_tests::sip::{Peer, Request, header, headers, reply_to, start_line, tag};

const QUIET: Duration = Duration::from_millis(300);

struct Setup {
    proxy: Proxy,
    proxy_addr: SocketAddr,
    primary: Peer,
    backup: Peer,
    primary_tcp: TcpListener,
}

fn expect(peer: &Peer, first_line_start: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some((message, _)) = peer.recv_within(left) else {
            panic!("{}: no `{first_line_start}` within 5 s", peer.addr());
        };
        if start_line(&message).starts_with(first_line_start) {
            return message;
        }
    }
}

/// One SIP message from a stream (headers, then Content-Length bytes of body).
fn read_stream_message(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("stream read");
        assert!(n > 0, "connection closed");
        data.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&data).into_owned();
    let length: usize = headers(&text, "Content-Length").first().and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("body");
    text + &String::from_utf8_lossy(&body)
}

fn with_extra(reply: String, extra: &str) -> String {
    reply.replace("Content-Length: 0\r\n", &format!("{extra}Content-Length: 0\r\n"))
}

#[test]
fn the_example_stateful_proxy_behaves_as_its_config_says() {
    let text = std::fs::read_to_string(repo_root().join("examples/stateful-proxy.cfg")).expect("example");
    let text = text.replace("127.0.0.2:5060", "127.0.160.2:5060").replace("127.0.0.3:5060", "127.0.160.3:5060");
    let binary = build("stateful-proxy", &text);
    let setup = Setup {
        primary: Peer::bind("127.0.160.2:5060"),
        backup: Peer::bind("127.0.160.3:5060"),
        primary_tcp: TcpListener::bind("127.0.160.2:5060").expect("tcp listener"),
        proxy: Proxy::start(&binary, &["-l", "127.0.160.1:5060"]),
        proxy_addr: "127.0.160.1:5060".parse().expect("address"),
    };
    failover_when_the_primary_answers_503(&setup);
    failover_when_the_primary_never_answers(&setup);
    parallel_fork_relays_the_first_2xx(&setup);
    parallel_fork_picks_the_best_failure(&setup);
    a_6xx_cancels_the_other_branches(&setup);
    options_get_a_stateful_local_reply(&setup);
    a_destination_with_transport_tcp_gets_one_copy_over_tcp(&setup);
    a_client_over_tcp_gets_its_replies_on_its_connection(&setup);
    let (status, log) = setup.proxy.stop();
    assert!(status.success(), "{log}");
    a_full_table_answers_503(&binary);
}

fn failover_when_the_primary_answers_503(setup: &Setup) {
    let client = Peer::bind("127.0.160.9:0");
    client.send(setup.proxy_addr, &Request::new("INVITE", "sip:alice@127.0.160.1", client.addr(), "fo-503").text());
    expect(&client, "SIP/2.0 100");
    let first = expect(&setup.primary, "INVITE");
    assert_eq!(header(&first, "X-Proxied"), "sipcfg", "branch_route ran");
    assert!(headers(&first, "Via")[0].ends_with(".0"));
    setup.primary.send(setup.proxy_addr, &reply_to(&first, 503, "Service Unavailable"));
    let ack = expect(&setup.primary, "ACK");
    assert_eq!(headers(&ack, "Via")[0], headers(&first, "Via")[0]);

    // failure_route: the backup gets the call as branch 1.
    let second = expect(&setup.backup, "INVITE sip:alice@127.0.160.3:5060 SIP/2.0");
    assert!(headers(&second, "Via")[0].ends_with(".1"), "{}", headers(&second, "Via")[0]);
    assert_eq!(header(&second, "X-Proxied"), "sipcfg");
    setup.backup.send(setup.proxy_addr, &with_extra(reply_to(&second, 180, "Ringing"), "X-Internal: secret\r\n"));
    let ringing = expect(&client, "SIP/2.0 180");
    assert!(headers(&ringing, "X-Internal").is_empty(), "onreply_route removed it:\n{ringing}");
    setup.backup.send(setup.proxy_addr, &reply_to(&second, 200, "OK"));
    expect(&client, "SIP/2.0 200");
    client.expect_silence(Duration::from_millis(100));
}

fn failover_when_the_primary_never_answers(setup: &Setup) {
    let client = Peer::bind("127.0.160.10:0");
    let started = Instant::now();
    client.send(setup.proxy_addr, &Request::new("INVITE", "sip:alice@127.0.160.1", client.addr(), "fo-408").text());
    expect(&setup.primary, "INVITE");
    // Nothing from the primary: fr_timer (2 s) ends its branch with a 408.
    let second = expect(&setup.backup, "INVITE");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1900) && waited < Duration::from_millis(5000), "{waited:?}");
    setup.backup.send(setup.proxy_addr, &reply_to(&second, 200, "OK"));
    expect(&client, "SIP/2.0 200");
    // Drain the primary's retransmitted copies.
    while setup.primary.recv_within(Duration::from_millis(50)).is_some() {}
}

fn fork(setup: &Setup, client: &Peer, call_id: &str) -> (String, String) {
    client.send(setup.proxy_addr, &Request::new("INVITE", "sip:fork@127.0.160.1", client.addr(), call_id).text());
    expect(client, "SIP/2.0 100");
    let first = expect(&setup.primary, "INVITE sip:fork@127.0.160.2:5060 SIP/2.0");
    let second = expect(&setup.backup, "INVITE sip:fork@127.0.160.3:5060 SIP/2.0");
    assert!(headers(&first, "Via")[0].ends_with(".0") && headers(&second, "Via")[0].ends_with(".1"));
    assert_eq!(header(&first, "X-Proxied"), "sipcfg");
    assert_eq!(header(&second, "X-Proxied"), "sipcfg");
    (first, second)
}

fn parallel_fork_relays_the_first_2xx(setup: &Setup) {
    let client = Peer::bind("127.0.160.11:0");
    let (first, second) = fork(setup, &client, "fork-ok");
    setup.primary.send(setup.proxy_addr, &reply_to(&first, 486, "Busy Here"));
    expect(&setup.primary, "ACK");
    setup.backup.send(setup.proxy_addr, &reply_to(&second, 180, "Ringing"));
    expect(&client, "SIP/2.0 180");
    setup.backup.send(setup.proxy_addr, &reply_to(&second, 200, "OK"));
    let ok = expect(&client, "SIP/2.0 200");
    assert_eq!(header(&ok, "CSeq"), "1 INVITE");
    // The 486 never goes upstream.
    client.expect_silence(QUIET);
}

fn parallel_fork_picks_the_best_failure(setup: &Setup) {
    let client = Peer::bind("127.0.160.12:0");
    let (first, second) = fork(setup, &client, "fork-fail");
    setup.primary.send(setup.proxy_addr, &reply_to(&first, 486, "Busy Here"));
    expect(&setup.primary, "ACK");
    client.expect_silence(Duration::from_millis(100));
    setup.backup.send(setup.proxy_addr, &reply_to(&second, 404, "Not Found"));
    expect(&setup.backup, "ACK");
    // Within 4xx the lower code wins.
    let best = expect(&client, "SIP/2.0");
    assert_eq!(start_line(&best), "SIP/2.0 404 Not Found");
    // Not acknowledged, the final reply is retransmitted (T1 = 500 ms)...
    let (again, _) = client.recv();
    assert_eq!(again, best);
    // ...until the ACK, which t_check_trans absorbs: nothing more comes.
    let mut ack = Request::new("ACK", "sip:fork@127.0.160.1", client.addr(), "fork-fail");
    ack.branch = "z9hG4bK-fork-fail-invite".to_string();
    ack.to_tag = tag(header(&best, "To")).map(str::to_string);
    client.send(setup.proxy_addr, &ack.text());
    client.expect_silence(Duration::from_millis(1200));
    setup.primary.expect_silence(Duration::from_millis(10));
    setup.backup.expect_silence(Duration::from_millis(10));
}

fn a_6xx_cancels_the_other_branches(setup: &Setup) {
    let client = Peer::bind("127.0.160.13:0");
    let (first, second) = fork(setup, &client, "fork-603");
    setup.primary.send(setup.proxy_addr, &reply_to(&first, 180, "Ringing"));
    expect(&client, "SIP/2.0 180");
    setup.backup.send(setup.proxy_addr, &reply_to(&second, 603, "Decline"));
    expect(&setup.backup, "ACK");
    let cancel = expect(&setup.primary, "CANCEL");
    assert_eq!(header(&cancel, "Reason"), "SIP;cause=603");
    setup.primary.send(setup.proxy_addr, &reply_to(&cancel, 200, "OK"));
    setup.primary.send(setup.proxy_addr, &reply_to(&first, 487, "Request Terminated"));
    expect(&setup.primary, "ACK");
    let best = expect(&client, "SIP/2.0");
    assert_eq!(start_line(&best), "SIP/2.0 603 Decline");
}

fn options_get_a_stateful_local_reply(setup: &Setup) {
    let client = Peer::bind("127.0.160.14:0");
    let options = Request::new("OPTIONS", "sip:127.0.160.1", client.addr(), "alive");
    client.send(setup.proxy_addr, &options.text());
    let reply = expect(&client, "SIP/2.0 200");
    assert_eq!(start_line(&reply), "SIP/2.0 200 Alive");
    let to_tag = tag(header(&reply, "To")).expect("tm's To-tag").to_string();
    assert!(to_tag.contains('-'), "tm's tags use '-': {to_tag}");
    client.send(setup.proxy_addr, &options.text());
    assert_eq!(expect(&client, "SIP/2.0 200"), reply, "a retransmission gets the stored reply");
}

fn a_destination_with_transport_tcp_gets_one_copy_over_tcp(setup: &Setup) {
    let client = Peer::bind("127.0.160.15:0");
    client.send(setup.proxy_addr, &Request::new("INVITE", "sip:tcp@127.0.160.1", client.addr(), "to-tcp").text());
    expect(&client, "SIP/2.0 100");
    let (mut stream, _) = setup.primary_tcp.accept().expect("the proxy connects");
    let invite = read_stream_message(&mut stream);
    assert!(headers(&invite, "Via")[0].starts_with("SIP/2.0/TCP 127.0.160.1;branch=z9hG4bK"), "{invite}");
    // A reliable transport: no retransmission after T1.
    stream.set_read_timeout(Some(Duration::from_millis(1200))).expect("timeout");
    let mut probe = [0u8; 1];
    assert!(stream.read(&mut probe).is_err(), "no second copy over TCP");
    stream.write_all(reply_to(&invite, 200, "OK").as_bytes()).expect("reply over tcp");
    expect(&client, "SIP/2.0 200");
}

fn a_client_over_tcp_gets_its_replies_on_its_connection(setup: &Setup) {
    let mut stream = TcpStream::connect(setup.proxy_addr).expect("connect");
    let local = stream.local_addr().expect("local");
    let invite =
        Request::new("INVITE", "sip:alice@127.0.160.1", local, "from-tcp").text().replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    stream.write_all(invite.as_bytes()).expect("send");
    assert_eq!(start_line(&read_stream_message(&mut stream)), "SIP/2.0 100 trying -- your call is important to us");
    let forwarded = expect(&setup.primary, "INVITE");
    assert!(headers(&forwarded, "Via")[0].starts_with("SIP/2.0/UDP 127.0.160.1;branch="));
    setup.primary.send(setup.proxy_addr, &reply_to(&forwarded, 200, "OK"));
    let ok = read_stream_message(&mut stream);
    assert_eq!(start_line(&ok), "SIP/2.0 200 OK");
    assert_eq!(header(&ok, "Call-ID"), "from-tcp");
}

fn a_full_table_answers_503(binary: &std::path::Path) {
    let proxy = Proxy::start(binary, &["-l", "udp:127.0.161.1:5060", "--max-transactions", "1"]);
    let proxy_addr: SocketAddr = "127.0.161.1:5060".parse().expect("address");
    let client = Peer::bind("127.0.161.9:0");
    client.send(proxy_addr, &Request::new("INVITE", "sip:alice@127.0.161.1", client.addr(), "first").text());
    expect(&client, "SIP/2.0 100");
    client.send(proxy_addr, &Request::new("INVITE", "sip:alice@127.0.161.1", client.addr(), "second").text());
    let refused = expect(&client, "SIP/2.0 5");
    assert_eq!(start_line(&refused), "SIP/2.0 503 Service Unavailable");
    assert_eq!(header(&refused, "Call-ID"), "second");
    let (status, log) = proxy.stop();
    assert!(status.success(), "{log}");
}
