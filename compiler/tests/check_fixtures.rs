//! Data-driven checker tests.
//!
//! `data/check/err/*.cfg` start with `# expect: code line, code line...`: the run must
//! report exactly those diagnostics (by code and line), and the rendered human and JSON
//! output is pinned by insta snapshots. `data/check/ok/*.cfg` must check without any
//! diagnostic. Update snapshots with `cargo insta review` (or `INSTA_UPDATE=always`).

use std::path::Path;

use sipcfg_compiler::diagnostics::{emit_json, render_human};
use sipcfg_compiler::preprocess::FsLoader;
use sipcfg_compiler::{Frontend, Options, check_text};

fn run(path: &Path, display: &str) -> Frontend {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    check_text(display, path, text, &Options::default(), &FsLoader)
}

fn expectations(text: &str) -> Vec<(String, usize)> {
    let first = text.lines().next().unwrap_or_default();
    let list = first.strip_prefix("# expect:").expect("an err fixture starts with `# expect:`");
    list.split(',')
        .map(|entry| {
            let mut parts = entry.split_whitespace();
            let code = parts.next().expect("a code").to_string();
            let line = parts.next().expect("a line").parse().expect("a line number");
            (code, line)
        })
        .collect()
}

#[test]
fn error_fixtures_report_exactly_what_they_expect() {
    insta::glob!("data/check/err/*.cfg", |path| {
        let name = format!("err/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or_default());
        let frontend = run(path, &name);
        let expected = expectations(&std::fs::read_to_string(path).expect("readable"));
        let sources = &frontend.sources;
        let mut found: Vec<(String, usize)> = frontend
            .diagnostics
            .iter()
            .map(|d| {
                let (line, _) = sources.get(d.span.file).line_col(d.span.start as usize);
                (d.code.as_str().to_string(), line)
            })
            .collect();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        found.sort();
        assert_eq!(found, expected_sorted, "{name}: diagnostics (code, line) differ from `# expect:`");

        insta::assert_snapshot!("human", render_human(sources, &frontend.diagnostics));
        let mut json = Vec::new();
        emit_json(&mut json, sources, &frontend.diagnostics).expect("in-memory write");
        insta::assert_snapshot!("json", String::from_utf8(json).expect("JSON is UTF-8"));
    });
}

#[test]
fn ok_fixtures_have_no_diagnostics() {
    insta::glob!("data/check/ok/*.cfg", |path| {
        let frontend = run(path, &path.display().to_string());
        let rendered = render_human(&frontend.sources, &frontend.diagnostics);
        assert!(frontend.diagnostics.is_empty(), "{}:\n{rendered}", path.display());
    });
}

#[test]
fn every_diagnostic_code_has_an_error_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/check/err");
    let mut covered = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("readable");
        for (code, _) in expectations(&text) {
            covered.insert(code);
        }
    }
    for code in sipcfg_compiler::diagnostics::Code::ALL.into_iter().filter(|c| !c.is_build_only()) {
        assert!(covered.contains(code.as_str()), "no fixture expects `{code}`");
    }
}
