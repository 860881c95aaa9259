//! The front end never panics and always points inside the file, whatever it is fed:
//! random token soup, mutated real configs, and pathological nesting.

use std::path::Path;

use proptest::prelude::*;
use sipcfg_compiler::diagnostics::{emit_json, render_human};
use sipcfg_compiler::preprocess::FsLoader;
use sipcfg_compiler::{Options, check_text};

/// Fragments that exercise the grammar's corners, glued at random.
const TOKENS: &[&str] = &[
    "request_route",
    "route",
    "route[",
    "failure_route[",
    "onreply_route",
    "event_route[",
    "reply_route",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    ":",
    "=",
    "==",
    "!=",
    "=~",
    "!",
    "-",
    "+",
    "*",
    "/",
    "mod",
    "&&",
    "||",
    "|",
    "&",
    "^",
    "<<",
    ">>",
    "<",
    ">=",
    "if",
    "else",
    "while",
    "switch",
    "case",
    "default",
    "break",
    "return",
    "exit",
    "drop",
    "$var(x)",
    "$(avp(a)[1]{s.len})",
    "$ru",
    "$",
    "$(",
    "\"str\"",
    "\"a$ru\"",
    "'raw'",
    "“typo”",
    "\"",
    "'",
    "0x1F",
    "010",
    "08",
    "101b",
    "1.2.3.4",
    "::1",
    "[::1]",
    "myself",
    "method",
    "uri",
    "src_ip",
    "msg:len",
    "loadmodule",
    "\"sl.so\"",
    "\"tm.so\"",
    "modparam(",
    "\"tm\"",
    "\"fr_timer\"",
    "sl_send_reply(",
    "t_relay()",
    "is_method(",
    "lock(",
    "unlock(",
    "forward(",
    "uri:host",
    "udp:1.2.3.4:5060",
    "#!define X",
    "#!define Y 1\n",
    "#!ifdef X\n",
    "#!else\n",
    "#!endif\n",
    "#!subst \"/a/b/\"\n",
    "include_file \"x.cfg\"",
    "/*",
    "*/",
    "#",
    "//",
    "\n",
    " ",
    "listen=",
    "children=4",
    "X",
    "Y",
    "NAME",
    "(int)",
    "(str)",
    "defined",
    "strlen(",
    "selval(",
    "\\",
    "@cfg_get.a.b",
    "é",
    "\u{0}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..120).prop_map(|parts| parts.join(" "))
}

static REAL_CONFIGS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(real_configs);

fn real_configs() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut texts = Vec::new();
    for dir in
        ["examples/seed", "examples/seed/as-written", "compiler/tests/data/check/ok", "compiler/tests/data/check/err"]
    {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            for entry in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    texts.push(text);
                }
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string("/etc/kamailio/kamailio.cfg") {
        texts.push(text);
    }
    texts
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, token: &'static str },
    Duplicate { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<usize>(), 1usize..80).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Delete { at, len: n } => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Insert { at, token } => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, token.bytes());
            }
            Mutation::Duplicate { at, len: n } => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    let piece = bytes[at..end].to_vec();
                    bytes.splice(end..end, piece);
                }
            }
        }
    }
    // The front end takes text; byte-level cuts may split a character.
    String::from_utf8_lossy(&bytes).into_owned()
}

fn check_everything_holds(text: String) {
    let frontend = check_text("fuzz.cfg", Path::new("fuzz.cfg"), text, &Options::default(), &FsLoader);
    for diagnostic in &frontend.diagnostics {
        let file = frontend.sources.get(diagnostic.span.file);
        assert!(diagnostic.span.start <= diagnostic.span.end, "{diagnostic:?}");
        assert!(diagnostic.span.end as usize <= file.text.len(), "{diagnostic:?} past the end of {}", file.name);
        assert!(file.text.is_char_boundary(diagnostic.span.start as usize), "{diagnostic:?}");
    }
    let _ = render_human(&frontend.sources, &frontend.diagnostics);
    let mut json = Vec::new();
    emit_json(&mut json, &frontend.sources, &frontend.diagnostics).expect("in-memory write");
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
}

proptest! {
    // 400 cases per property in the suite; set PROPTEST_CASES for a longer campaign.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(text in soup()) {
        check_everything_holds(text);
    }

    #[test]
    fn mutated_configs_never_panic(index in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let configs = &*REAL_CONFIGS;
        let base = &configs[index.index(configs.len())];
        check_everything_holds(apply(base, &mutations));
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        check_everything_holds(text);
    }
}

#[test]
fn pathological_nesting_is_an_error_not_a_crash() {
    let cases = [
        format!("request_route {{ {} exit; }}", "if (1) ".repeat(100_000)),
        format!("request_route {{ $var(x) = {}1; }}", "!".repeat(100_000)),
        format!("request_route {{ $var(x) = {}1; }}", "(int)".repeat(100_000)),
        format!("request_route {{ {} }}", "{".repeat(100_000)),
        format!("request_route {{ $var(x) = 1{}; }}", " + 1".repeat(100_000)),
        format!("request_route {{ if (1) exit; {} }}", "else if (1) exit; ".repeat(100_000)),
        "#!define A B\n#!define B A\nA\n".to_string(),
        // Each level doubles: 2^64 copies unless expansion is bounded.
        "#!define X Y X\n#!define Y X Y\nrequest_route { X; }\n".to_string(),
        format!("{}request_route {{ exit; }}", "/*".repeat(10_000)),
        format!("{}\nrequest_route {{ exit; }}", "#!ifdef X\n".repeat(600)),
    ];
    for text in cases {
        check_everything_holds(text);
    }
}
