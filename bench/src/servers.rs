//! Starting and stopping the servers under test: Kamailio, a sipcfg-built proxy, the floor,
//! and the downstream servers of the forwarding workloads (the floor in echo mode, sipp uas).

use std::net::SocketAddr;
#[cfg(test)]
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's kamailio package puts its modules.
pub const KAMAILIO_MODULES: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

/// The address every proxy under test listens on.
pub const PROXY_ADDR: &str = "127.0.0.1:5060";

/// A process started for the benchmark, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub name: String,
}

impl Server {
    /// Takes charge of a process started elsewhere.
    pub fn adopt(child: Child, name: &str) -> Server {
        Server { child: Some(child), name: name.to_string() }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn stop(mut self) {
        self.terminate();
    }

    /// SIGTERM, then SIGKILL for whatever of the process tree is left: a Kamailio child
    /// that outlives its parent keeps the port and would take part of the next run's load.
    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let tree = crate::measure::process_tree(child.id());
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        for pid in tree.iter().skip(1) {
            if std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// What answers on the proxy address.
#[derive(Clone, Debug)]
pub enum Side {
    Kamailio,
    Sipcfg(PathBuf),
    /// The floor program (this binary's `floor` command).
    Floor(crate::floor::Mode),
}

impl Side {
    pub fn label(&self) -> &'static str {
        match self {
            Side::Kamailio => "kamailio",
            Side::Sipcfg(_) => "sipcfg",
            Side::Floor(_) => "floor",
        }
    }
}

/// Kamailio's command line for the benchmark: foreground, log to stderr, TLSF allocator,
/// modules from Debian's package, `children` UDP workers on [`PROXY_ADDR`].
pub fn kamailio_args(config: &Path, children: &str, run_dir: &Path) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["-f".into(), config.into()];
    args.extend(["-DD", "-E", "-x", "tlsf", "-L", KAMAILIO_MODULES, "-n", children, "-l"].map(Into::into));
    args.push(format!("udp:{PROXY_ADDR}").into());
    args.extend(["-w".into(), run_dir.into(), "-Y".into(), run_dir.into()]);
    args
}

/// Starts `side` on [`PROXY_ADDR`] with `children` UDP workers and waits until it listens.
pub fn start(side: &Side, config: &Path, children: u32, logs: &Path) -> Result<Server, String> {
    let proxy: SocketAddr = PROXY_ADDR.parse().expect("proxy address");
    wait_free(PROXY_ADDR);
    if is_bound(proxy) {
        return Err(format!("{PROXY_ADDR} is still taken by another process; stop it first"));
    }
    let children = children.to_string();
    let mut command = match side {
        Side::Kamailio => {
            let mut c = Command::new("kamailio");
            let run_dir = logs.join("kamailio-run");
            std::fs::create_dir_all(&run_dir).map_err(|e| e.to_string())?;
            c.args(kamailio_args(config, &children, &run_dir));
            c
        }
        Side::Sipcfg(binary) => {
            let mut c = Command::new(binary);
            c.args(["-E", "-n", &children, "-l"]).arg(format!("udp:{PROXY_ADDR}"));
            c
        }
        Side::Floor(mode) => {
            let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            let mode = match mode {
                crate::floor::Mode::Fixed => "fixed",
                crate::floor::Mode::Echo => "echo",
            };
            c.args(["floor", "--listen", PROXY_ADDR, "--mode", mode]);
            c
        }
    };
    let log = std::fs::File::create(logs.join(format!("{}.log", side.label()))).map_err(|e| e.to_string())?;
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", side.label()))?;
    let server = Server { child: Some(child), name: side.label().to_string() };
    wait_bound(PROXY_ADDR.parse().expect("proxy address"), Duration::from_secs(10))
        .map_err(|e| format!("{}: {e}", side.label()))?;
    // Kamailio forks its workers after binding; give every process time to be ready.
    std::thread::sleep(Duration::from_millis(400));
    Ok(server)
}

/// Starts the echo floor as a downstream server on `addr`.
pub fn start_echo(addr: &str, logs: &Path) -> Result<Server, String> {
    let log = std::fs::File::create(logs.join(format!("echo-{addr}.log"))).map_err(|e| e.to_string())?;
    let child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["floor", "--listen", addr, "--mode", "echo"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start the echo server: {e}"))?;
    let server = Server { child: Some(child), name: format!("echo {addr}") };
    wait_bound(addr.parse().map_err(|e| format!("{addr}: {e}"))?, Duration::from_secs(5))?;
    Ok(server)
}

/// Whether a UDP socket is bound to `addr`, from /proc/net/udp (binding a probe socket
/// instead would race with the server's own bind).
fn is_bound(addr: SocketAddr) -> bool {
    let SocketAddr::V4(v4) = addr else { return false };
    let wanted = format!("{:08X}:{:04X}", u32::from_le_bytes(v4.ip().octets()), v4.port());
    std::fs::read_to_string("/proc/net/udp")
        .map(|table| table.lines().skip(1).any(|line| line.split_whitespace().nth(1) == Some(wanted.as_str())))
        .unwrap_or(false)
}

/// Waits until something is bound to `addr`.
pub fn wait_bound(addr: SocketAddr, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if is_bound(addr) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("nothing listens on {addr} after {limit:?}"))
}

/// Waits until nothing is bound to `addr` any more (the previous server is gone).
pub fn wait_free(addr: &str) {
    let Ok(addr) = addr.parse::<SocketAddr>() else { return };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && is_bound(addr) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_socket_is_seen_in_proc() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = socket.local_addr().expect("addr");
        assert!(is_bound(addr));
        drop(socket);
        assert!(!is_bound(addr));
    }
}
