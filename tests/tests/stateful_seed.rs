//! The seed's stateful round-robin load balancer (tm + rr + siputils + sl), built and run,
//! with a client and two servers on loopback (sip-behaviour.md §4-§5, §7 item 8). Each test
//! has its own 127.0.N.0/24: the proxy on .1, the servers the seed calls 1.2.3.4 and 2.3.4.5
//! on .2 and .3, clients from .9.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sipcfg_tests::proxy::{Proxy, build};
use sipcfg_tests::seed_config;
use sipcfg_tests::sip::{Peer, Request, header, headers, reply_to, start_line, tag};

const QUIET: Duration = Duration::from_millis(300);

struct Setup {
    proxy: Proxy,
    proxy_addr: SocketAddr,
    servers: [Peer; 2],
    client: Peer,
}

/// Builds the seed (with `extra` modparam lines) for network 127.0.`net`.0/24 and starts it.
fn setup(net: u8, extra: &str) -> Setup {
    let first = format!("127.0.{net}.2");
    let second = format!("127.0.{net}.3");
    let mut config = seed_config("12-stateful-load-balancer.cfg", &[("1.2.3.4", &first), ("2.3.4.5", &second)]);
    if !extra.is_empty() {
        config = config.replace("modparam(\"pv\"", &format!("{extra}\nmodparam(\"pv\""));
    }
    let name = if extra.is_empty() { format!("seed-12-net{net}") } else { format!("seed-12-net{net}-tuned") };
    let binary = build(&name, &config);
    let servers = [Peer::bind(&format!("{first}:5060")), Peer::bind(&format!("{second}:5060"))];
    let proxy_addr: SocketAddr = format!("127.0.{net}.1:5060").parse().expect("address");
    let proxy = Proxy::start(&binary, &["-l", &format!("udp:{proxy_addr}"), "-n", "2"]);
    Setup { proxy, proxy_addr, servers, client: Peer::bind(&format!("127.0.{net}.9:0")) }
}

/// The next message `peer` receives that starts with `first_line_start`, skipping others
/// (retransmissions of earlier messages).
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

/// A reply from a server with a Contact and the Record-Route it received.
fn server_reply(request: &str, code: u16, reason: &str, server: &Peer) -> String {
    let mut reply = reply_to(request, code, reason);
    let mut extra = String::new();
    for rr in headers(request, "Record-Route") {
        extra.push_str(&format!("Record-Route: {rr}\r\n"));
    }
    extra.push_str(&format!("Contact: <sip:bob@{}>\r\n", server.addr()));
    reply = reply.replace("Content-Length: 0\r\n", &format!("{extra}Content-Length: 0\r\n"));
    reply
}

