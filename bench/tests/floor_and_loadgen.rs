//! The load generator against the floor program on loopback: every request answered, in both
//! of the generator's modes and both of the floor's.

use std::net::SocketAddr;
use std::time::Duration;

use sipcfg_bench::floor::{self, Mode};
use sipcfg_bench::loadgen::{self, LoadSpec, Offer};

fn serve(addr: &str, mode: Mode) -> SocketAddr {
    let addr: SocketAddr = addr.parse().expect("address");
    std::thread::spawn(move || floor::serve(addr, mode));
    std::thread::sleep(Duration::from_millis(200));
    addr
}

fn load(target: SocketAddr, requests: u64, offer: Offer) -> loadgen::LoadResult {
    let spec = LoadSpec {
        target,
        local: "127.0.0.1:0".parse().expect("address"),
        method: "OPTIONS",
        requests,
        offer,
        drain: Duration::from_secs(2),
    };
    loadgen::run(&spec).expect("load generator")
}

#[test]
fn a_window_of_requests_is_answered_in_full_by_the_fixed_floor() {
    let target = serve("127.0.0.81:5060", Mode::Fixed);
    let result = load(target, 20_000, Offer::Window(128));
    assert_eq!((result.sent, result.answered, result.garbage), (20_000, 20_000, 0), "{result:?}");
    assert_eq!(result.by_class, [20_000, 0, 0, 0, 0]);
}

#[test]
fn a_paced_rate_is_answered_in_full_by_the_echo_floor() {
    let target = serve("127.0.0.82:5060", Mode::Echo);
    let result = load(target, 400, Offer::Rate { per_second: 2000, tick: Duration::ZERO });
    assert_eq!((result.sent, result.answered), (400, 400), "{result:?}");
    // 400 requests at 2000/s take about 0.2 s.
    assert!(result.elapsed >= Duration::from_millis(150), "{result:?}");
    let bursts = load(target, 400, Offer::Rate { per_second: 2000, tick: Duration::from_millis(6) });
    assert_eq!(bursts.answered, 400, "{bursts:?}");
}
