//! How long a built proxy takes from `exec` to answering its first request: the 200-always
//! seed is started, and OPTIONS are sent every 200 µs until one is answered.
//!
//! `cargo bench -p sipcfg-tests --bench startup`

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sipcfg_tests::proxy::build;
use sipcfg_tests::seed_config;
use sipcfg_tests::sip::Request;

fn main() {
    divan::main();
}

/// Kills the proxy when dropped, after the timing.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[divan::bench(sample_count = 40, sample_size = 1)]
fn exec_to_first_reply(bencher: divan::Bencher<'_, '_>) {
    let binary = build("bench-startup", &seed_config("05-reply-200.cfg", &[]));
    let client = UdpSocket::bind("127.0.130.9:0").expect("client socket");
    client.set_read_timeout(Some(Duration::from_micros(200))).expect("timeout");
    let request =
        Request::new("OPTIONS", "sip:bench@127.0.130.1", client.local_addr().expect("addr"), "startup").text();
    let mut buf = [0u8; 4096];
    bencher.bench_local(|| {
        let child = Command::new(&binary)
            .args(["-l", "udp:127.0.130.1:5060"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("proxy starts");
        loop {
            // Until the proxy binds, the datagram is refused (ICMP) or dropped.
            let _ = client.send_to(request.as_bytes(), "127.0.130.1:5060");
            if client.recv_from(&mut buf).is_ok() {
                break;
            }
        }
        Running(child)
    });
}
