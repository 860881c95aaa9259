//! `sipcfg-bench`: `run` the side-by-side benchmark, or one of its parts by hand (`loadgen`,
//! `floor`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sipcfg_bench::floor::{self, Mode};
use sipcfg_bench::harness::{self, Harness, Plan, WORKLOADS};
use sipcfg_bench::instructions;
use sipcfg_bench::kernel_path;
use sipcfg_bench::loadgen::{self, LoadSpec, Offer};
use sipcfg_bench::report;
use sipcfg_bench::servers::Side;
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
        /// Skip the instruction counts (valgrind).
        #[arg(long)]
        no_instructions: bool,
    },
    /// Instructions per request under callgrind (Kamailio and sipcfg, every workload; per call
    /// for the stateful one): a repeatable figure for catching regressions. Prints a markdown
    /// table.
    Instructions {
        #[arg(long)]
        quick_build: bool,
    },
    /// Render bench/RESULTS.md and bench/results.svg again from the runs recorded in
    /// bench/RESULTS.md (after a change to the report itself).
    Report,
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
    /// CPU per datagram of the kernel path alone: the load generator's request sent over
    /// loopback and received, 64 per call, in this one thread.
    KernelPath {
        #[arg(long, default_value_t = 300_000, value_parser = clap::value_parser!(u64).range(1..))]
        datagrams: u64,
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
        Task::KernelPath { datagrams } => match kernel_path::measure_request("OPTIONS", datagrams) {
            Ok((len, cpu)) => {
                let each = cpu.as_secs_f64() * 1e6 / datagrams as f64;
                println!("{datagrams} datagrams of {len} bytes: {each:.2} µs CPU each");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kernel path: {e}");
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
        Task::Report => match rerender() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Task::Instructions { quick_build } => {
            let counted =
                build_proxies(quick_build).and_then(|(root, logs, proxies)| count_instructions(&root, &logs, &proxies));
            match counted {
                Ok(table) => {
                    println!("{table}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Task::Run {
            rounds,
            rate,
            call_rate,
            seconds,
            saturation_requests,
            workloads,
            quick_build,
            no_instructions,
        } => {
            let plan = Plan { rounds, rate, seconds, call_rate, saturation_requests, workloads };
            match run(&plan, quick_build, !no_instructions) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

type Built = (PathBuf, PathBuf, Vec<(String, PathBuf)>);

/// Builds the proxy of every workload into target/bench/.
fn build_proxies(quick_build: bool) -> Result<Built, String> {
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
    Ok((root, logs, proxies))
}

/// The instruction-count table (markdown).
fn count_instructions(root: &Path, logs: &Path, proxies: &[(String, PathBuf)]) -> Result<String, String> {
    let mut table = String::from(
        "| workload | Kamailio instructions/request | sipcfg instructions/request | sipcfg/Kamailio |\n|---|---:|---:|---:|\n",
    );
    for workload in instructions::workloads() {
        let binary = proxies.iter().find(|(n, _)| n == workload.name).map(|(_, b)| b.clone()).ok_or("no proxy")?;
        eprintln!("counting instructions: {}", workload.name);
        let kamailio = instructions::per_request(root, logs, workload, &Side::Kamailio)?;
        let sipcfg = instructions::per_request(root, logs, workload, &Side::Sipcfg(binary))?;
        let label = match workload.moderate {
            harness::Moderate::Calls => format!("{} (per call)", workload.name),
            harness::Moderate::Requests(_) => workload.name.to_string(),
        };
        table.push_str(&format!("| {label} | {kamailio:.0} | {sipcfg:.0} | {:.2} |\n", sipcfg / kamailio));
    }
    Ok(table)
}

fn run(plan: &Plan, quick_build: bool, with_instructions: bool) -> Result<(), String> {
    let (root, logs, proxies) = build_proxies(quick_build)?;
    let mut harness = Harness { root: root.clone(), logs: logs.clone(), proxies: proxies.clone(), samples: Vec::new() };
    harness.run(plan)?;
    let machine = machine_description();
    let command = "cargo xtask bench";
    let mut text = report::markdown(&harness.samples, plan, &machine, command);
    if with_instructions {
        let table = count_instructions(&root, &logs, &proxies)?;
        text.push_str(&format!(
            "\n## Instructions per request (callgrind)\n\nCounted with `valgrind --tool=callgrind` over every \
             process of the server, (2N − N requests) / N with N = {}, window of 16 (stateful-lb: calls placed by \
             sipp at 100 calls/s, N = {}): repeatable whatever the machine is doing. `cargo run --release -p \
             sipcfg-bench -- instructions` prints this table alone.\n\n{table}",
            instructions::REQUESTS,
            instructions::CALLS
        ));
    }
    std::fs::write(root.join("bench/RESULTS.md"), text).map_err(|e| e.to_string())?;
    std::fs::write(root.join("bench/results.svg"), report::svg(&harness.samples)).map_err(|e| e.to_string())?;
    eprintln!("wrote bench/RESULTS.md and bench/results.svg");
    Ok(())
}

fn rerender() -> Result<(), String> {
    let root = harness::repo_root();
    let path = root.join("bench/RESULTS.md");
    let old = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let samples = report::parse_runs(&old);
    if samples.is_empty() {
        return Err("no runs in bench/RESULTS.md".to_string());
    }
    let rounds = samples.iter().map(|s| s.round).max().unwrap_or(0);
    let plan = plan_from(&old, rounds);
    let machine = old.lines().find(|l| l.starts_with("Machine:")).unwrap_or("").to_string();
    let mut text = report::markdown(&samples, &plan, &machine, "cargo xtask bench");
    if let Some(at) = old.find("\n## Instructions per request") {
        text.push_str(&old[at..]);
    }
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    std::fs::write(root.join("bench/results.svg"), report::svg(&samples)).map_err(|e| e.to_string())?;
    eprintln!("wrote bench/RESULTS.md and bench/results.svg from {} recorded runs", samples.len());
    Ok(())
}

/// The plan's figures as an old report states them.
fn plan_from(report: &str, rounds: u32) -> Plan {
    let number_after = |marker: &str| -> Option<u64> {
        let at = report.find(marker)? + marker.len();
        report[at..].split(|c: char| !c.is_ascii_digit()).find(|w| !w.is_empty())?.parse().ok()
    };
    Plan {
        rounds,
        rate: number_after("## Moderate rate (sipp, ").unwrap_or(2000),
        seconds: number_after(" calls/s for ").unwrap_or(8),
        call_rate: number_after(" requests/s or ").unwrap_or(200),
        saturation_requests: number_after("children=1; ").unwrap_or(300_000),
        workloads: Vec::new(),
    }
}

/// "SIPp v3.6.1-..." as `sipp -v` prints it (on any of its output lines).
fn sipp_version() -> String {
    std::process::Command::new("sipp")
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| {
            let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
            text.lines().map(str::trim).find(|l| l.starts_with("SIPp v")).map(|l| l.trim_end_matches('.').to_string())
        })
        .unwrap_or_else(|| "not found".to_string())
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
        "Machine: {cpu}, {cores} cores, {}. Kamailio: {}. sipp: {}. sipcfg: {} ({}, proxies built with `--profile max` for {}). Run on {date}.",
        output("uname", &["-sr"]),
        output("kamailio", &["-v"]),
        sipp_version(),
        env!("CARGO_PKG_VERSION"),
        output("git", &["rev-parse", "--short", "HEAD"]),
        sipcfg_compiler::build::TARGET,
    )
}
