//! Soak: 60 s of calls at a steady 20 calls/s through the seed's stateful load balancer,
//! with 5% of the datagrams towards each endpoint lost by relays written here. RFC 3261
//! retransmission (sipp's and ours) must save every call, and the transaction table must be
//! empty afterwards.
//!
//!   sipp uac ⇄ relay (loses 5% towards the client) ⇄ proxy
//!   proxy → relay (loses 5% towards the server) → sipp uas 1, 2 (replies come back directly)
//!
//! Lost INVITEs are retransmitted by the proxy, lost replies make the client retransmit
//! (absorbed by the proxy, which answers with the last reply) and the servers retransmit
//! their 200 (relayed again). Loss is one way per link because sipp cannot take the other
//! cases: as a server it aborts a call when the INVITE comes again after it answered, and as
//! a client it takes a retransmitted 200 for the INVITE as the 200 for its BYE. The other
//! directions are covered by `stateful_seed.rs` (a downstream that loses the first copies).
//! In-dialog requests go from the proxy straight to the server's Contact.

use std::net::SocketAddr;
use std::time::Duration;

use sipcfg_tests::lossy::{FROM_FAR, LossyRelay, TOWARDS_FAR};
use sipcfg_tests::proxy::{Proxy, build};
use sipcfg_tests::{seed_config, sipp_run};

const CALLS: u32 = 1200;
const RATE: u32 = 20;
const LOSS: f64 = 0.05;

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("address")
}

#[test]
fn sixty_seconds_of_calls_with_five_percent_loss() {
    // The proxy sends to the relays, which pass on to the servers.
    let config =
        seed_config("12-stateful-load-balancer.cfg", &[("1.2.3.4", "127.0.124.2"), ("2.3.4.5", "127.0.124.3")]);
    let binary = build("soak-12-stateful", &config);
    let proxy = Proxy::start(&binary, &["-l", "udp:127.0.124.1:5060", "-n", "2"]);
    let client_link = LossyRelay::start_with("127.0.124.4:5060", addr("127.0.124.1:5060"), (0.0, LOSS), 1);
    let server_links = [
        LossyRelay::start_with("127.0.124.2:5060", addr("127.0.124.12:5060"), (LOSS, 0.0), 2),
        LossyRelay::start_with("127.0.124.3:5060", addr("127.0.124.13:5060"), (LOSS, 0.0), 3),
    ];

    let uas = sipp_run::scenario("uas_record_route.xml");
    let uac = sipp_run::scenario("uac_record_route.xml");
    let half = (CALLS / 2).to_string();
    // Enough retransmissions that a run of losses does not end a call (RFC 3261 gives up
    // after 64*T1; sipp's default is fewer tries).
    let retries = ["-max_retrans", "20", "-max_invite_retrans", "20", "-max_non_invite_retrans", "20"];
    let mut servers: Vec<_> = [("127.0.124.12", "soak-uas-1"), ("127.0.124.13", "soak-uas-2")]
        .into_iter()
        .map(|(ip, log)| {
            let mut args = vec!["-sf", &uas, "-i", ip, "-p", "5060", "-m", &half];
            args.extend(retries);
            (sipp_run::start(log, &args, "150s"), log)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (calls, rate) = (CALLS.to_string(), RATE.to_string());
    let mut args = vec!["-sf", &uac, "127.0.124.4:5060", "-s", "bob", "-i", "127.0.124.9", "-p", "5061"];
    args.extend(["-m", &calls, "-r", &rate]);
    args.extend(retries);
    let mut client = sipp_run::start("soak-uac", &args, "150s");

    let status = sipp_run::wait(&mut client, "soak-uac", Duration::from_secs(180));
    let screen = sipp_run::screen("soak-uac");
    assert!(status.success(), "sipp uac: {status}\n{screen}\nproxy:\n{}", proxy.log());
    assert_eq!(sipp_run::cumulative(&screen, "Successful call"), Some(u64::from(CALLS)), "{screen}");
    assert_eq!(sipp_run::cumulative(&screen, "Failed call"), Some(0), "{screen}");
    for (server, log) in &mut servers {
        let status = sipp_run::wait(server, log, Duration::from_secs(60));
        assert!(status.success(), "sipp uas: {status}\n{}", sipp_run::screen(log));
    }
    // The links really lost datagrams: about LOSS of what went the lossy way. (That way carries
    // a varying share of a link's traffic: in-dialog requests go to the servers' Contact, past
    // their links, so a server link loses only from INVITEs and their retransmissions.)
    let lossy_ways = [(&client_link, FROM_FAR), (&server_links[0], TOWARDS_FAR), (&server_links[1], TOWARDS_FAR)];
    for (link, way) in lossy_ways {
        let (dropped, seen) = link.one_way(way);
        let share = dropped as f64 / seen.max(1) as f64;
        eprintln!(
            "{}: lost {dropped} of the {seen} datagrams going the lossy way ({} carried in all)",
            link.addr,
            link.dropped() + link.forwarded()
        );
        // Binomial(seen, 5%): a few hundred datagrams at least, so 2-9% is over 3 sigma wide.
        assert!(seen >= 300 && (0.02..0.09).contains(&share), "{}: lost {dropped} of {seen}", link.addr);
    }
    // Every transaction ends: completed ones after wt_timer (5 s), ours retransmitted at
    // most fr_timer.
    std::thread::sleep(Duration::from_secs(6));
    let (status, log) = proxy.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("stopped: 0 transactions in the table"), "{log}");
}
