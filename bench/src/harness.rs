//! The side-by-side benchmark: every workload against Kamailio and against the sipcfg-built
//! proxy of the same config, interleaved (Kamailio, sipcfg, Kamailio, sipcfg...), several
//! rounds, CPU and memory read from /proc and perf for each run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::floor::Mode;
use crate::loadgen::{self, LoadResult, LoadSpec, Offer};
use crate::measure::{Cost, Window, process_tree, voluntary_switches};
use crate::servers::{self, PROXY_ADDR, Server, Side};
use crate::sipp::{self, SippCounts};

/// How a workload is driven at a moderate rate.
#[derive(Clone, Copy, Debug)]
pub enum Moderate {
    /// sipp sends one request per call with this scenario file (under bench/sipp/).
    Requests(&'static str),
    /// Full calls through the stateful proxy: sipp uac and two sipp uas.
    Calls,
}

/// What sits behind the proxy.
#[derive(Clone, Copy, Debug)]
pub enum Downstream {
    None,
    /// Echo servers on these addresses.
    Echo(&'static [&'static str]),
    /// sipp uas on these addresses.
    SippUas(&'static [&'static str]),
}

#[derive(Clone, Copy, Debug)]
pub struct Workload {
    pub name: &'static str,
    /// Under bench/configs/.
    pub config: &'static str,
    pub moderate: Moderate,
    pub downstream: Downstream,
    /// Method the Rust load generator sends at saturation, for the workloads measured there.
    pub saturation: Option<&'static str>,
}

/// The burst interval of the load generator's cross-check when the server's wake-ups under
/// sipp could not be counted. At 2000/s sipp woke the 200-always proxy's worker once per 1.7
/// to 3.0 requests (10 runs of 8000, voluntary context switches of the thread); 1 ms bursts of
/// 2 requests woke it once per 1.8 to 1.9 (6 runs).
pub const SIPP_LIKE: Duration = Duration::from_millis(1);

/// How the Rust generator spreads its requests at the moderate rate.
#[derive(Clone, Copy, Debug)]
enum Arrivals {
    /// One request at a time: every request wakes the server.
    Paced,
    /// In bursts meant to give the server the requests per wake-up it had under sipp (when
    /// they were counted).
    LikeSipp(Option<f64>),
}

/// Seconds of load used to correct the cross-check's bursts before measuring.
pub const CALIBRATION_SECONDS: u64 = 2;

/// `tick` scaled so that bursts which gave `measured` requests per wake-up give `target`.
pub fn corrected_tick(tick: Duration, rate: u64, target: f64, measured: f64) -> Duration {
    if !(measured > 0.0 && target.is_finite()) {
        return tick;
    }
    let burst = tick.as_secs_f64() * rate as f64;
    sipp_like_tick(Some(burst * target / measured), rate)
}

/// The burst interval that gives the server the requests per wake-up it had under sipp:
/// sipp's arrivals are not the same for every server (Kamailio got about 7 requests per
/// wake-up where sipcfg and the floor got 2 to 3), and a server's CPU per request falls as
/// more requests share a wake-up.
pub fn sipp_like_tick(requests_per_wakeup: Option<f64>, rate: u64) -> Duration {
    let Some(burst) = requests_per_wakeup.filter(|b| b.is_finite()) else { return SIPP_LIKE };
    let rate = rate.max(1) as f64;
    // From one request per burst (every request wakes the server) to 50 ms of requests.
    Duration::from_micros((burst.clamp(1.0, rate / 20.0) / rate * 1e6).round() as u64)
}

/// Bursts of the open-loop rate search.
const SATURATION_TICK: Duration = Duration::from_millis(1);

const SERVERS: &[&str] = &["127.0.0.2:5060", "127.0.0.3:5060"];

pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "200-always",
        config: "200-always.cfg",
        moderate: Moderate::Requests("options-200.xml"),
        downstream: Downstream::None,
        saturation: Some("OPTIONS"),
    },
    Workload {
        name: "selective",
        config: "selective.cfg",
        moderate: Moderate::Requests("options-403.xml"),
        downstream: Downstream::None,
        saturation: Some("OPTIONS"),
    },
    Workload {
        name: "redirect",
        config: "redirect.cfg",
        moderate: Moderate::Requests("invite-302.xml"),
        downstream: Downstream::None,
        saturation: Some("INVITE"),
    },
    Workload {
        name: "forward",
        config: "forward.cfg",
        moderate: Moderate::Requests("options-200.xml"),
        downstream: Downstream::Echo(&["127.0.0.2:5060"]),
        saturation: Some("OPTIONS"),
    },
    Workload {
        name: "round-robin",
        config: "round-robin.cfg",
        moderate: Moderate::Requests("invite-200.xml"),
        downstream: Downstream::Echo(SERVERS),
        saturation: Some("INVITE"),
    },
    Workload {
        name: "stateful-lb",
        config: "stateful-lb.cfg",
        moderate: Moderate::Calls,
        downstream: Downstream::SippUas(SERVERS),
        saturation: None,
    },
];

/// The knobs of one benchmark run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub rounds: u32,
    /// Requests per second of the moderate load (sipp).
    pub rate: u64,
    pub seconds: u64,
    /// Calls per second of the stateful workload.
    pub call_rate: u64,
    /// Requests per saturation measurement.
    pub saturation_requests: u64,
    pub workloads: Vec<String>,
}

/// One measured run.
#[derive(Clone, Debug)]
pub struct Sample {
    pub workload: String,
    /// "moderate", "paced", "loadgen-check", "saturation", "clean-rate" or "kernel-path".
    pub kind: &'static str,
    pub side: &'static str,
    pub round: u32,
    /// Requests (or calls) completed and failed.
    pub completed: u64,
    pub failed: u64,
    pub retransmissions: u64,
    pub cost: Cost,
    /// Completed per second (saturation), or the highest clean rate (clean-rate).
    pub rate: f64,
}

impl Sample {
    /// CPU microseconds per completed request or call.
    pub fn cpu_us(&self) -> f64 {
        self.cost.cpu() * 1e6 / self.completed.max(1) as f64
    }

    /// Completed requests per wake-up of the server, when wake-ups were counted.
    pub fn requests_per_wakeup(&self) -> Option<f64> {
        self.cost.wakeups.filter(|&w| w > 0).map(|w| self.completed as f64 / w as f64)
    }

    /// Wake-ups of the server per completed request or call, when they were counted.
    pub fn wakeups_per_completed(&self) -> Option<f64> {
        self.cost.wakeups.filter(|_| self.completed > 0).map(|w| w as f64 / self.completed as f64)
    }
}

pub struct Harness {
    pub root: PathBuf,
    pub logs: PathBuf,
    pub proxies: Vec<(String, PathBuf)>,
    pub samples: Vec<Sample>,
}

impl Harness {
    fn config(&self, workload: &Workload) -> PathBuf {
        self.root.join("bench/configs").join(workload.config)
    }

    fn sides(&self, workload: &Workload) -> [Side; 2] {
        let binary = self.proxies.iter().find(|(n, _)| n == workload.name).map(|(_, p)| p.clone());
        [Side::Kamailio, Side::Sipcfg(binary.expect("proxy built for every workload"))]
    }

    fn record(&mut self, sample: Sample) {
        eprintln!(
            "  {:<12} {:<13} {:<8} round {}: {} done, {} failed, {} retrans, {:.2} µs CPU each, peak {:.1} MB{}",
            sample.workload,
            sample.kind,
            sample.side,
            sample.round,
            sample.completed,
            sample.failed,
            sample.retransmissions,
            sample.cpu_us(),
            sample.cost.peak_pss as f64 / 1e6,
            if sample.rate > 0.0 { format!(", {:.0}/s", sample.rate) } else { String::new() },
        );
        self.samples.push(sample);
    }

