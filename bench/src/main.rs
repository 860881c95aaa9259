//! `sipcfg-bench`: `run` the side-by-side benchmark, or one of its parts by hand (`loadgen`,
//! `floor`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sipcfg_bench::floor::{self, Mode};
use sipcfg_bench::harness::{self, Harness, Plan, WORKLOADS};
use sipcfg_bench::loadgen::{self, LoadSpec, Offer};
use sipcfg_bench::report;
use sipcfg_compiler::cli::{BuildArgs, ProfileArg};

#[derive(Parser)]
#[command(name = "sipcfg-bench", about = "sipcfg vs Kamailio, side by side")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build a proxy per workload, run every workload on both sides, write bench/RESULTS.md
    /// and bench/results.svg.
    Run {
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Requests per second of the moderate (sipp) load.
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        /// Calls per second of the stateful workload.
        #[arg(long, default_value_t = 200)]
        call_rate: u64,
        /// Seconds of each moderate run.
        #[arg(long, default_value_t = 8)]
        seconds: u64,
        /// Requests of each saturation run.
        #[arg(long, default_value_t = 300_000)]
        saturation_requests: u64,
        /// Only these workloads (default: all).
        #[arg(long = "workload")]
        workloads: Vec<String>,
        /// Build proxies with the release profile instead of `max` (fat LTO).
        #[arg(long)]
        quick_build: bool,
    },
    /// Offer load to a SIP server and count the replies.
    Loadgen {
        #[arg(long, default_value = "127.0.0.1:5060")]
        target: SocketAddr,
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
        /// Requests per second (open loop).
        #[arg(long, conflicts_with = "window")]
        rate: Option<u64>,
        /// Requests in flight (closed loop, the default with 256).
        #[arg(long)]
        window: Option<u64>,
        #[arg(long, default_value = "OPTIONS")]
        method: String,
        /// With --rate: send in bursts every TICK milliseconds (0: each request on its own).
        #[arg(long, default_value_t = 0)]
        tick_ms: u64,
    },
    /// Answer every datagram (the floor program).
    Floor {
        #[arg(long, default_value = "127.0.0.1:5060")]
        listen: SocketAddr,
        #[arg(long, value_enum, default_value_t = Mode::Fixed)]
        mode: Mode,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Task::Floor { listen, mode } => match floor::serve(listen, mode) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("floor: {e}");
                ExitCode::FAILURE
            }
        },
        Task::Loadgen { target, requests, rate, window, method, tick_ms } => {
            let method: &'static str = Box::leak(method.into_boxed_str());
            let offer = match (rate, window) {
                (Some(rate), _) => Offer::Rate { per_second: rate, tick: Duration::from_millis(tick_ms) },
                (None, window) => Offer::Window(window.unwrap_or(256)),
            };
            let spec = LoadSpec {
                target,
                local: "127.0.0.1:0".parse().expect("address"),
                method,
                requests,
                offer,
                drain: Duration::from_millis(500),
            };
            match loadgen::run(&spec) {
                Ok(result) => {
                    println!(
                        "sent {}, answered {} ({:?} by class 2xx..6xx), provisional {}, unanswered {}, {:.0} replies/s",
                        result.sent,
                        result.answered,
                        result.by_class,
                        result.provisional,
                        result.unanswered(),
                        result.throughput()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("loadgen: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Task::Run { rounds, rate, call_rate, seconds, saturation_requests, workloads, quick_build } => {
            let plan = Plan { rounds, rate, seconds, call_rate, saturation_requests, workloads };
            match run(&plan, quick_build) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn run(plan: &Plan, quick_build: bool) -> Result<(), String> {
    let root = harness::repo_root();
    let logs = root.join("target/bench");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let mut proxies = Vec::new();
    for workload in WORKLOADS {
        let output = logs.join(format!("proxy-{}", workload.name));
        let args = BuildArgs {
            file: root.join("bench/configs").join(workload.config),
            output: Some(output),
            defines: Vec::new(),
            profile: if quick_build { ProfileArg::Release } else { ProfileArg::Max },
        };
        eprintln!("building {}", workload.name);
        let binary = sipcfg_compiler::cli::build(&args).map_err(|_| format!("cannot build {}", workload.config))?;
        proxies.push((workload.name.to_string(), binary));
    }
    let mut harness = Harness { root: root.clone(), logs, proxies, samples: Vec::new() };
    harness.run(plan)?;
    let machine = machine_description();
    let command = "cargo xtask bench";
    std::fs::write(root.join("bench/RESULTS.md"), report::markdown(&harness.samples, plan, &machine, command))
        .map_err(|e| e.to_string())?;
    std::fs::write(root.join("bench/results.svg"), report::svg(&harness.samples)).map_err(|e| e.to_string())?;
    eprintln!("wrote bench/RESULTS.md and bench/results.svg");
    Ok(())
}

/// CPU model, cores, kernel and the versions compared.
fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let output = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").trim().to_string())
            .unwrap_or_else(|| "not found".to_string())
    };
    let date = output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    format!(
        "Machine: {cpu}, {cores} cores, {}. Kamailio: {}. sipp: {}. sipcfg: {} ({}, proxies built with `--profile max`). Run on {date}.",
        output("uname", &["-sr"]),
        output("kamailio", &["-v"]),
        output("sipp", &["-v"]).trim_start_matches(' '),
        env!("CARGO_PKG_VERSION"),
        output("git", &["rev-parse", "--short", "HEAD"]),
    )
}
