//! sipp (Debian package sip-tester), a real SIP load generator, as the client of the
//! 200-always proxy and as both client and server through the stateless forwarder.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sipcfg_tests::proxy::{Proxy, build};
use sipcfg_tests::seed_config;

const CALLS: &str = "30";

/// Starts sipp with `args`; its screen goes to `target/e2e/<log>.log`.
fn sipp(log: &str, args: &[&str]) -> Child {
    let dir = sipcfg_tests::repo_root().join("target/e2e");
    std::fs::create_dir_all(&dir).expect("target/e2e");
    let out = std::fs::File::create(dir.join(format!("{log}.log"))).expect("sipp log");
    Command::new("sipp")
        .args(args)
        // Stop on its own even if calls hang; never wait for keyboard input.
        .args(["-nostdin", "-timeout", "30s", "-timeout_error"])
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log handle"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sipp ({e}); install the sip-tester package"))
}

fn wait(child: &mut Child, log: &str) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("sipp status") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sipp ({log}) did not finish:\n{}", screen(log));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn screen(log: &str) -> String {
    let path = sipcfg_tests::repo_root().join("target/e2e").join(format!("{log}.log"));
    std::fs::read_to_string(Path::new(&path)).unwrap_or_default()
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
    assert!(status.success(), "sipp uac: {status}\n{}\nproxy:\n{}", screen("sipp-uac-200"), proxy.log());
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
    assert!(uac_status.success(), "sipp uac: {uac_status}\n{}\nproxy:\n{}", screen("sipp-uac-fwd"), proxy.log());
    assert!(uas_status.success(), "sipp uas: {uas_status}\n{}", screen("sipp-uas-fwd"));
}
