//! Golden files of generated code: `tests/data/expand/<config>.rs` holds what `sipcfg expand`
//! prints for every seed config and example (or `<config>.txt` the diagnostics of one that cannot be
//! built yet). Run with `SIPCFG_BLESS=1` to rewrite them after an intended change, then
//! review the diff.

use std::path::{Path, PathBuf};

use sipcfg_compiler::codegen::generate;
use sipcfg_compiler::diagnostics::render_human;
use sipcfg_compiler::preprocess::FsLoader;
use sipcfg_compiler::{Options, check_text};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The generated code for `relative` (a path from the repository root), or its diagnostics.
fn expansion(relative: &str) -> (String, &'static str) {
    let path = repo().join(relative);
    let text = std::fs::read_to_string(&path).expect("readable config");
    let frontend = check_text(relative, &path, text, &Options::default(), &FsLoader);
    assert!(!frontend.has_errors(), "{relative}:\n{}", render_human(&frontend.sources, &frontend.diagnostics));
    match generate(&frontend) {
        Ok(generated) => (generated.code, "rs"),
        Err(diagnostics) => (render_human(&frontend.sources, &diagnostics), "txt"),
    }
}

/// The `.cfg` files of `dir` (relative to the repository), as relative paths.
fn configs_in(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join(dir))
        .expect("examples dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".cfg"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    names.sort();
    names
}

/// Every seed config and the other examples.
fn golden_configs() -> Vec<String> {
    let mut configs = configs_in("examples/seed");
    configs.extend(configs_in("examples"));
    configs
}

#[test]
fn seed_expansions_match_golden_files() {
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/expand");
    let bless = std::env::var_os("SIPCFG_BLESS").is_some();
    let mut mismatches = Vec::new();
    for relative in golden_configs() {
        let (actual, extension) = expansion(&relative);
        let name = Path::new(&relative).file_name().expect("file name").to_string_lossy().into_owned();
        let golden = golden_dir.join(name.replace(".cfg", &format!(".{extension}")));
        if bless {
            std::fs::create_dir_all(&golden_dir).expect("golden dir");
            std::fs::write(&golden, &actual).expect("write golden file");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == actual => {}
            Ok(_) => mismatches.push(format!("{} differs", golden.display())),
            Err(_) => mismatches.push(format!("{} is missing", golden.display())),
        }
    }
    assert!(mismatches.is_empty(), "{}\n(run with SIPCFG_BLESS=1 and review the diff)", mismatches.join("\n"));
}

#[test]
fn expansion_is_deterministic() {
    for relative in golden_configs() {
        assert_eq!(expansion(&relative), expansion(&relative), "{relative}");
    }
}

#[test]
fn every_seed_generates_code() {
    for relative in configs_in("examples/seed") {
        let (_, extension) = expansion(&relative);
        assert_eq!(extension, "rs", "{relative}");
    }
}
