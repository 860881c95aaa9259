//! Every stateless seed config, built with the same steps as `cargo xtask build`, run as a
//! real process and spoken to over UDP (and TCP) on loopback, behaving as
//! ../shared/reference/sip-behaviour.md §7 says. The seed's destinations (1.2.3.4, 2.3.4.5) are
//! mapped to loopback addresses where fake user agents listen; each test has its own
//! 127.0.N.0/24 so that tests can run in parallel.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sipcfg_tests::proxy::{Proxy, build};
use sipcfg_tests::seed_config;
use sipcfg_tests::sip::{Peer, Request, header, headers, reply_to, start_line, status, tag};

const QUIET: Duration = Duration::from_millis(300);

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("socket address")
}

/// Builds a seed with `destinations` mapped and starts it on `listen` with `args`.
fn run_seed(file: &str, destinations: &[(&str, &str)], listen: &str, args: &[&str]) -> Proxy {
    let name = format!("seed-{}", file.trim_end_matches(".cfg"));
    let binary = build(&name, &seed_config(file, destinations));
    let mut all = vec!["-l", listen];
    all.extend_from_slice(args);
    Proxy::start(&binary, &all)
}

#[test]
fn empty_request_route_answers_nothing_but_relays_replies() {
    let proxy_addr = addr("127.0.101.1:5060");
    let _proxy = run_seed("01-drop-all.cfg", &[], "udp:127.0.101.1:5060", &[]);
    let client = Peer::bind("127.0.101.9:0");
    for method in ["INVITE", "OPTIONS", "BYE"] {
        client.send(proxy_addr, &Request::new(method, "sip:bob@127.0.101.1", client.addr(), "drop-all").text());
    }
    client.expect_silence(QUIET);

    // There is no reply_route: a reply is relayed by its second Via.
    let request = format!(
        "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.101.1:5060;branch=z9hG4bKproxy\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKclient\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: relay-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        client.addr()
    );
    let uas = Peer::bind("127.0.101.2:0");
    uas.send(proxy_addr, &reply_to(&request, 180, "Ringing"));
    let (relayed, from) = client.recv();
    assert_eq!(from, proxy_addr);
    assert_eq!(status(&relayed), 180);
    assert_eq!(headers(&relayed, "Via"), vec![format!("SIP/2.0/UDP {};branch=z9hG4bKclient", client.addr())]);
}

#[test]
fn exit_and_drop_answer_nothing_and_relay_nothing() {
    let proxy_addr = addr("127.0.102.1:5060");
    let _proxy = run_seed("02-drop-requests-and-replies.cfg", &[], "udp:127.0.102.1:5060", &[]);
    let client = Peer::bind("127.0.102.9:0");
    client.send(proxy_addr, &Request::new("INVITE", "sip:bob@127.0.102.1", client.addr(), "drop-2").text());
    let request = format!(
        "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.102.1:5060;branch=z9hG4bKproxy\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKclient\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: relay-2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        client.addr()
    );
    Peer::bind("127.0.102.2:0").send(proxy_addr, &reply_to(&request, 200, "OK"));
    client.expect_silence(QUIET);
}

