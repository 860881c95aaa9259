//! The `sipcfg` command line, shared by the `sipcfg` binary and `cargo xtask check`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};

use crate::build::{BuildError, Layout, Profile, cargo_build, write_crate};
use crate::diagnostics::{emit_human, emit_json};
use crate::preprocess::parse_define_arg;
use crate::{Frontend, Options, check_file};

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
    /// Print the Rust code generated for a config.
    Expand(ExpandArgs),
    /// Build a config into a statically linked proxy binary.
    Build(BuildArgs),
}

#[derive(clap::Args, Debug)]
pub struct ExpandArgs {
    /// The config file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Define NAME (optionally with a value) before reading, as `kamailio -A`.
    #[arg(short = 'A', value_name = "NAME[=VALUE]")]
    pub defines: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The config file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the binary (default: target/proxies/<config name>).
    #[arg(short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Define NAME (optionally with a value) before reading, as `kamailio -A`.
    #[arg(short = 'A', value_name = "NAME[=VALUE]")]
    pub defines: Vec<String>,
    /// `release`, or `max` for fat LTO and one codegen unit.
    #[arg(long, value_enum, default_value_t = ProfileArg::Release)]
    pub profile: ProfileArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    Release,
    Max,
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
        Command::Expand(args) => expand(&args),
        Command::Build(args) => match build(&args) {
            Ok(_) => ExitCode::SUCCESS,
            Err(code) => code,
        },
    }
}

fn stderr_stream() -> StandardStream {
    let color = if std::io::stderr().is_terminal() { ColorChoice::Auto } else { ColorChoice::Never };
    StandardStream::stderr(color)
}

/// Runs the front end, prints its diagnostics, and stops on errors.
fn checked(file: &Path, defines: &[String]) -> Result<Frontend, ExitCode> {
    let options = Options { defines: defines.iter().map(|d| parse_define_arg(d)).collect() };
    let frontend = match check_file(file, &options) {
        Ok(frontend) => frontend,
        Err(error) => {
            eprintln!("error: cannot read `{}`: {error}", file.display());
            return Err(ExitCode::from(2));
        }
    };
    let mut stderr = stderr_stream();
    let _ = emit_human(&mut stderr, &frontend.sources, &frontend.diagnostics);
    if frontend.has_errors() {
        let errors = frontend.error_count();
        let _ =
            writeln!(stderr, "{}: {errors} error{}; nothing built", file.display(), if errors == 1 { "" } else { "s" });
        return Err(ExitCode::from(1));
    }
    Ok(frontend)
}

fn report_build_error(frontend: &Frontend, file: &Path, error: BuildError) -> ExitCode {
    match error {
        BuildError::NotImplemented(diagnostics) => {
            let mut stderr = stderr_stream();
            let _ = emit_human(&mut stderr, &frontend.sources, &diagnostics);
            let _ = writeln!(
                stderr,
                "{}: {} construct(s) sipcfg cannot compile yet; nothing built",
                file.display(),
                diagnostics.len()
            );
            ExitCode::from(1)
        }
        other => {
            eprintln!("error: {other}");
            ExitCode::from(2)
        }
    }
}

fn expand(args: &ExpandArgs) -> ExitCode {
    let frontend = match checked(&args.file, &args.defines) {
        Ok(frontend) => frontend,
        Err(code) => return code,
    };
    match crate::codegen::generate(&frontend) {
        Ok(generated) => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(generated.code.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(2),
            }
        }
        Err(diagnostics) => report_build_error(&frontend, &args.file, BuildError::NotImplemented(diagnostics)),
    }
}

/// `sipcfg build`: check, generate, compile. Returns the binary's path.
pub fn build(args: &BuildArgs) -> Result<PathBuf, ExitCode> {
    let frontend = checked(&args.file, &args.defines)?;
    let layout = Layout::detect();
    let profile = match args.profile {
        ProfileArg::Release => Profile::Release,
        ProfileArg::Max => Profile::Max,
    };
    let output = args.output.clone().unwrap_or_else(|| layout.default_output(&args.file));
    let result = write_crate(&frontend, &args.file, &layout)
        .and_then(|dir| cargo_build(&dir, &args.file, profile, &layout, &output));
    match result {
        Ok(()) => {
            eprintln!("built {}", output.display());
            Ok(output)
        }
        Err(error) => Err(report_build_error(&frontend, &args.file, error)),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let options = Options { defines: args.defines.iter().map(|d| parse_define_arg(d)).collect() };
    let mut failed = false;
    let mut stderr = stderr_stream();
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
