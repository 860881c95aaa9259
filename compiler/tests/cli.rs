//! The `sipcfg check` command line: exit codes, output formats, `-A`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn sipcfg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sipcfg")).args(args).output().expect("sipcfg runs")
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/check").join(name).display().to_string()
}

#[test]
fn clean_config_exits_zero_silently() {
    let out = sipcfg(&["check", &fixture("ok/language-tour.cfg")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn warnings_alone_exit_zero() {
    let out = sipcfg(&["check", &fixture("err/unused-route.cfg")]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning[unused-route]"), "{stderr}");
}

#[test]
fn errors_exit_one_in_rustc_style() {
    let out = sipcfg(&["check", &fixture("err/undefined-route.cfg")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[undefined-route]: route `RELAYY` is not defined"), "{stderr}");
    assert!(stderr.contains("undefined-route.cfg:6:11"), "{stderr}");
    assert!(stderr.contains("help: did you mean `RELAY`?"), "{stderr}");
}

#[test]
fn json_lines_on_stdout() {
    let out = sipcfg(&["check", "--format", "json", &fixture("err/missing-module.cfg")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in lines {
        let value: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
        for key in ["severity", "code", "message", "file", "line", "column"] {
            assert!(value.get(key).is_some(), "{key} missing in {line}");
        }
        assert_eq!(value["code"], "missing-module");
        assert_eq!(value["severity"], "error");
    }
}

#[test]
fn usage_and_io_errors_exit_two() {
    assert_eq!(sipcfg(&["check"]).status.code(), Some(2));
    assert_eq!(sipcfg(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(sipcfg(&["check", "/nonexistent/proxy.cfg"]).status.code(), Some(2));
}

#[test]
fn defines_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("sipcfg-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("defines.cfg");
    std::fs::write(
        &path,
        "#!ifdef WITH_BROKEN\nrequest_route { route(NOWHERE); }\n#!else\nrequest_route { exit; }\n#!endif\n",
    )
    .expect("write");
    let path = path.display().to_string();
    assert_eq!(sipcfg(&["check", &path]).status.code(), Some(0));
    assert_eq!(sipcfg(&["check", "-A", "WITH_BROKEN", &path]).status.code(), Some(1));
    assert_eq!(sipcfg(&["check", "-A", "WITH_BROKEN=1", &path]).status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn several_files_in_one_run() {
    let out = sipcfg(&["check", &fixture("ok/language-tour.cfg"), &fixture("err/unknown-module.cfg")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown-module"));
}