#[test]
fn rewritehostport_and_forward_relays_both_ways() {
    let proxy_addr = addr("127.0.103.1:5060");
    let uas = Peer::bind("127.0.103.2:5060");
    let _proxy = run_seed("03-forward-rewrite.cfg", &[("1.2.3.4", "127.0.103.2")], "udp:127.0.103.1:5060", &[]);
    let client = Peer::bind("127.0.103.9:0");
    let invite = Request::new("INVITE", "sip:bob@example.com:5080;user=phone", client.addr(), "fwd-3");
    client.send(proxy_addr, &invite.text());

    let (forwarded, from) = uas.recv();
    assert_eq!(from, proxy_addr);
    // Host and port replaced, parameters kept.
    assert_eq!(start_line(&forwarded), "INVITE sip:bob@127.0.103.2;user=phone SIP/2.0");
    let vias = headers(&forwarded, "Via");
    assert_eq!(vias.len(), 2, "{forwarded}");
    assert!(vias[0].starts_with("SIP/2.0/UDP 127.0.103.1;branch=z9hG4bK"), "{}", vias[0]);
    assert_eq!(vias[1], format!("SIP/2.0/UDP {};branch={}", client.addr(), invite.branch));
    // No Max-Forwards change without maxfwd.
    assert_eq!(header(&forwarded, "Max-Forwards"), "70");

    // A retransmission goes out with the same branch.
    client.send(proxy_addr, &invite.text());
    let (again, _) = uas.recv();
    assert_eq!(headers(&again, "Via")[0], vias[0]);

    // Replies come back by Via: ours removed.
    for (code, reason) in [(180, "Ringing"), (200, "OK")] {
        uas.send(proxy_addr, &reply_to(&forwarded, code, reason));
        let (reply, from) = client.recv();
        assert_eq!(from, proxy_addr);
        assert_eq!(status(&reply), code);
        assert_eq!(headers(&reply, "Via"), vec![format!("SIP/2.0/UDP {};branch={}", client.addr(), invite.branch)]);
    }

    // Every method is forwarded, each with its own branch.
    let mut bye = Request::new("BYE", "sip:bob@example.com", client.addr(), "fwd-3");
    bye.cseq = 2;
    client.send(proxy_addr, &bye.text());
    let (forwarded_bye, _) = uas.recv();
    assert_eq!(start_line(&forwarded_bye), "BYE sip:bob@127.0.103.2 SIP/2.0");
    assert_ne!(headers(&forwarded_bye, "Via")[0], vias[0]);
}

#[test]
fn forward_to_a_fixed_host_keeps_the_request_uri() {
    let proxy_addr = addr("127.0.104.1:5060");
    let uas = Peer::bind("127.0.104.2:5060");
    let _proxy = run_seed("04-forward-ip.cfg", &[("1.2.3.4", "127.0.104.2")], "udp:127.0.104.1:5060", &[]);
    let client = Peer::bind("127.0.104.9:0");
    let options = Request::new("OPTIONS", "sip:carol@example.org", client.addr(), "fwd-4");
    client.send(proxy_addr, &options.text());
    let (forwarded, from) = uas.recv();
    assert_eq!(from, proxy_addr);
    assert_eq!(start_line(&forwarded), "OPTIONS sip:carol@example.org SIP/2.0");
    assert!(headers(&forwarded, "Via")[0].starts_with("SIP/2.0/UDP 127.0.104.1;branch=z9hG4bK"));
    uas.send(proxy_addr, &reply_to(&forwarded, 200, "OK"));
    assert_eq!(status(&client.recv().0), 200);
}