    /// Every workload and measurement, `plan.rounds` times, sides interleaved.
    pub fn run(&mut self, plan: &Plan) -> Result<(), String> {
        let chosen: Vec<Workload> = WORKLOADS
            .iter()
            .filter(|w| plan.workloads.is_empty() || plan.workloads.iter().any(|n| n == w.name))
            .copied()
            .collect();
        for round in 1..=plan.rounds {
            eprintln!("round {round} of {}", plan.rounds);
            for workload in &chosen {
                for side in self.sides(workload) {
                    let sample = self.moderate(workload, &side, round, plan)?;
                    self.record(sample);
                }
                if workload.name == "200-always" {
                    let sample = self.moderate(workload, &Side::Floor(Mode::Echo), round, plan)?;
                    self.record(sample);
                    for side in self.sides(workload) {
                        let under_sipp = self
                            .samples
                            .iter()
                            .rfind(|s| s.workload == workload.name && s.kind == "moderate" && s.side == side.label())
                            .and_then(Sample::requests_per_wakeup);
                        let sample = self.generated(workload, &side, round, plan, Arrivals::LikeSipp(under_sipp))?;
                        self.record(sample);
                    }
                    let mut sides = self.sides(workload).to_vec();
                    sides.push(Side::Floor(Mode::Fixed));
                    for side in sides {
                        let sample = self.generated(workload, &side, round, plan, Arrivals::Paced)?;
                        self.record(sample);
                    }
                }
            }
            for workload in chosen.iter().filter(|w| w.saturation.is_some()) {
                let mut sides = self.sides(workload).to_vec();
                if workload.name == "200-always" {
                    sides.push(Side::Floor(Mode::Fixed));
                }
                for side in sides {
                    let (saturated, clean) = self.saturation(workload, &side, round, plan)?;
                    self.record(saturated);
                    self.record(clean);
                }
                if workload.name == "200-always" {
                    let sample = kernel_path(workload, round, plan)?;
                    self.record(sample);
                }
            }
        }
        Ok(())
    }

    pub(crate) fn start_downstream(&self, workload: &Workload, calls: u64) -> Result<Vec<Downstreamed>, String> {
        match workload.downstream {
            Downstream::None => Ok(Vec::new()),
            Downstream::Echo(addrs) => {
                addrs.iter().map(|a| servers::start_echo(a, &self.logs).map(Downstreamed::Echo)).collect()
            }
            Downstream::SippUas(addrs) => addrs
                .iter()
                .enumerate()
                .map(|(i, addr)| {
                    let (ip, port) = addr.split_once(':').expect("ip:port");
                    let args = [
                        "-sf",
                        &self.root.join("tests/sipp/uas_record_route.xml").to_string_lossy(),
                        "-i",
                        ip,
                        "-p",
                        port,
                        "-m",
                        &calls.div_ceil(2).to_string(),
                    ]
                    .map(str::to_string);
                    let log = self.logs.join(format!("uas-{i}.log"));
                    sipp::start(&args, &log).map(Downstreamed::Uas)
                })
                .collect(),
        }
    }

    /// sipp at a moderate rate: each request wakes the proxy on its own.
    fn moderate(&self, workload: &Workload, side: &Side, round: u32, plan: &Plan) -> Result<Sample, String> {
        let calls = match workload.moderate {
            Moderate::Requests(_) => plan.rate * plan.seconds,
            Moderate::Calls => plan.call_rate * plan.seconds,
        };
        let rate = match workload.moderate {
            Moderate::Requests(_) => plan.rate,
            Moderate::Calls => plan.call_rate,
        };
        let downstream = self.start_downstream(workload, calls + 20)?;
        let server = servers::start(side, &self.config(workload), 1, &self.logs)?;
        // A short warm-up so that lazy initialisation is not measured.
        let warm = self.sipp_load(workload, 20, 20, "warmup")?;
        if warm.failed > 0 {
            return Err(format!("{} warm-up failed on {}; see {}", workload.name, side.label(), self.logs.display()));
        }
        let window = Window::open(server.pid());
        let counts = self.sipp_load(workload, calls, rate, "moderate")?;
        let cost = window.close();
        stop(server, downstream);
        Ok(Sample {
            workload: workload.name.to_string(),
            kind: "moderate",
            side: side.label(),
            round,
            completed: counts.successful,
            failed: counts.failed,
            retransmissions: counts.retransmissions,
            cost,
            rate: 0.0,
        })
    }

    pub(crate) fn sipp_load(
        &self,
        workload: &Workload,
        calls: u64,
        rate: u64,
        log: &str,
    ) -> Result<SippCounts, String> {
        let scenario = match workload.moderate {
            Moderate::Requests(file) => self.root.join("bench/sipp").join(file),
            Moderate::Calls => self.root.join("tests/sipp/uac_record_route.xml"),
        };
        let log = self.logs.join(format!("{}-{log}.log", workload.name));
        let args = [
            "-sf",
            &scenario.to_string_lossy(),
            PROXY_ADDR,
            "-s",
            "bench",
            "-i",
            "127.0.0.1",
            "-p",
            "5070",
            "-m",
            &calls.to_string(),
            "-r",
            &rate.to_string(),
            "-max_retrans",
            "10",
        ]
        .map(str::to_string);
        let child = sipp::start(&args, &log)?;
        let limit = Duration::from_secs(calls / rate.max(1) + 30);
        sipp::finish(child, &log, limit)
    }

