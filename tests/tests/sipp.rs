//! sipp (Debian package sip-tester), a real SIP load generator: as the client of the
//! 200-always proxy, as client and server through the stateless forwarder, and as client and
//! two servers through the seed's stateful load balancer (scenarios in tests/sipp/).

use std::process::{Child, ExitStatus};
use std::time::Duration;

use sipcfg_tests::proxy::{Proxy, build};
use sipcfg_tests::{seed_config, sipp_run};

const CALLS: &str = "30";

fn sipp(log: &str, args: &[&str]) -> Child {
    sipp_run::start(log, args, "30s")
}

fn wait(child: &mut Child, log: &str) -> ExitStatus {
    sipp_run::wait(child, log, Duration::from_secs(90))
}

#[test]
fn sipp_calls_against_the_200_always_proxy() {
    let binary = build("sipp-05-reply-200", &seed_config("05-reply-200.cfg", &[]));
    let proxy = Proxy::start(&binary, &["-l", "udp:127.0.120.1:5060"]);
    // INVITE → 200, ACK (reaches the script, not answered), BYE → 200; 30 calls at 30 cps.
    let mut uac = sipp(
        "sipp-uac-200",
        &["-sn", "uac", "127.0.120.1:5060", "-i", "127.0.120.9", "-p", "5061", "-m", CALLS, "-r", CALLS, "-d", "20"],
    );
    let status = wait(&mut uac, "sipp-uac-200");
    assert!(status.success(), "sipp uac: {status}\n{}\nproxy:\n{}", sipp_run::screen("sipp-uac-200"), proxy.log());
}

#[test]
fn sipp_calls_through_the_stateless_forwarder() {
    let config = seed_config("03-forward-rewrite.cfg", &[("1.2.3.4", "127.0.121.2")]);
    let binary = build("sipp-03-forward-rewrite", &config);
    let proxy = Proxy::start(&binary, &["-l", "udp:127.0.121.1:5060"]);
    let mut uas = sipp("sipp-uas-fwd", &["-sn", "uas", "-i", "127.0.121.2", "-p", "5060", "-m", CALLS]);
    // Give the server a moment to bind before calls start.
    std::thread::sleep(Duration::from_millis(300));
    let mut uac = sipp(
        "sipp-uac-fwd",
        &[
            "-sn",
            "uac",
            "127.0.121.1:5060",
            "-s",
            "bob",
            "-i",
            "127.0.121.9",
            "-p",
            "5061",
            "-m",
            CALLS,
            "-r",
            CALLS,
            "-d",
            "20",
        ],
    );
    let uac_status = wait(&mut uac, "sipp-uac-fwd");
    let uas_status = wait(&mut uas, "sipp-uas-fwd");
    assert!(
        uac_status.success(),
        "sipp uac: {uac_status}\n{}\nproxy:\n{}",
        sipp_run::screen("sipp-uac-fwd"),
        proxy.log()
    );
    assert!(uas_status.success(), "sipp uas: {uas_status}\n{}", sipp_run::screen("sipp-uas-fwd"));
}

#[test]
fn sipp_1000_calls_through_the_stateful_load_balancer() {
    let config =
        seed_config("12-stateful-load-balancer.cfg", &[("1.2.3.4", "127.0.122.2"), ("2.3.4.5", "127.0.122.3")]);
    let binary = build("sipp-12-stateful", &config);
    let proxy = Proxy::start(&binary, &["-l", "udp:127.0.122.1:5060", "-n", "2"]);
    let uas_scenario = sipp_run::scenario("uas_record_route.xml");
    let uac_scenario = sipp_run::scenario("uac_record_route.xml");
    // The load balancer alternates: each server takes exactly half of the calls.
    let mut servers: Vec<(Child, &str)> = ["127.0.122.2", "127.0.122.3"]
        .into_iter()
        .zip(["sipp-uas-lb-1", "sipp-uas-lb-2"])
        .map(|(ip, log)| {
            (sipp_run::start(log, &["-sf", &uas_scenario, "-i", ip, "-p", "5060", "-m", "500"], "60s"), log)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut uac = sipp_run::start(
        "sipp-uac-lb",
        &[
            "-sf",
            &uac_scenario,
            "127.0.122.1:5060",
            "-s",
            "bob",
            "-i",
            "127.0.122.9",
            "-p",
            "5061",
            "-m",
            "1000",
            "-r",
            "100",
        ],
        "60s",
    );
    let uac_status = wait(&mut uac, "sipp-uac-lb");
    assert!(
        uac_status.success(),
        "sipp uac: {uac_status}\n{}\nproxy:\n{}",
        sipp_run::screen("sipp-uac-lb"),
        proxy.log()
    );
    for (server, log) in &mut servers {
        let status = wait(server, log);
        let screen = sipp_run::screen(log);
        assert!(status.success(), "sipp uas: {status}\n{screen}");
        // Without loss every ACK arrives (routed by loose_route, sent on statelessly).
        assert_eq!(sipp_run::messages(&screen, "ACK"), Some(500), "{screen}");
    }
    let uac_screen = sipp_run::screen("sipp-uac-lb");
    assert_eq!(sipp_run::cumulative(&uac_screen, "Successful call"), Some(1000), "{uac_screen}");
    assert_eq!(sipp_run::cumulative(&uac_screen, "Failed call"), Some(0), "{uac_screen}");
    // Every transaction is deleted once its wait time (wt_timer, 5 s) is over.
    std::thread::sleep(Duration::from_secs(6));
    let (status, log) = proxy.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("stopped: 0 transactions in the table"), "{log}");
}