#[test]
fn always_200_with_a_stable_tag_over_udp_and_tcp() {
    let proxy_addr = addr("127.0.105.1:5060");
    // No protocol: UDP and TCP, as Kamailio.
    let proxy = run_seed("05-reply-200.cfg", &[], "127.0.105.1:5060", &["-d", "-d", "-d"]);
    let client = Peer::bind("127.0.105.9:0");
    let invite = Request::new("INVITE", "sip:bob@127.0.105.1", client.addr(), "ok-5");
    client.send(proxy_addr, &invite.text());
    let (first, from) = client.recv();
    assert_eq!(from, proxy_addr);
    assert_eq!(start_line(&first), "SIP/2.0 200 OK");
    let to_tag = tag(header(&first, "To")).expect("a To-tag").to_string();
    assert_eq!(header(&first, "Call-ID"), "ok-5");
    assert_eq!(header(&first, "CSeq"), "1 INVITE");

    // The retransmission gets the identical reply.
    client.send(proxy_addr, &invite.text());
    assert_eq!(client.recv().0, first);

    // The ACK for a 2xx reaches the script; sl refuses to answer it.
    let mut ack = Request::new("ACK", "sip:bob@127.0.105.1", client.addr(), "ok-5");
    ack.to_tag = Some(to_tag.clone());
    client.send(proxy_addr, &ack.text());
    client.expect_silence(QUIET);
    assert!(!proxy.log().contains("sl absorbed"), "{}", proxy.log());

    // An in-dialog request keeps its To-tag.
    let mut bye = Request::new("BYE", "sip:bob@127.0.105.1", client.addr(), "ok-5");
    bye.cseq = 2;
    bye.to_tag = Some("dialog-tag".to_string());
    client.send(proxy_addr, &bye.text());
    let (reply, _) = client.recv();
    assert_eq!(status(&reply), 200);
    assert_eq!(tag(header(&reply, "To")), Some("dialog-tag"));

    // TCP: the reply comes back on the same connection.
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(proxy_addr).expect("tcp connect");
    stream.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    let local = stream.local_addr().expect("local");
    let options =
        Request::new("OPTIONS", "sip:bob@127.0.105.1", local, "ok-5-tcp").text().replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    stream.write_all(options.as_bytes()).expect("tcp send");
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("\r\n\r\n") {
        let n = stream.read(&mut buf).expect("tcp reply");
        assert!(n > 0, "connection closed");
        received.extend_from_slice(&buf[..n]);
    }
    let reply = String::from_utf8_lossy(&received);
    assert_eq!(start_line(&reply), "SIP/2.0 200 OK");
    assert_eq!(header(&reply, "Call-ID"), "ok-5-tcp");
}

fn selective(file: &str, net: u8) {
    let proxy_addr = addr(&format!("127.0.{net}.1:5060"));
    let _proxy = run_seed(file, &[], &format!("udp:127.0.{net}.1:5060"), &[]);
    let client = Peer::bind(&format!("127.0.{net}.9:0"));
    let expected = [
        ("INVITE", 200, "OK"),
        ("BYE", 200, "OK"),
        ("CANCEL", 200, "OK"),
        ("MESSAGE", 202, "Accepted"),
        ("OPTIONS", 403, "Forbidden"),
        ("REGISTER", 403, "Forbidden"),
        ("SUBSCRIBE", 403, "Forbidden"),
    ];
    for (method, code, reason) in expected {
        let request = Request::new(method, &format!("sip:bob@127.0.{net}.1"), client.addr(), &format!("sel-{method}"));
        client.send(proxy_addr, &request.text());
        let (reply, _) = client.recv();
        assert_eq!(start_line(&reply), format!("SIP/2.0 {code} {reason}"), "{method}");
        assert_eq!(header(&reply, "CSeq"), format!("1 {method}"));
    }
}

#[test]
fn selective_replies_by_is_method() {
    selective("06-selective-is-method.cfg", 106);
}

#[test]
fn selective_replies_by_method_keyword() {
    selective("07-selective-method-keyword.cfg", 107);
}

#[test]
fn redirect_lists_the_rewritten_uri_and_absorbs_the_ack() {
    let proxy_addr = addr("127.0.108.1:5060");
    // At debug level the proxy says when sl absorbs an ACK.
    let proxy = run_seed("08-redirect.cfg", &[("1.2.3.4", "127.0.108.2")], "udp:127.0.108.1:5060", &["-d", "-d", "-d"]);
    let client = Peer::bind("127.0.108.9:0");
    let invite = Request::new("INVITE", "sip:bob@example.com;transport=udp", client.addr(), "redir-8");
    client.send(proxy_addr, &invite.text());
    let (reply, _) = client.recv();
    assert_eq!(start_line(&reply), "SIP/2.0 302 Moved Temporarily");
    assert_eq!(headers(&reply, "Contact"), vec!["<sip:bob@127.0.108.2;transport=udp>"]);
    // The ACK for the 302 (same branch, the reply's To-tag) is absorbed by sl: no reply.
    let mut ack = invite.clone();
    ack.method = "ACK".to_string();
    ack.to_tag = tag(header(&reply, "To")).map(str::to_string);
    client.send(proxy_addr, &ack.text());
    client.expect_silence(QUIET);
    assert!(proxy.log().contains("sl absorbed the ACK"), "{}", proxy.log());
}