    /// The Rust load generator at the moderate rate: in sipp-like bursts to show that both
    /// generators cost the proxy the same per request ("loadgen-check"), or paced so that
    /// every request wakes the proxy ("paced").
    fn generated(
        &self,
        workload: &Workload,
        side: &Side,
        round: u32,
        plan: &Plan,
        arrivals: Arrivals,
    ) -> Result<Sample, String> {
        let server = servers::start(side, &self.config(workload), 1, &self.logs)?;
        let mut tick = match arrivals {
            Arrivals::Paced => Duration::ZERO,
            Arrivals::LikeSipp(under_sipp) => sipp_like_tick(under_sipp, plan.rate),
        };
        let at = |tick| Offer::Rate { per_second: plan.rate, tick };
        let warm = self.generate(workload, 20, at(tick))?;
        if warm.unanswered() > 0 {
            return Err(format!("loadgen warm-up unanswered on {}", side.label()));
        }
        if let Arrivals::LikeSipp(Some(under_sipp)) = arrivals {
            // A server wakes on the first request of a burst and may be done before the last
            // one lands, so bursts of N give it fewer than N per wake-up: measure, then correct.
            let pids = process_tree(server.pid());
            let before = voluntary_switches(&pids);
            let trial = self.generate(workload, plan.rate * CALIBRATION_SECONDS, at(tick))?;
            let wakeups = voluntary_switches(&pids).saturating_sub(before);
            if wakeups > 0 {
                let measured = trial.answered as f64 / wakeups as f64;
                tick = corrected_tick(tick, plan.rate, under_sipp, measured);
            }
        }
        let window = Window::open(server.pid());
        let result = self.generate(workload, plan.rate * plan.seconds, at(tick))?;
        let cost = window.close();
        server.stop();
        servers::wait_free(PROXY_ADDR);
        let kind = match arrivals {
            Arrivals::Paced => "paced",
            Arrivals::LikeSipp(_) => "loadgen-check",
        };
        Ok(load_sample(workload, kind, side, round, &result, cost, 0.0))
    }

    fn generate(&self, workload: &Workload, requests: u64, offer: Offer) -> Result<LoadResult, String> {
        let spec = LoadSpec {
            target: PROXY_ADDR.parse().expect("proxy address"),
            local: "127.0.0.1:0".parse().expect("local address"),
            method: workload.saturation.unwrap_or("OPTIONS"),
            requests,
            offer,
            drain: Duration::from_millis(500),
        };
        loadgen::run(&spec).map_err(|e| format!("load generator: {e}"))
    }

    /// children = 1 on every side: a window of requests in flight keeps the proxy busy (CPU
    /// per request, throughput), then a rate search finds the highest rate served with every
    /// request answered.
    fn saturation(
        &self,
        workload: &Workload,
        side: &Side,
        round: u32,
        plan: &Plan,
    ) -> Result<(Sample, Sample), String> {
        let downstream = self.start_downstream(workload, 0)?;
        let server = servers::start(side, &self.config(workload), 1, &self.logs)?;
        let warm = self.generate(workload, 2000, Offer::Window(64))?;
        if warm.unanswered() > 0 {
            return Err(format!(
                "{} saturation warm-up: {} unanswered on {}",
                workload.name,
                warm.unanswered(),
                side.label()
            ));
        }
        let window = Window::open(server.pid());
        let result = self.generate(workload, plan.saturation_requests, Offer::Window(256))?;
        let cost = window.close();
        let throughput = result.throughput();
        let saturated = load_sample(workload, "saturation", side, round, &result, cost, throughput);

        // Bisection between a rate that is served cleanly and one that is not, then a
        // confirmation run twice as long; a rate that fails it is lowered until one passes.
        let step = |rate: f64| -> Result<bool, String> {
            let requests = (rate * 1.5) as u64;
            let result =
                self.generate(workload, requests, Offer::Rate { per_second: rate as u64, tick: SATURATION_TICK })?;
            Ok(result.unanswered() == 0)
        };
        let (mut low, mut high) = (throughput * 0.5, throughput * 1.5);
        while !step(low)? && low > 1000.0 {
            high = low;
            low /= 2.0;
        }
        for _ in 0..5 {
            let middle = (low + high) / 2.0;
            if step(middle)? {
                low = middle;
            } else {
                high = middle;
            }
        }
        let mut clean = None;
        for _ in 0..6 {
            let peak = Window::open(server.pid());
            let offer = Offer::Rate { per_second: low as u64, tick: SATURATION_TICK };
            let run = self.generate(workload, (low * 2.0) as u64, offer)?;
            let cost = peak.close();
            let sample = load_sample(workload, "clean-rate", side, round, &run, cost, low);
            let passed = run.unanswered() == 0;
            clean = Some(sample);
            if passed {
                break;
            }
            low *= 0.8;
        }
        let mut clean = clean.expect("at least one confirmation run");
        if clean.failed > 0 {
            // Nothing was served cleanly: say so rather than report a rate.
            clean.rate = 0.0;
        }
        stop(server, downstream);
        Ok((saturated, clean))
    }
}

