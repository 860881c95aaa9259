//! Every config of the seed document checks as the project promises: the corrected copies
//! without a single diagnostic, the copies as written with typographic-quote warnings only,
//! except the selective-reply example that leaves out its loadmodule lines.

use std::path::{Path, PathBuf};

use sipcfg_compiler::diagnostics::{Code, render_human};
use sipcfg_compiler::{Frontend, Options, check_file};
use sipcfg_tests::repo_root;

fn configs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    files.sort();
    files
}

fn check(path: &Path) -> Frontend {
    check_file(path, &Options::default()).expect("readable")
}

#[test]
fn corrected_seed_configs_check_clean() {
    let files = configs(&repo_root().join("examples/seed"));
    assert!(files.len() >= 12, "one file per seed config");
    for path in files {
        let frontend = check(&path);
        assert!(
            frontend.diagnostics.is_empty(),
            "{}:\n{}",
            path.display(),
            render_human(&frontend.sources, &frontend.diagnostics)
        );
    }
}

#[test]
fn seed_configs_as_written_only_warn_about_quotes() {
    let files = configs(&repo_root().join("examples/seed/as-written"));
    assert_eq!(files.len(), 12);
    for path in files {
        if path.ends_with("06-selective-is-method.cfg") {
            continue;
        }
        let frontend = check(&path);
        let other: Vec<_> = frontend.diagnostics.iter().filter(|d| d.code != Code::TypographicQuote).collect();
        assert!(other.is_empty(), "{}:\n{}", path.display(), render_human(&frontend.sources, &frontend.diagnostics));
    }
}

#[test]
fn typographic_quotes_warn_with_the_fix() {
    let frontend = check(&repo_root().join("examples/seed/as-written/05-reply-200.cfg"));
    let helps: Vec<&str> = frontend
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::TypographicQuote)
        .filter_map(|d| d.help.as_deref())
        .collect();
    assert_eq!(
        helps,
        vec![
            "use ASCII double quotes: \"sl.so\"",
            "use ASCII double quotes: \"200\"",
            "use ASCII double quotes: \"OK\""
        ]
    );
    assert!(!frontend.has_errors());
}

#[test]
fn selective_reply_without_loadmodule_names_the_lines_to_add() {
    let frontend = check(&repo_root().join("examples/seed/as-written/06-selective-is-method.cfg"));
    let errors: Vec<_> = frontend.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 2, "{}", render_human(&frontend.sources, &frontend.diagnostics));
    assert!(errors.iter().all(|d| d.code == Code::MissingModule));
    let helps: Vec<&str> = errors.iter().filter_map(|d| d.help.as_deref()).collect();
    assert!(helps.iter().any(|h| h.contains("loadmodule \"textops.so\"")), "{helps:?}");
    assert!(helps.iter().any(|h| h.contains("loadmodule \"sl.so\"")), "{helps:?}");
}

#[test]
fn as_written_copies_are_byte_identical_to_the_seed_document() {
    let seed = std::fs::read_to_string(repo_root().join("../shared/seeds/000_bdccd7a83dc27c83.txt"))
        .expect("the seed document is at ../shared/seeds");
    for path in configs(&repo_root().join("examples/seed/as-written")) {
        let text = std::fs::read_to_string(&path).expect("readable");
        assert!(seed.contains(text.trim_end_matches('\n')), "{} is not a verbatim excerpt", path.display());
    }
}
