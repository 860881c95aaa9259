//! How long `sipcfg check` takes on Kamailio's default config (compare with `kamailio -c` on
//! the same file) and on the seed's stateful load balancer.
//!
//! `cargo bench -p sipcfg-compiler --bench check`. The default config is read from
//! /etc/kamailio/kamailio.cfg (Debian's `kamailio` package) or `SIPCFG_KAMAILIO_CFG`.

use std::path::{Path, PathBuf};

use sipcfg_compiler::preprocess::FsLoader;
use sipcfg_compiler::{Options, check_text};

fn main() {
    divan::main();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn default_config_path() -> PathBuf {
    std::env::var_os("SIPCFG_KAMAILIO_CFG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/kamailio/kamailio.cfg"))
}

fn check(path: &Path, text: &str) -> usize {
    let frontend = check_text("bench.cfg", path, text.to_string(), &Options::default(), &FsLoader);
    frontend.diagnostics.len()
}

/// Preprocess, parse and check, as `sipcfg check` does (minus reading the file and printing).
#[divan::bench]
fn kamailio_default_cfg(bencher: divan::Bencher<'_, '_>) {
    let path = default_config_path();
    let text = read(&path);
    bencher.bench(|| check(&path, divan::black_box(&text)));
}

#[divan::bench]
fn seed_stateful_load_balancer(bencher: divan::Bencher<'_, '_>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed/12-stateful-load-balancer.cfg");
    let text = read(&path);
    bencher.bench(|| check(&path, divan::black_box(&text)));
}