/// One whole call: INVITE/100/180/200/ACK/BYE/200. Returns which server took it.
fn call(setup: &Setup, call_id: &str) -> usize {
    let client = &setup.client;
    let invite = Request::new("INVITE", &format!("sip:bob@{}", setup.proxy_addr.ip()), client.addr(), call_id);
    client.send(setup.proxy_addr, &invite.text());
    let trying = expect(client, "SIP/2.0 100");
    assert_eq!(start_line(&trying), "SIP/2.0 100 trying -- your call is important to us");
    assert_eq!(tag(header(&trying, "To")), None, "a 100 has no To-tag");

    // One of the servers gets it, with our Record-Route and Via on top.
    let deadline = Instant::now() + Duration::from_secs(3);
    let (index, forwarded) = loop {
        if let Some(found) = setup
            .servers
            .iter()
            .enumerate()
            .find_map(|(i, s)| s.recv_within(Duration::from_millis(10)).map(|(m, _)| (i, m)))
        {
            break found;
        }
        assert!(Instant::now() < deadline, "the INVITE reached no server\n{}", setup.proxy.log());
    };
    let server = &setup.servers[index];
    let server_ip = server.addr().ip();
    assert_eq!(start_line(&forwarded), format!("INVITE sip:bob@{server_ip} SIP/2.0"));
    let proxy_ip = setup.proxy_addr.ip();
    assert_eq!(header(&forwarded, "Record-Route"), format!("<sip:{proxy_ip};lr;ftag=a1b2c3>"));
    let vias = headers(&forwarded, "Via");
    assert!(vias[0].starts_with(&format!("SIP/2.0/UDP {proxy_ip};branch=z9hG4bK")), "{}", vias[0]);
    assert!(vias[0].ends_with(".0"), "branch 0: {}", vias[0]);
    assert_eq!(vias.len(), 2);

    server.send(setup.proxy_addr, &server_reply(&forwarded, 180, "Ringing", server));
    let ringing = expect(client, "SIP/2.0 180");
    assert_eq!(headers(&ringing, "Via").len(), 1, "our Via is removed:\n{ringing}");
    server.send(setup.proxy_addr, &server_reply(&forwarded, 200, "OK", server));
    let ok = expect(client, "SIP/2.0 200");
    let to_tag = tag(header(&ok, "To")).expect("the server's tag").to_string();
    assert_eq!(header(&ok, "Record-Route"), format!("<sip:{proxy_ip};lr;ftag=a1b2c3>"));

    // In-dialog requests follow the Route set: loose_route removes our entry.
    let contact = format!("sip:bob@{}", server.addr());
    let route = format!("Route: <sip:{proxy_ip};lr;ftag=a1b2c3>");
    let mut ack = Request::new("ACK", &contact, client.addr(), call_id);
    ack.branch = format!("z9hG4bK-{call_id}-ack");
    ack.to_tag = Some(to_tag.clone());
    ack.extra.push(route.clone());
    client.send(setup.proxy_addr, &ack.text());
    let ack_in = expect(server, "ACK");
    assert_eq!(start_line(&ack_in), format!("ACK {contact} SIP/2.0"));
    assert!(headers(&ack_in, "Route").is_empty(), "our Route is removed:\n{ack_in}");

    let mut bye = Request::new("BYE", &contact, client.addr(), call_id);
    bye.cseq = 2;
    bye.to_tag = Some(to_tag);
    bye.extra.push(route);
    client.send(setup.proxy_addr, &bye.text());
    let bye_in = expect(server, "BYE");
    assert!(headers(&bye_in, "Route").is_empty());
    server.send(setup.proxy_addr, &reply_to(&bye_in, 200, "OK"));
    let bye_ok = expect(client, "SIP/2.0 200");
    assert_eq!(header(&bye_ok, "CSeq"), "2 BYE");
    index
}

