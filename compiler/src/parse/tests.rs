//! Grammar and lowering: Kamailio's precedence, literals, statement forms, error recovery.

use std::path::Path;

use super::ast::*;
use crate::check::{Constant, constant};
use crate::diagnostics::Code;
use crate::preprocess::FsLoader;
use crate::{Frontend, Options, check_text};

fn front(text: &str) -> Frontend {
    check_text("t.cfg", Path::new("t.cfg"), text.to_string(), &Options::default(), &FsLoader)
}

fn syntax_codes(text: &str) -> Vec<Code> {
    front(text).diagnostics.iter().filter(|d| d.code == Code::Syntax).map(|d| d.code).collect()
}

/// The expression assigned in `request_route { $var(x) = <expr>; }`.
fn expr(source: &str) -> Expr {
    let text = format!("loadmodule \"pv.so\"\nrequest_route {{ $var(x) = {source}; }}\n");
    let frontend = front(&text);
    assert!(!frontend.has_errors(), "{source}: {:?}", frontend.diagnostics);
    let route = frontend.config.routes().next().cloned().expect("a route");
    match route.body.stmts.into_iter().next().map(|s| s.kind) {
        Some(StmtKind::Assign { value, .. }) => value,
        other => panic!("not an assignment: {other:?}"),
    }
}

fn value(source: &str) -> Constant {
    constant(&expr(source)).expect("constant")
}

