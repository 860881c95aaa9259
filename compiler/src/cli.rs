//! The `sipcfg` command line, shared by the `sipcfg` binary and `cargo xtask check`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};

use crate::diagnostics::{emit_human, emit_json};
use crate::preprocess::parse_define_arg;
use crate::{Options, check_file};

/// Compiles Kamailio-style SIP routing configs into native proxies.
#[derive(Parser, Debug)]
#[command(name = "sipcfg", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check configs and report every error and warning (exit 1 if there is an error).
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Config files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Define NAME (optionally with a value) before reading, as `kamailio -A`.
    #[arg(short = 'A', value_name = "NAME[=VALUE]")]
    pub defines: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style messages on stderr.
    Human,
    /// One JSON object per diagnostic per line on stdout.
    Json,
}

/// Exit status: 0 no error (warnings allowed), 1 errors found, 2 usage or I/O error.
pub fn run(args: impl IntoIterator<Item = String>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Check(args) => check(&args),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let options = Options { defines: args.defines.iter().map(|d| parse_define_arg(d)).collect() };
    let mut failed = false;
    let color = if std::io::stderr().is_terminal() { ColorChoice::Auto } else { ColorChoice::Never };
    let mut stderr = StandardStream::stderr(color);
    let stdout = std::io::stdout();
    for file in &args.files {
        let frontend = match check_file(file, &options) {
            Ok(frontend) => frontend,
            Err(error) => {
                eprintln!("error: cannot read `{}`: {error}", file.display());
                return ExitCode::from(2);
            }
        };
        failed |= frontend.has_errors();
        let written = match args.format {
            Format::Human => {
                let result = emit_human(&mut stderr, &frontend.sources, &frontend.diagnostics);
                let (errors, warnings) = (frontend.error_count(), frontend.warning_count());
                if errors + warnings > 0 {
                    let _ = writeln!(
                        stderr,
                        "{}: {errors} error{}, {warnings} warning{}",
                        file.display(),
                        if errors == 1 { "" } else { "s" },
                        if warnings == 1 { "" } else { "s" }
                    );
                }
                result
            }
            Format::Json => emit_json(&mut stdout.lock(), &frontend.sources, &frontend.diagnostics),
        };
        if let Err(error) = written {
            eprintln!("error: cannot write diagnostics: {error}");
            return ExitCode::from(2);
        }
    }
    ExitCode::from(u8::from(failed))
}