#[test]
fn redirect_with_two_contacts() {
    let proxy_addr = addr("127.0.109.1:5060");
    let _proxy = run_seed(
        "09-redirect-two-contacts.cfg",
        &[("1.2.3.4", "127.0.109.2"), ("2.3.4.5", "127.0.109.3")],
        "udp:127.0.109.1:5060",
        &[],
    );
    let client = Peer::bind("127.0.109.9:0");
    client.send(proxy_addr, &Request::new("INVITE", "sip:bob@example.com", client.addr(), "redir-9").text());
    let (reply, _) = client.recv();
    assert_eq!(status(&reply), 302);
    // The current R-URI first, then the branch appended before the second rewrite.
    assert_eq!(headers(&reply, "Contact"), vec!["<sip:bob@127.0.109.3>, <sip:bob@127.0.109.2>"]);
}

/// Sends INVITEs one at a time and returns which UAS got each.
fn destinations_in_turn(proxy: SocketAddr, clients: &[Peer], uases: &[&Peer], count: usize) -> Vec<usize> {
    let mut order = Vec::new();
    for n in 0..count {
        let client = &clients[n % clients.len()];
        let invite = Request::new("INVITE", "sip:bob@example.com", client.addr(), &format!("rr-{n}"));
        client.send(proxy, &invite.text());
        let deadline = Instant::now() + Duration::from_secs(2);
        let got = loop {
            if let Some(i) = uases.iter().position(|uas| uas.recv_within(Duration::from_millis(5)).is_some()) {
                break i;
            }
            assert!(Instant::now() < deadline, "INVITE {n} was not forwarded");
        };
        order.push(got);
    }
    order
}

#[test]
fn per_worker_round_robin_alternates_with_one_worker() {
    let proxy_addr = addr("127.0.110.1:5060");
    let first = Peer::bind("127.0.110.2:5060");
    let second = Peer::bind("127.0.110.3:5060");
    let _proxy = run_seed(
        "10-round-robin-per-worker.cfg",
        &[("1.2.3.4", "127.0.110.2"), ("2.3.4.5", "127.0.110.3")],
        "udp:127.0.110.1:5060",
        &["-n", "1"],
    );
    let clients = [Peer::bind("127.0.110.9:0"), Peer::bind("127.0.110.10:0")];
    let order = destinations_in_turn(proxy_addr, &clients, &[&first, &second], 8);
    // $var(i) starts at 0: the first INVITE makes it 1 and goes to 1.2.3.4.
    assert_eq!(order, vec![0, 1, 0, 1, 0, 1, 0, 1]);
    // Anything else is refused.
    clients[0].send(proxy_addr, &Request::new("OPTIONS", "sip:bob@example.com", clients[0].addr(), "rr-opt").text());
    assert_eq!(start_line(&clients[0].recv().0), "SIP/2.0 404 Not Found");
}

/// Datagrams received until a second passes without one.
fn count_until_quiet(peer: &Peer) -> usize {
    let mut n = 0;
    while peer.recv_within(Duration::from_secs(1)).is_some() {
        n += 1;
    }
    n
}

/// Voluntary context switches of each UDP worker thread of `pid`: a worker that received
/// datagrams has slept and woken again.
fn worker_wakeups(pid: u32) -> Vec<u64> {
    let mut counts = Vec::new();
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc task list");
    let mut tasks: Vec<_> = tasks.map(|t| t.expect("task").path()).collect();
    tasks.sort();
    for task in tasks {
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if !name.starts_with("udp-worker") {
            continue;
        }
        let status = std::fs::read_to_string(task.join("status")).unwrap_or_default();
        let switches = status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        counts.push(switches);
    }
    counts
}