#[test]
fn calls_alternate_between_the_two_servers_and_dialogs_follow_the_route() {
    let setup = setup(140, "");
    let order: Vec<usize> = (0..4).map(|n| call(&setup, &format!("rr-call-{n}"))).collect();
    // $shv(i) starts at 0: the first call goes to 1.2.3.4.
    assert_eq!(order, vec![0, 1, 0, 1]);
    // Nothing else reached the servers (no retransmission, no stray ACK).
    for server in &setup.servers {
        server.expect_silence(QUIET);
    }
    let (status, log) = setup.proxy.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn cancel_of_a_ringing_call_gives_200_and_487() {
    let setup = setup(141, "");
    let client = &setup.client;
    let invite = Request::new("INVITE", "sip:bob@127.0.141.1", client.addr(), "cancel-1");
    client.send(setup.proxy_addr, &invite.text());
    expect(client, "SIP/2.0 100");
    let server = &setup.servers[0];
    let forwarded = expect(server, "INVITE");
    server.send(setup.proxy_addr, &server_reply(&forwarded, 180, "Ringing", server));
    expect(client, "SIP/2.0 180");

    let mut cancel = invite.clone();
    cancel.method = "CANCEL".to_string();
    client.send(setup.proxy_addr, &cancel.text());
    let cancel_ok = expect(client, "SIP/2.0 200");
    assert_eq!(start_line(&cancel_ok), "SIP/2.0 200 canceling");
    assert_eq!(header(&cancel_ok, "CSeq"), "1 CANCEL");

    // Downstream gets a CANCEL with the INVITE's branch.
    let cancel_in = expect(server, "CANCEL");
    assert_eq!(headers(&cancel_in, "Via")[0], headers(&forwarded, "Via")[0]);
    assert_eq!(header(&cancel_in, "CSeq"), "1 CANCEL");
    server.send(setup.proxy_addr, &reply_to(&cancel_in, 200, "OK"));
    server.send(setup.proxy_addr, &server_reply(&forwarded, 487, "Request Terminated", server));

    // We ACK the 487 hop by hop and pass it up.
    let ack_in = expect(server, "ACK");
    assert_eq!(headers(&ack_in, "Via")[0], headers(&forwarded, "Via")[0]);
    assert_eq!(header(&ack_in, "CSeq"), "1 ACK");
    let terminated = expect(client, "SIP/2.0 487");
    assert_eq!(header(&terminated, "CSeq"), "1 INVITE");

    // The client's ACK for the 487 goes nowhere: the seed sends in-dialog requests without
    // our Route to 404, which sl never sends to an ACK (the seed has no t_check_trans for
    // ACKs, so tm retransmits the 487 until fr_timer, as Kamailio would).
    let mut ack = invite.clone();
    ack.method = "ACK".to_string();
    ack.to_tag = tag(header(&terminated, "To")).map(str::to_string);
    client.send(setup.proxy_addr, &ack.text());
    server.expect_silence(QUIET);
    client.expect_silence(Duration::from_millis(100));
}

#[test]
fn a_silent_server_gives_408_after_fr_timer_and_a_ringing_one_after_fr_inv_timer() {
    let setup = setup(142, "modparam(\"tm\", \"fr_timer\", 1000)\nmodparam(\"tm\", \"fr_inv_timer\", 1500)");
    let client = &setup.client;

    // No answer at all: fr_timer.
    let started = Instant::now();
    client.send(setup.proxy_addr, &Request::new("INVITE", "sip:bob@127.0.142.1", client.addr(), "silent").text());
    expect(client, "SIP/2.0 100");
    let timeout = expect(client, "SIP/2.0 408");
    let elapsed = started.elapsed();
    assert_eq!(start_line(&timeout), "SIP/2.0 408 Request Timeout");
    assert!(tag(header(&timeout, "To")).is_some(), "a local 408 has tm's To-tag");
    assert!(elapsed >= Duration::from_millis(950) && elapsed < Duration::from_millis(4000), "{elapsed:?}");
    // Retransmitted over UDP meanwhile: at 0, 500 ms (and maybe 1.5 s is past fr_timer).
    let server = &setup.servers[0];
    let mut copies = 0;
    while server.recv_within(Duration::from_millis(50)).is_some() {
        copies += 1;
    }
    assert!(copies >= 2, "the INVITE was retransmitted ({copies} copies)");

    // Ringing but never answering: fr_inv_timer from the 180, then a CANCEL downstream.
    let ringing_server = &setup.servers[1];
    let invite = Request::new("INVITE", "sip:bob@127.0.142.1", client.addr(), "ringing");
    client.send(setup.proxy_addr, &invite.text());
    expect(client, "SIP/2.0 100");
    let forwarded = expect(ringing_server, "INVITE");
    let rang = Instant::now();
    ringing_server.send(setup.proxy_addr, &server_reply(&forwarded, 180, "Ringing", ringing_server));
    expect(client, "SIP/2.0 180");
    let cancel = expect(ringing_server, "CANCEL");
    let waited = rang.elapsed();
    assert!(waited >= Duration::from_millis(1400) && waited < Duration::from_millis(4500), "{waited:?}");
    ringing_server.send(setup.proxy_addr, &reply_to(&cancel, 200, "OK"));
    let timeout = expect(client, "SIP/2.0 408");
    assert_eq!(header(&timeout, "CSeq"), "1 INVITE");
}

#[test]
fn a_lossy_downstream_gets_the_request_by_retransmission() {
    let setup = setup(143, "");
    let client = &setup.client;
    let invite = Request::new("INVITE", "sip:bob@127.0.143.1", client.addr(), "lossy");
    client.send(setup.proxy_addr, &invite.text());
    expect(client, "SIP/2.0 100");
    let server = &setup.servers[0];
    // The first two copies are "lost": the server ignores them.
    let first = expect(server, "INVITE");
    let second = expect(server, "INVITE");
    let third = expect(server, "INVITE");
    assert_eq!(first, second);
    assert_eq!(second, third);
    server.send(setup.proxy_addr, &server_reply(&third, 200, "OK", server));
    let ok = expect(client, "SIP/2.0 200");
    assert_eq!(header(&ok, "CSeq"), "1 INVITE");
    // A 2xx stops the retransmissions.
    server.expect_silence(Duration::from_millis(1200));
}

#[test]
fn a_retransmitted_invite_is_absorbed_and_answered_with_the_last_reply() {
    let setup = setup(144, "");
    let client = &setup.client;
    let invite = Request::new("INVITE", "sip:bob@127.0.144.1", client.addr(), "retrans");
    client.send(setup.proxy_addr, &invite.text());
    expect(client, "SIP/2.0 100");
    let server = &setup.servers[0];
    let forwarded = expect(server, "INVITE");
    server.send(setup.proxy_addr, &server_reply(&forwarded, 180, "Ringing", server));
    let ringing = expect(client, "SIP/2.0 180");

    client.send(setup.proxy_addr, &invite.text());
    let again = expect(client, "SIP/2.0 180");
    assert_eq!(again, ringing, "the last reply, byte for byte");
    server.expect_silence(QUIET);
}

#[test]
fn out_of_dialog_non_invites_get_404_and_unmatched_cancels_nothing() {
    let setup = setup(145, "");
    let client = &setup.client;
    client.send(setup.proxy_addr, &Request::new("OPTIONS", "sip:bob@127.0.145.1", client.addr(), "opt").text());
    assert_eq!(start_line(&expect(client, "SIP/2.0")), "SIP/2.0 404 Not Found");
    client.send(setup.proxy_addr, &Request::new("CANCEL", "sip:bob@127.0.145.1", client.addr(), "nothing").text());
    client.expect_silence(QUIET);
    // An in-dialog request without our Route: 404 Not here.
    let mut bye = Request::new("BYE", "sip:bob@127.0.145.1", client.addr(), "stray");
    bye.to_tag = Some("x".to_string());
    client.send(setup.proxy_addr, &bye.text());
    assert_eq!(start_line(&expect(client, "SIP/2.0")), "SIP/2.0 404 Not here");
}

#[test]
fn a_winning_503_goes_upstream_as_500() {
    let setup = setup(146, "");
    let client = &setup.client;
    client.send(setup.proxy_addr, &Request::new("INVITE", "sip:bob@127.0.146.1", client.addr(), "remap").text());
    expect(client, "SIP/2.0 100");
    let server = &setup.servers[0];
    let forwarded = expect(server, "INVITE");
    server.send(setup.proxy_addr, &reply_to(&forwarded, 503, "Service Unavailable"));
    expect(server, "ACK");
    let reply = expect(client, "SIP/2.0 5");
    assert_eq!(start_line(&reply), "SIP/2.0 500 Service Unavailable");
}

#[test]
fn a_send_failure_is_answered_by_tm_at_the_end_of_the_script() {
    // The first destination has no socket of its family: t_relay fails with E_SEND, the
    // seed's sl_reply_error() leaves the reply to tm (-3), which sends it statefully.
    let config = seed_config("12-stateful-load-balancer.cfg", &[("1.2.3.4", "[::1]"), ("2.3.4.5", "127.0.147.3")]);
    let binary = build("seed-12-unsendable", &config);
    let proxy = Proxy::start(&binary, &["-l", "udp:127.0.147.1:5060"]);
    let client = Peer::bind("127.0.147.9:0");
    let invite = Request::new("INVITE", "sip:bob@127.0.147.1", client.addr(), "unsendable");
    client.send("127.0.147.1:5060".parse().expect("address"), &invite.text());
    expect(&client, "SIP/2.0 100");
    let reply = expect(&client, "SIP/2.0 4");
    assert_eq!(start_line(&reply), "SIP/2.0 477 Unfortunately error on sending to next hop occurred (477/TM)");
    assert!(tag(header(&reply, "To")).is_some());
    let (status, log) = proxy.stop();
    assert!(status.success(), "{log}");
}