/// The kernel path alone ([`crate::kernel_path`]) for as many datagrams as a saturation run
/// has requests, each the generator's request: side "floor", kind "kernel-path".
fn kernel_path(workload: &Workload, round: u32, plan: &Plan) -> Result<Sample, String> {
    let (_, cpu) =
        crate::kernel_path::measure_request(workload.saturation.unwrap_or("OPTIONS"), plan.saturation_requests)
            .map_err(|e| format!("kernel path: {e}"))?;
    let cpu = cpu.as_secs_f64();
    Ok(Sample {
        workload: workload.name.to_string(),
        kind: "kernel-path",
        side: "floor",
        round,
        completed: plan.saturation_requests,
        failed: 0,
        retransmissions: 0,
        // The thread's scheduler clock, in both columns: no process to watch from outside.
        cost: Cost { cpu_ticks: cpu, cpu_perf: Some(cpu), peak_pss: 0, wakeups: None },
        rate: 0.0,
    })
}

fn load_sample(
    workload: &Workload,
    kind: &'static str,
    side: &Side,
    round: u32,
    result: &LoadResult,
    cost: Cost,
    rate: f64,
) -> Sample {
    Sample {
        workload: workload.name.to_string(),
        kind,
        side: side.label(),
        round,
        completed: result.answered,
        failed: result.unanswered(),
        retransmissions: 0,
        cost,
        rate,
    }
}

/// A server behind the proxy.
pub(crate) enum Downstreamed {
    Echo(Server),
    Uas(std::process::Child),
}

pub(crate) fn stop(server: Server, downstream: Vec<Downstreamed>) {
    server.stop();
    for d in downstream {
        match d {
            Downstreamed::Echo(s) => s.stop(),
            Downstreamed::Uas(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    servers::wait_free(PROXY_ADDR);
}

/// The repository root (where bench/ is).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_bursts_follow_the_wakeups_under_sipp() {
        assert_eq!(sipp_like_tick(Some(2.0), 2000), Duration::from_millis(1));
        assert_eq!(sipp_like_tick(Some(7.0), 2000), Duration::from_micros(3500));
        // Not below one request per burst, not above 50 ms of requests.
        assert_eq!(sipp_like_tick(Some(0.5), 2000), Duration::from_micros(500));
        assert_eq!(sipp_like_tick(Some(1e6), 2000), Duration::from_millis(50));
        assert_eq!(sipp_like_tick(None, 2000), SIPP_LIKE);
        assert_eq!(sipp_like_tick(Some(f64::NAN), 2000), SIPP_LIKE);
    }

    #[test]
    fn bursts_that_woke_the_server_too_often_grow() {
        // Bursts of 2.5 gave 2.0 per wake-up where sipp gave 2.5: bursts of 3.125.
        let tick = corrected_tick(Duration::from_micros(1250), 2000, 2.5, 2.0);
        assert_eq!(tick, Duration::from_micros(1563));
        assert_eq!(corrected_tick(Duration::from_micros(1250), 2000, 2.5, 0.0), Duration::from_micros(1250));
    }
}