#[test]
fn precedence_is_kamailios_not_cs() {
    assert_eq!(value("6 & 3 ^ 1"), Constant::Int(2));
    assert_eq!(value("1 << 4 >> 2"), Constant::Int(2));
    assert_eq!(value("2 * 3 + 4 * 5"), Constant::Int(26));
    assert_eq!(value("10 - 4 - 3"), Constant::Int(3), "left associative");
    assert_eq!(value("7 mod 4 * 2"), Constant::Int(6));
    assert_eq!(value("-2 * 3"), Constant::Int(-6));
    // `2 << 1 == 4` is `2 << (1 == 4)`: comparisons bind tighter than shifts.
    match expr("2 << 1 == 4").kind {
        ExprKind::Binary { op: BinaryOp::Shl, right, .. } => {
            assert!(matches!(right.kind, ExprKind::Binary { op: BinaryOp::Eq, .. }))
        }
        other => panic!("{other:?}"),
    }
    match expr("$var(a) || $var(b) && $var(c)").kind {
        ExprKind::Binary { op: BinaryOp::Or, right, .. } => {
            assert!(matches!(right.kind, ExprKind::Binary { op: BinaryOp::And, .. }))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn numbers_and_words() {
    assert_eq!(value("010 + 101b + 0x10"), Constant::Int(29));
    assert_eq!(value("yes + on"), Constant::Int(2));
    assert_eq!(value("true - false"), Constant::Int(1));
    assert_eq!(syntax_codes("request_route { $var(x) = 08; }"), vec![Code::Syntax]);
}

#[test]
fn strings_join_and_escape() {
    assert_eq!(value("\"a\" \"b\"\n   \"c\""), Constant::Str("abc".into()));
    assert_eq!(value("\"tab\\there\""), Constant::Str("tab\there".into()));
    assert_eq!(value("'raw\\n'"), Constant::Str("raw\\n".into()));
    assert_eq!(value("\"a\" + 1"), Constant::Str("a1".into()));
}

#[test]
fn null_comparisons_become_defined() {
    match expr("$rU == $null").kind {
        ExprKind::Unary { op: UnaryOp::Not, operand } => {
            assert!(matches!(operand.kind, ExprKind::Unary { op: UnaryOp::Defined, .. }))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(expr("$rU != $null").kind, ExprKind::Unary { op: UnaryOp::Defined, .. }));
}

#[test]
fn casts_and_builtins() {
    assert!(matches!(expr("(int)$var(s) + 1").kind, ExprKind::Binary { op: BinaryOp::Add, .. }));
    assert!(matches!(expr("strlen($ru)").kind, ExprKind::Strlen(_)));
    assert!(matches!(expr("selval($var(a), 1, 2)").kind, ExprKind::Selval { .. }));
    assert!(matches!(expr("defined $var(a)").kind, ExprKind::Unary { op: UnaryOp::Defined, .. }));
}

#[test]
fn pseudo_variable_forms() {
    match expr("$(avp(a)[-1]{s.len})").kind {
        ExprKind::Pv(pv) => {
            assert_eq!(pv.class, "avp");
            assert_eq!(pv.index, Some(PvIndex::Int(-1)));
            assert_eq!(pv.transforms[0].name, "len");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        syntax_codes("loadmodule \"pv.so\"\nrequest_route { $var(x) = $avp(a)[1]; }"),
        vec![Code::Syntax],
        "an index needs the $( ) form"
    );
}

#[test]
fn if_forms() {
    let ok = [
        "request_route { if $rU == \"a\" { exit; } }",
        "request_route { if ($rU == \"a\") && ($rd == \"b\") { exit; } }",
        "request_route { if (!$rU) exit; else if ($rd) drop; else { ; } }",
    ];
    for text in ok {
        let text = format!("loadmodule \"pv.so\"\n{text}");
        let frontend = front(&text);
        assert!(!frontend.has_errors(), "{text}: {:?}", frontend.diagnostics);
    }
}

#[test]
fn route_headers_and_names() {
    let frontend = front(
        "route { exit; }\nroute[0] { exit; }\nroute[0x1] { exit; }\nroute[\"my-r\"] { exit; }\n\
         onreply_route { drop; }\nonreply_route[0] { drop; }\nrequest_route { route(1); route(\"my-r\"); }\n",
    );
    let kinds: Vec<(BlockKind, Option<String>)> =
        frontend.config.routes().map(|r| (r.kind, r.name.as_ref().map(|n| n.node.clone()))).collect();
    assert_eq!(
        kinds,
        vec![
            (BlockKind::Request, None),
            (BlockKind::Request, None),
            (BlockKind::Route, Some("1".into())),
            (BlockKind::Route, Some("my-r".into())),
            (BlockKind::CoreReply, None),
            (BlockKind::CoreReply, None),
            (BlockKind::Request, None),
        ]
    );
    assert!(!frontend.has_errors(), "{:?}", frontend.diagnostics);
    assert!(!syntax_codes("request_route[X] { exit; }").is_empty());
    assert!(!syntax_codes("route[NAME] { exit; }").is_empty(), "NAME is reserved");
}

#[test]
fn switch_with_fallthrough_and_default() {
    let text = "loadmodule \"pv.so\"\nrequest_route {\n switch ($var(rc)) {\n case -1:\n case -3:\n exit;\n \
                case 2: break;\n default: drop;\n }\n}\n";
    let frontend = front(text);
    assert!(!frontend.has_errors(), "{:?}", frontend.diagnostics);
    let route = frontend.config.routes().next().cloned().expect("route");
    match &route.body.stmts[0].kind {
        StmtKind::Switch { arms, .. } => {
            assert_eq!(arms.len(), 4);
            assert!(arms[0].body.is_empty(), "`case -1:` falls through");
            assert!(matches!(arms[3].label, CaseLabel::Default));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn top_level_needs_no_semicolons() {
    let frontend = front("debug=2 children=4; fork=yes\nrequest_route { exit; }\n");
    assert!(!frontend.has_errors(), "{:?}", frontend.diagnostics);
    assert_eq!(frontend.config.items.len(), 4);
}

#[test]
fn listen_forms() {
    let frontend = front(
        "listen=udp:10.0.0.10:5060 advertise 203.0.113.5:5060 name \"pub\"\nlisten=127.0.0.1\n\
         listen=tcp:[::1]:5061\nlisten=localhost\nrequest_route { exit; }\n",
    );
    assert!(!frontend.has_errors(), "{:?}", frontend.diagnostics);
    let first = frontend.config.items.iter().find_map(|i| match i {
        Item::Global(GlobalAssign { value: Spanned { node: GlobalValue::Listen(spec), .. }, .. }) => Some(spec.clone()),
        _ => None,
    });
    let spec = first.expect("a listen");
    assert_eq!(spec.address.proto.as_deref(), Some("udp"));
    assert_eq!(spec.address.hosts, vec!["10.0.0.10".to_string()]);
    assert_eq!(spec.address.port.as_deref(), Some("5060"));
    assert_eq!(spec.name.as_deref(), Some("pub"));
}

#[test]
fn errors_do_not_hide_later_ones() {
    let text = "request_route {\n  exit\n}\nroute[A] {\n  $x += 1;\n}\nroute[B] {\n  drop;\n}\n";
    let frontend = front(text);
    let lines: Vec<usize> = frontend
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::Syntax)
        .map(|d| frontend.sources.get(d.span.file).line_col(d.span.start as usize).0)
        .collect();
    assert_eq!(lines, vec![2, 5]);
    assert!(frontend.config.routes().any(|r| r.name.as_ref().is_some_and(|n| n.node == "B")));
}

#[test]
fn rejected_operators_get_hints() {
    for (text, hint) in [
        ("request_route { if ($var(a) !~ \"x\") exit; }", "no `!~`"),
        ("request_route { $var(a) = 5 % 2; }", "`mod`"),
        ("request_route { $var(a) += 1; }", "only `=`"),
    ] {
        let frontend = front(&format!("loadmodule \"pv.so\"\n{text}"));
        let help = frontend.diagnostics.iter().filter_map(|d| d.help.clone()).collect::<Vec<_>>().join("|");
        assert!(help.contains(hint), "{text}: {help}");
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing() {
    let text = format!("request_route {{ $var(x) = {}1{}; }}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(syntax_codes(&text), vec![Code::Syntax]);
}
