//! `cargo xtask <task>`: the project's build tasks.
//!
//! `check`, `expand` and `build` are the `sipcfg` commands of the same names; `run` builds a
//! config and starts the proxy.

use std::process::ExitCode;

use clap::Parser;
use sipcfg_compiler::cli::{self, BuildArgs};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some(task @ ("check" | "expand" | "build")) => {
            cli::run(["sipcfg".to_string(), task.to_string()].into_iter().chain(args))
        }
        Some("run") => run(args.collect()),
        Some("bench") => bench(args.collect()),
        Some(other) => {
            eprintln!("error: unknown task `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Arguments of `cargo xtask run`: those of `build`, then `--` and the proxy's own.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask run")]
struct RunArgs {
    #[command(flatten)]
    build: BuildArgs,
    /// Arguments for the proxy (`-l ADDR`, `-n N`, `-E`, `-d`...).
    #[arg(last = true)]
    proxy_args: Vec<String>,
}

fn run(args: Vec<String>) -> ExitCode {
    let args = match RunArgs::try_parse_from(std::iter::once("cargo xtask run".to_string()).chain(args)) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(2);
        }
    };
    let binary = match cli::build(&args.build) {
        Ok(binary) => binary,
        Err(code) => return code,
    };
    let mut command = std::process::Command::new(&binary);
    command.args(&args.proxy_args);
    // Become the proxy, so that signals reach it directly.
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    eprintln!("error: cannot start {}: {error}", binary.display());
    ExitCode::from(2)
}

/// `cargo xtask bench [ARGS]`: the side-by-side benchmark (bench/), built optimised.
fn bench(args: Vec<String>) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = std::process::Command::new(cargo)
        .args(["run", "--quiet", "--release", "--package", "sipcfg-bench", "--", "run"])
        .args(args)
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: cannot run cargo: {error}");
            ExitCode::from(2)
        }
    }
}

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  check [-A NAME[=VALUE]] [--format human|json] FILE...   check routing configs
  expand [-A NAME[=VALUE]] FILE                           print the generated Rust code
  build [-o OUT] [-A NAME[=VALUE]] [--profile max] FILE   build a static proxy binary
                                                          (default: target/proxies/<name>)
  run [build options] FILE [-- PROXY ARGS]                build, then run the proxy
  bench [--rounds N] [--workload NAME]... [--quick-build]  sipcfg vs Kamailio side by side:
                                                          writes bench/RESULTS.md and
                                                          bench/results.svg (needs kamailio,
                                                          sipp, perf)";