#[test]
fn shared_round_robin_alternates_across_two_workers_under_load() {
    let proxy_addr = addr("127.0.111.1:5060");
    let first = Peer::bind("127.0.111.2:5060");
    let second = Peer::bind("127.0.111.3:5060");
    let proxy = run_seed(
        "11-round-robin-shared.cfg",
        &[("1.2.3.4", "127.0.111.2"), ("2.3.4.5", "127.0.111.3")],
        "udp:127.0.111.1:5060",
        &["-n", "2"],
    );
    // Many source ports, so that SO_REUSEPORT spreads them over both workers.
    let clients: Vec<Peer> = (10..26).map(|n| Peer::bind(&format!("127.0.111.{n}:0"))).collect();
    // Threads name themselves once running, maybe just after the proxy says it listens.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut before = worker_wakeups(proxy.pid());
    while before.len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        before = worker_wakeups(proxy.pid());
    }
    assert_eq!(before.len(), 2, "two UDP workers");

    // One at a time: strict alternation whichever worker takes each INVITE.
    let order = destinations_in_turn(proxy_addr, &clients, &[&first, &second], 16);
    assert_eq!(order, [0, 1].repeat(8));

    // All at once: the lock makes every increment count, so the split is exact.
    const PER_CLIENT: usize = 25;
    let total = clients.len() * PER_CLIENT;
    let (a, b) = std::thread::scope(|scope| {
        let counter_a = scope.spawn(|| count_until_quiet(&first));
        let counter_b = scope.spawn(|| count_until_quiet(&second));
        for (c, client) in clients.iter().enumerate() {
            scope.spawn(move || {
                for n in 0..PER_CLIENT {
                    let invite = Request::new("INVITE", "sip:bob@example.com", client.addr(), &format!("load-{c}-{n}"));
                    client.send(proxy_addr, &invite.text());
                    // Paced a little so that no socket buffer overflows on a slow machine.
                    std::thread::sleep(Duration::from_micros(500));
                }
            });
        }
        (counter_a.join().expect("count"), counter_b.join().expect("count"))
    });
    assert_eq!((a, b), (total / 2, total / 2), "{}", proxy.log());
    let after = worker_wakeups(proxy.pid());
    assert!(before.iter().zip(&after).all(|(b, a)| a > b), "both workers took INVITEs: {before:?} → {after:?}");
}

#[test]
fn shared_round_robin_redirect_alternates_contacts() {
    let proxy_addr = addr("127.0.113.1:5060");
    let _proxy = run_seed(
        "13-round-robin-redirect.cfg",
        &[("1.2.3.4", "127.0.113.2"), ("2.3.4.5", "127.0.113.3")],
        "udp:127.0.113.1:5060",
        &["-n", "2"],
    );
    let client = Peer::bind("127.0.113.9:0");
    let mut contacts = Vec::new();
    for n in 0..4 {
        client.send(
            proxy_addr,
            &Request::new("INVITE", "sip:bob@example.com", client.addr(), &format!("rrr-{n}")).text(),
        );
        let (reply, _) = client.recv();
        assert_eq!(status(&reply), 302);
        contacts.push(header(&reply, "Contact").to_string());
    }
    let a = "<sip:bob@127.0.113.2>".to_string();
    let b = "<sip:bob@127.0.113.3>".to_string();
    assert_eq!(contacts, vec![a.clone(), b.clone(), a, b]);
}

#[test]
fn the_proxy_stops_cleanly_on_sigterm() {
    let proxy = run_seed("05-reply-200.cfg", &[], "udp:127.0.114.1:5060", &[]);
    let (status, log) = proxy.stop();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("sipcfg proxy stopped"), "{log}");
}
