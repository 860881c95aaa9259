//! `cargo xtask <task>`: the project's build tasks.
//!
//! `check FILE...` runs the config checker (the same as `sipcfg check`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("check") => sipcfg_compiler::cli::run(["sipcfg".to_string(), "check".to_string()].into_iter().chain(args)),
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

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  check [-A NAME[=VALUE]] [--format human|json] FILE...   check routing configs";
