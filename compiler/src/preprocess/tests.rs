use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::diagnostics::Code;

/// Files held in memory, for include tests.
#[derive(Default)]
struct MemoryLoader(HashMap<PathBuf, String>);

impl FileLoader for MemoryLoader {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        self.0.get(path).cloned().ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }
    fn exists(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }
}

fn run_with(text: &str, loader: &MemoryLoader, options: &Options) -> (SourceMap, Preprocessed) {
    let mut sources = SourceMap::new();
    let root = sources.add("main.cfg", "conf/main.cfg", text.to_string(), None);
    let out = preprocess(&mut sources, root, loader, options);
    (sources, out)
}

fn run(text: &str) -> Preprocessed {
    run_with(text, &MemoryLoader::default(), &Options::default()).1
}

/// The output with runs of blanks squeezed, for readable assertions.
fn squeezed(out: &Preprocessed) -> String {
    out.expanded.text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn codes(out: &Preprocessed) -> Vec<Code> {
    out.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn defines_expand_and_are_rescanned() {
    let out = run("#!define C ($var(a)+1)\n#!define D C * 2\n$x = D;\n");
    assert_eq!(squeezed(&out), "$x = ($var(a)+1) * 2;");
    assert!(out.diagnostics.is_empty());
}

#[test]
fn defines_are_not_substituted_in_strings_pvs_or_keywords() {
    let out = run("#!define X 1\n$var(X) = \"X\" + 'X' + X;\n");
    assert_eq!(squeezed(&out), "$var(X) = \"X\" + 'X' + 1;");
    let out = run("#!define port 5070\nport=5060\n");
    assert_eq!(codes(&out), vec![Code::Preprocessor], "a keyword cannot be a define");
}

#[test]
fn a_define_without_value_vanishes() {
    let out = run("#!define EMPTY\na EMPTY b\n");
    assert_eq!(squeezed(&out), "a b");
}

#[test]
fn trailing_comment_is_not_part_of_the_value() {
    let out = run("#!define FIVE 5 # five\n$v = FIVE; xlog(\"x\");\n");
    assert_eq!(squeezed(&out), "$v = 5; xlog(\"x\");");
}

#[test]
fn backslash_newline_continues_a_value() {
    let out = run("#!define LONG 1 + \\\n 2\n$v = LONG;\n");
    assert_eq!(squeezed(&out), "$v = 1 + 2;");
}

#[test]
fn conditionals_nest_and_skip() {
    let text = "#!define A\n#!ifdef A\nyes_a\n#!ifndef B\nno_b\n#!else\nb\n#!endif\n#!else\nnot_a\n#!endif\nend\n";
    assert_eq!(squeezed(&run(text)), "yes_a no_b end");
    let skipped = "#!ifdef NOPE\n#!define X 1\n/* not a comment start\n#!endif\nX\n";
    assert_eq!(squeezed(&run(skipped)), "X", "defines and comments inside a false branch are ignored");
}

#[test]
fn trydef_redefine_undef() {
    let out = run("#!trydef A 1\n#!trydef A 2\nA\n#!redefine A 3\nA\n#!undef A\nA\n");
    assert_eq!(squeezed(&out), "1 3 A");
    let out = run("#!define A 1\n#!define A 2\n");
    assert_eq!(codes(&out), vec![Code::Preprocessor]);
    let out = run("#!undef NEVER\n#!tryundef NEVER\n");
    assert_eq!(codes(&out), vec![Code::Preprocessor]);
}

#[test]
fn unbalanced_conditionals_name_the_open_line() {
    let mut sources = SourceMap::new();
    let root = sources.add("main.cfg", "main.cfg", "a\n#!ifdef X\nb\n".to_string(), None);
    let out = preprocess(&mut sources, root, &MemoryLoader::default(), &Options::default());
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(sources.location(out.diagnostics[0].span), "main.cfg:2:1");
    let out = run("#!endif\n");
    assert_eq!(codes(&out), vec![Code::Preprocessor]);
}

#[test]
fn text_after_else_or_endif_is_an_error() {
    assert_eq!(codes(&run("#!ifdef A\n#!else # x\n#!endif\n")), vec![Code::Preprocessor]);
    assert_eq!(codes(&run("#!ifdef A\n#!endif // x\n")), vec![Code::Preprocessor]);
}

#[test]
fn unknown_or_upper_case_directives_are_comments() {
    let out = run("#!IFDEF X\n#! define Y\n#!foo bar\nz\n");
    assert_eq!(squeezed(&out), "z");
    assert!(out.diagnostics.is_empty());
}

#[test]
fn mode_header() {
    assert_eq!(run("#!KAMAILIO\nx\n").mode, Mode::Kamailio);
    assert_eq!(run("#!KAMAILIO \nx\n").mode, Mode::MaxCompat, "a trailing blank makes it a comment");
    assert_eq!(run("x\n").mode, Mode::MaxCompat);
}

#[test]
fn nested_block_comments_are_removed() {
    let out = run("a /* one /* two */ still */ b\n");
    assert_eq!(squeezed(&out), "a b");
    assert_eq!(codes(&run("a /* open\n")), vec![Code::Preprocessor]);
}

#[test]
fn command_line_defines() {
    let options = Options { defines: vec![parse_define_arg("WITH_X"), parse_define_arg("LEVEL=3")] };
    let (_, out) = run_with("#!ifdef WITH_X\nLEVEL\n#!endif\n", &MemoryLoader::default(), &options);
    assert_eq!(squeezed(&out), "3");
}

#[test]
fn predefined_version_names() {
    let out = run("#!ifdef KAMAILIO_6\nsix\n#!endif\nKAMAILIO_VERSION\n");
    assert_eq!(squeezed(&out), "six 6000000");
}

#[test]
fn loadmodule_defines_mod_name() {
    let out = run("loadmodule \"tm.so\"\n#!ifdef MOD_tm\nhas_tm\n#!endif\n");
    assert_eq!(squeezed(&out), "loadmodule \"tm.so\" has_tm");
}

#[test]
fn subst_rewrites_later_strings() {
    let out = run("#!subst \"/MYHOST/example.com/g\"\n$ru = \"sip:MYHOST\" + MYHOST;\n");
    assert_eq!(squeezed(&out), "$ru = \"sip:example.com\" + MYHOST;");
    let out = run("#!substdef \"/GW/10.0.0.1/\"\n$ru = \"sip:GW\"; $x = GW;\n");
    assert_eq!(squeezed(&out), "$ru = \"sip:10.0.0.1\"; $x = 10.0.0.1;");
}

#[test]
fn ifexp_evaluates_over_defines() {
    let text = "#!define LEVEL 3\n#!ifexp LEVEL > 2 && !UNSET\nhigh\n#!else\nlow\n#!endif\n";
    assert_eq!(squeezed(&run(text)), "high");
    let out = run("#!defexp SUM 2 + 3 * 4\nSUM\n");
    assert_eq!(squeezed(&out), "14");
}

#[test]
fn includes_are_relative_to_the_including_file() {
    let mut loader = MemoryLoader::default();
    loader.0.insert(PathBuf::from("conf/sub/routes.cfg"), "route[R] { exit; }\n".into());
    loader.0.insert(PathBuf::from("conf/defs.cfg"), "#!define X 7\n".into());
    let text = "#!include_file \"defs.cfg\"\ninclude_file \"sub/routes.cfg\"\nimport_file \"missing.cfg\"\nX\n";
    let (sources, out) = run_with(text, &loader, &Options::default());
    assert_eq!(squeezed(&out), "route[R] { exit; } 7");
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    // Spans inside the included file point into it.
    let at = out.expanded.text.find("route").unwrap_or(0);
    let span = out.expanded.span(at..at + 5);
    assert_eq!(sources.location(span), "sub/routes.cfg:1:1");
    let (_, out) = run_with("include_file \"missing.cfg\"\n", &loader, &Options::default());
    assert_eq!(codes(&out), vec![Code::Preprocessor]);
}

#[test]
fn include_cycles_stop() {
    let mut loader = MemoryLoader::default();
    loader.0.insert(PathBuf::from("conf/self.cfg"), "include_file \"self.cfg\"\n".into());
    let (_, out) = run_with("include_file \"self.cfg\"\n", &loader, &Options::default());
    assert_eq!(codes(&out), vec![Code::Preprocessor]);
}

#[test]
fn valueless_define_in_route_name_warns() {
    let out = run("#!define RELAY\nroute(RELAY);\nroute[RELAY] { exit; }\n");
    assert_eq!(codes(&out), vec![Code::DefineInRouteName, Code::DefineInRouteName]);
    let out = run("#!define RELAY\nt_on_failure(\"RELAY\");\n");
    assert!(out.diagnostics.is_empty());
}

#[test]
fn event_route_names_are_not_substituted() {
    let out = run("#!define core x\nevent_route[core:worker-one-init] { core; }\n");
    assert_eq!(squeezed(&out), "event_route[core:worker-one-init] { x; }");
}

#[test]
fn self_referencing_defines_stop() {
    let out = run("#!define LOOP LOOP + 1\nLOOP\n");
    assert_eq!(codes(&out), vec![Code::Preprocessor]);
}

#[test]
fn spans_of_expansions_point_at_the_use() {
    let (sources, out) = run_with("#!define LEVEL 3\ndebug=LEVEL\n", &MemoryLoader::default(), &Options::default());
    let at = out.expanded.text.find('3').unwrap_or(0);
    let span = out.expanded.span(at..at + 1);
    assert_eq!(sources.location(span), "main.cfg:2:7");
    assert_eq!(sources.snippet(span), "LEVEL");
}
