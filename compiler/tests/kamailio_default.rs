//! Kamailio's own default config (Debian's `kamailio` package installs it as
//! /etc/kamailio/kamailio.cfg; `.ci/run` installs the package) parses under its feature
//! switches: the only errors are `unsupported-module` for modules sipcfg does not implement.
//! Set `SIPCFG_KAMAILIO_CFG` to check another copy.

use std::path::{Path, PathBuf};

use sipcfg_compiler::diagnostics::{Code, render_human};
use sipcfg_compiler::preprocess::parse_define_arg;
use sipcfg_compiler::{Options, check_file};

fn default_config() -> (PathBuf, String) {
    let path = std::env::var_os("SIPCFG_KAMAILIO_CFG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/kamailio/kamailio.cfg"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (install Debian's `kamailio` package, as .ci/run does)", path.display()));
    (path, text)
}

/// The `WITH_*` names the config tests with `#!ifdef`, sorted.
fn feature_switches(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#!ifdef ").or_else(|| l.trim().strip_prefix("#!ifndef ")))
        .map(|n| n.trim().to_string())
        .filter(|n| n.starts_with("WITH_"))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn assert_only_unsupported_modules(path: &Path, defines: &[&String]) {
    let options = Options { defines: defines.iter().map(|d| parse_define_arg(d)).collect() };
    let frontend = check_file(path, &options).expect("readable");
    let unexpected: Vec<_> = frontend.diagnostics.iter().filter(|d| d.code != Code::UnsupportedModule).collect();
    assert!(unexpected.is_empty(), "with {defines:?}:\n{}", render_human(&frontend.sources, &frontend.diagnostics));
    assert!(frontend.diagnostics.iter().any(|d| d.code == Code::UnsupportedModule), "it loads usrloc, registrar...");
}

#[test]
fn default_config_under_every_single_and_pair_of_switches() {
    let (path, text) = default_config();
    let switches = feature_switches(&text);
    assert!(switches.len() >= 15, "found {switches:?}");
    assert_only_unsupported_modules(&path, &[]);
    assert_only_unsupported_modules(&path, &switches.iter().collect::<Vec<_>>());
    for (i, a) in switches.iter().enumerate() {
        assert_only_unsupported_modules(&path, &[a]);
        for b in &switches[i + 1..] {
            assert_only_unsupported_modules(&path, &[a, b]);
        }
    }
}
