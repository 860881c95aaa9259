//! Core global parameters (`children = 4`) and `flags` declarations.

use super::Context;
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::globals::{self, GLOBAL_PARAMS, GlobalKind};
use crate::parse::ast::{GlobalValue, Item, ListenSpec, Literal};
use crate::parse::pv::parse_format;

pub(super) fn check(cx: &mut Context<'_>) {
    for item in &cx.config.items {
        match item {
            Item::Global(assign) => {
                let name = &assign.name.node;
                let Some(param) = globals::find(name) else {
                    let mut diagnostic = Diagnostic::new(
                        Code::UnknownGlobalParam,
                        assign.name.span,
                        format!("unknown global parameter `{name}`"),
                    )
                    .with_label("Kamailio aborts start-up on an unknown parameter");
                    diagnostic = match did_you_mean(name, GLOBAL_PARAMS.iter().map(|p| p.name)) {
                        Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
                        None => diagnostic.with_help("a custom config variable needs a group: `group.name = value`"),
                    };
                    cx.report(diagnostic);
                    continue;
                };
                if let Some((problem, help)) = value_problem(name, param.kind, &assign.value.node) {
                    cx.report(
                        Diagnostic::new(
                            Code::BadGlobalParamValue,
                            assign.value.span,
                            format!("bad value for `{name}`"),
                        )
                        .with_label(problem)
                        .with_help(help),
                    );
                    continue;
                }
                if name == "log_prefix"
                    && let GlobalValue::Str(format) = &assign.value.node
                {
                    let span = assign.value.span;
                    if let Err(error) = parse_format(format, &|_| span) {
                        cx.report(
                            Diagnostic::new(
                                Code::BadGlobalParamValue,
                                span,
                                format!("bad `log_prefix`: {}", error.message),
                            )
                            .with_help("write `$$` for a literal `$`"),
                        );
                    }
                }
            }
            Item::CfgVar(var) => {
                // Dotted names declare custom variables, except kemi.* callbacks which are core.
                if let Some(param) = globals::find(&var.name.node)
                    && param.kind == GlobalKind::Str
                    && !matches!(var.value.node, Literal::Str(_))
                {
                    cx.report(
                        Diagnostic::new(
                            Code::BadGlobalParamValue,
                            var.value.span,
                            format!("bad value for `{}`", var.name.node),
                        )
                        .with_label("expected a string"),
                    );
                }
            }
            Item::Flags(flags) => {
                for flag in flags {
                    let bit = flag.bit.as_ref().map(|b| b.node);
                    if let Some(bit) = &flag.bit
                        && !(0..=63).contains(&bit.node)
                    {
                        cx.report(
                            Diagnostic::new(
                                Code::BadGlobalParamValue,
                                bit.span,
                                format!("flag bit {} is out of range", bit.node),
                            )
                            .with_help("message flags are numbered 0 to 31 (63 for branch flags)"),
                        );
                    }
                    let next_free = (0..32).find(|b| !cx.analysis.flags.values().any(|v| v == b)).unwrap_or(0);
                    cx.analysis.flags.insert(flag.name.node.clone(), bit.unwrap_or(next_free));
                }
            }
            _ => {}
        }
    }
}

/// What is wrong with a value for a parameter of `kind`, and how to fix it.
fn value_problem(name: &str, kind: GlobalKind, value: &GlobalValue) -> Option<(String, String)> {
    let type_error = |expected: &str, example: &str| {
        Some((format!("expected {expected}"), format!("write e.g. `{name}={example}`")))
    };
    match (kind, value) {
        (GlobalKind::Number | GlobalKind::Bool, GlobalValue::Int(n)) if *n < 0 => {
            Some(("a negative value is not accepted here".into(), format!("give a value of 0 or more for `{name}`")))
        }
        (GlobalKind::Number | GlobalKind::Bool | GlobalKind::Int, GlobalValue::Int(n)) => range_problem(name, *n),
        (GlobalKind::Bool, _) => type_error("yes or no", "yes"),
        (GlobalKind::Number, _) => type_error("a number", "4"),
        (GlobalKind::Int, _) => type_error("an integer", "2"),
        (GlobalKind::Str, GlobalValue::Str(_)) => None,
        (GlobalKind::Str, _) => type_error("a quoted string", "\"value\""),
        (GlobalKind::StrOrId, GlobalValue::Str(_) | GlobalValue::Ident(_)) => None,
        (GlobalKind::StrOrId, _) => type_error("a string or a name", "\"value\""),
        (GlobalKind::NumOrStr, GlobalValue::Int(_) | GlobalValue::Str(_) | GlobalValue::Ident(_)) => None,
        (GlobalKind::NumOrStr, _) => type_error("a number or a string", "1"),
        (GlobalKind::Listen | GlobalKind::Alias, GlobalValue::Listen(spec)) => listen_problem(kind, spec),
        (GlobalKind::Listen | GlobalKind::Alias, GlobalValue::Ident(_) | GlobalValue::Str(_)) => None,
        (GlobalKind::Listen | GlobalKind::Alias, GlobalValue::Int(_)) => type_error("an address", "udp:127.0.0.1:5060"),
    }
}

fn range_problem(name: &str, n: i64) -> Option<(String, String)> {
    let (low, high) = match name {
        "port" | "tls_port_no" => (0, 65535),
        "children" | "tcp_children" | "sctp_children" => (1, 1024),
        "debug" => (-5, 3),
        "max_while_loops" => (0, i64::from(i32::MAX)),
        _ => return None,
    };
    if (low..=high).contains(&n) {
        None
    } else {
        Some((format!("{n} is outside {low}..={high}"), format!("give `{name}` a value from {low} to {high}")))
    }
}

fn listen_problem(kind: GlobalKind, spec: &ListenSpec) -> Option<(String, String)> {
    if kind == GlobalKind::Alias && (spec.advertise.is_some() || spec.name.is_some() || spec.virtual_ip) {
        return Some((
            "`advertise`, `name` and `virtual` are not allowed here".into(),
            "give just `[proto:]host[:port]`".into(),
        ));
    }
    for address in std::iter::once(&spec.address).chain(spec.advertise.as_ref()) {
        if let Some(port) = &address.port
            && port != "*"
            && port.parse::<u16>().is_err()
        {
            return Some((format!("port `{port}` is not a valid port number"), "ports go from 1 to 65535".into()));
        }
    }
    None
}
