//! Instructions per request, counted by `valgrind --tool=callgrind`: repeatable on a busy
//! machine, so a regression in the hot path shows as a changed number, not as noise.
//!
//! Each server runs twice under callgrind (every process it forks traced), answering N and
//! then 2N requests of the Rust load generator; the difference divided by N removes start-up
//! and shutdown. The stateful load balancer is counted per call the same way, with sipp
//! placing the calls and answering them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{self, Harness, Moderate, WORKLOADS, Workload};
use crate::loadgen::{self, LoadSpec, Offer};
use crate::servers::{self, PROXY_ADDR, Side};

/// Requests of the shorter run.
pub const REQUESTS: u64 = 5_000;

/// Calls of the shorter stateful run, and their rate: under valgrind both servers keep up
/// with 100 calls/s without retransmissions.
pub const CALLS: u64 = 1_000;
const CALL_RATE: u64 = 100;

/// The workloads counted: all of them.
pub fn workloads() -> impl Iterator<Item = &'static Workload> {
    WORKLOADS.iter()
}

/// Instructions per request (per call for the stateful workload) of `side` on `workload`.
pub fn per_request(root: &Path, logs: &Path, workload: &Workload, side: &Side) -> Result<f64, String> {
    let n = match workload.moderate {
        Moderate::Calls => CALLS,
        Moderate::Requests(_) => REQUESTS,
    };
    let short = total(root, logs, workload, side, n)?;
    let long = total(root, logs, workload, side, 2 * n)?;
    Ok((long as f64 - short as f64) / n as f64)
}

fn total(root: &Path, logs: &Path, workload: &Workload, side: &Side, requests: u64) -> Result<u64, String> {
    let dir = logs.join(format!("callgrind-{}-{}-{requests}", workload.name, side.label()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = root.join("bench/configs").join(workload.config);
    let mut command = Command::new("valgrind");
    command
        .args(["--tool=callgrind", "--trace-children=yes"])
        .arg(format!("--callgrind-out-file={}/callgrind.%p", dir.display()));
    match side {
        Side::Kamailio => {
            command.arg("kamailio").args(servers::kamailio_args(&config, "1", &dir));
        }
        Side::Sipcfg(binary) => {
            command.arg(binary).args(["-E", "-n", "1", "-l"]).arg(format!("udp:{PROXY_ADDR}"));
        }
        Side::Floor(_) => return Err("the floor is not counted".to_string()),
    }
    let log = std::fs::File::create(dir.join("valgrind.log")).map_err(|e| e.to_string())?;
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let server = servers::Server::adopt(child, side.label());
    let harness =
        Harness { root: root.to_path_buf(), logs: logs.to_path_buf(), proxies: Vec::new(), samples: Vec::new() };
    let downstream = match harness.start_downstream(workload, requests) {
        Ok(downstream) => downstream,
        Err(e) => {
            harness::stop(server, Vec::new());
            return Err(e);
        }
    };
    // Under valgrind everything starts slowly.
    let started = servers::wait_bound(PROXY_ADDR.parse().expect("address"), Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    let answered = started.and_then(|()| match workload.moderate {
        Moderate::Calls => {
            let counts = harness.sipp_load(workload, requests, CALL_RATE, "callgrind")?;
            Ok(counts.successful)
        }
        Moderate::Requests(_) => {
            let spec = LoadSpec {
                target: PROXY_ADDR.parse().expect("address"),
                local: "127.0.0.1:0".parse().expect("address"),
                method: workload.saturation.unwrap_or("OPTIONS"),
                requests,
                offer: Offer::Window(16),
                drain: Duration::from_secs(5),
            };
            loadgen::run(&spec).map(|result| result.answered).map_err(|e| e.to_string())
        }
    });
    harness::stop(server, downstream);
    let answered = answered?;
    if answered != requests {
        return Err(format!("{} under callgrind completed {answered} of {requests}", side.label()));
    }
    sum_totals(&dir)
}

/// Sums the instruction totals of every callgrind output in `dir`.
fn sum_totals(dir: &Path) -> Result<u64, String> {
    let mut sum = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("callgrind.")))
        .collect();
    files.sort();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
        let total = text
            .lines()
            .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .ok_or_else(|| format!("no total in {}", file.display()))?;
        sum += total;
    }
    if files.is_empty() {
        return Err(format!("no callgrind output in {}", dir.display()));
    }
    Ok(sum)
}
