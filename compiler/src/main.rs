//! `sipcfg`: see `sipcfg --help`.

fn main() -> std::process::ExitCode {
    sipcfg_compiler::cli::run(std::env::args())
}
