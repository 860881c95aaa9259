//! Function calls: resolution against loaded modules, argument count and kinds, the route
//! types a call may run in (through the whole route graph), and keyword operands that only
//! make sense in some routes.

use super::routes::{explain_reach, title_of};
use super::{Constant, Context, constant, pvs};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::modules::{self as registry, ArgKind, ArgSpec, Function, Lookup, Module, RouteKind, RouteMask};
use crate::parse::ast::*;
use crate::parse::pv::{FormatPart, parse_format, parse_pv};
use crate::parse::strings::unescape_mapped;
use crate::source::Span;

/// SIP methods `is_method` knows by id; a list (`"A|B"`) may hold only these.
const KNOWN_METHODS: &[&str] = &[
    "INVITE",
    "ACK",
    "CANCEL",
    "BYE",
    "OPTIONS",
    "REGISTER",
    "INFO",
    "UPDATE",
    "PRACK",
    "SUBSCRIBE",
    "NOTIFY",
    "MESSAGE",
    "REFER",
    "PUBLISH",
    "KDMQ",
    "GET",
    "POST",
    "PUT",
    "DELETE",
];

const LOG_LEVELS: &[&str] =
    &["L_ALERT", "L_BUG", "L_CRIT2", "L_CRIT", "L_ERR", "L_WARN", "L_NOTICE", "L_INFO", "L_DBG"];

pub(super) fn check(cx: &mut Context<'_>) {
    let config = cx.config;
    for (index, item) in config.items.iter().enumerate() {
        let Item::Route(route) = item else { continue };
        let mask = cx.analysis.routes.runs_in.get(&index).copied().unwrap_or(RouteMask::REQUEST);
        // A sub-route runs in the route types of its callers; a top-level block in its own.
        let inherited = if route.kind == BlockKind::Route { mask } else { RouteMask::NONE };
        let mut walker = Walker { cx, item: index, mask, inherited };
        walker.stmts(&route.body.stmts);
    }
}

struct Walker<'c, 'a> {
    cx: &'c mut Context<'a>,
    item: usize,
    /// Route types the code being walked runs in (narrowed by `is_request()`-like guards).
    mask: RouteMask,
    /// Route types that reach this block through `route()` calls.
    inherited: RouteMask,
}

/// Route types where the message being processed is a request.
const REQUEST_SIDE: RouteMask = RouteMask(
    RouteMask::REQUEST.0 | RouteMask::FAILURE.0 | RouteMask::BRANCH.0 | RouteMask::ONSEND.0 | RouteMask::LOCAL.0,
);

/// Route types where Kamailio's own check is "as request code" for sub-routes: they process
/// a request, so a request-route function called from a sub-route works there.
const REQUEST_CARRYING: RouteMask = RouteMask(RouteMask::FAILURE.0 | RouteMask::BRANCH.0);

/// The route types a guard call is true in (`is_request()`, tmx `t_is_branch_route()`...).
fn guard_mask(name: &str) -> Option<RouteMask> {
    Some(match name {
        "is_request" => REQUEST_SIDE,
        "is_reply" => RouteMask::REPLY,
        "t_is_request_route" => RouteMask::REQUEST,
        "t_is_failure_route" => RouteMask::FAILURE,
        "t_is_branch_route" => RouteMask::BRANCH,
        "t_is_reply_route" => RouteMask::REPLY,
        _ => return None,
    })
}

/// The route types where `cond` evaluates to `truth`, within `mask`. Conditions that are
/// not route-type guards leave the mask as it is.
fn narrow(cond: &Expr, truth: bool, mask: RouteMask) -> RouteMask {
    match &cond.kind {
        ExprKind::Call(call) if call.args.is_empty() => match guard_mask(&call.name.node) {
            Some(guard) if truth => RouteMask(mask.0 & guard.0),
            Some(guard) => RouteMask(mask.0 & !guard.0),
            None => mask,
        },
        ExprKind::Unary { op: UnaryOp::Not, operand } => narrow(operand, !truth, mask),
        ExprKind::Binary { op: BinaryOp::And, left, right } if truth => narrow(right, true, narrow(left, true, mask)),
        ExprKind::Binary { op: BinaryOp::And, left, right } => {
            narrow(left, false, mask).union(narrow(right, false, mask))
        }
        ExprKind::Binary { op: BinaryOp::Or, left, right } if truth => {
            narrow(left, true, mask).union(narrow(right, true, mask))
        }
        ExprKind::Binary { op: BinaryOp::Or, left, right } => narrow(right, false, narrow(left, false, mask)),
        _ => mask,
    }
}

impl Walker<'_, '_> {
    fn stmts(&mut self, stmts: &[Stmt]) {
        let saved = self.mask;
        for stmt in stmts {
            if self.mask.is_empty() {
                break; // No route type runs this code.
            }
            self.stmt(stmt);
            // `if (!is_request()) return;`: what follows runs only where the guard is false.
            if let StmtKind::If { cond, then, otherwise: None } = &stmt.kind
                && super::flow::terminates(then)
            {
                self.mask = narrow(cond, false, self.mask);
            }
        }
        self.mask = saved;
    }

    fn with_mask(&mut self, mask: RouteMask, stmt: &Stmt) {
        if mask.is_empty() {
            return;
        }
        let saved = std::mem::replace(&mut self.mask, mask);
        self.stmt(stmt);
        self.mask = saved;
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Empty | StmtKind::Break => {}
            StmtKind::Block(block) => self.stmts(&block.stmts),
            StmtKind::If { cond, then, otherwise } => {
                self.expr(cond);
                self.with_mask(narrow(cond, true, self.mask), then);
                if let Some(otherwise) = otherwise {
                    self.with_mask(narrow(cond, false, self.mask), otherwise);
                }
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.stmt(body);
            }
            StmtKind::Switch { subject, arms } => {
                self.expr(subject);
                for arm in arms {
                    if let CaseLabel::Value { value, regex } = &arm.label {
                        self.case_label(value, *regex);
                    }
                    self.stmts(&arm.body);
                }
            }
            StmtKind::Return(e) | StmtKind::Exit(e) | StmtKind::Drop(e) => {
                if let Some(e) = e {
                    self.expr(e);
                }
            }
            StmtKind::Assign { target, value } => {
                pvs::check_pv(self.cx, target, self.item, pvs::Access::Write, pvs::Written::Script);
                self.expr(value);
            }
            StmtKind::Call(call) => self.call(call),
            StmtKind::Route(route) => {
                if let RouteTarget::Dynamic(e) = &route.target {
                    self.expr(e);
                }
            }
        }
    }

    fn case_label(&mut self, value: &Expr, regex: bool) {
        if constant(value).is_none() {
            self.cx.report(
                Diagnostic::new(Code::Syntax, value.span, "a `case` label must be a constant")
                    .with_help("use a number or a string; compare run-time values with `if`"),
            );
            return;
        }
        if regex
            && let Some(Constant::Str(pattern)) = constant(value)
            && let Err(error) = regex::Regex::new(&pattern)
        {
            self.cx.report(
                Diagnostic::new(Code::ArgKind, value.span, "invalid regular expression in `case`")
                    .with_label(short_regex_error(&error)),
            );
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Pv(pv) => pvs::check_pv(self.cx, pv, self.item, pvs::Access::Read, pvs::Written::Script),
            ExprKind::Call(call) => self.call(call),
            ExprKind::Route(RouteRef { target: RouteTarget::Dynamic(e), .. }) => self.expr(e),
            ExprKind::Keyword(keyword) if keyword.onsend_only() && self.mask != RouteMask::ONSEND => {
                self.cx.report(
                    Diagnostic::new(
                        Code::WrongRouteType,
                        expr.span,
                        format!(
                            "`{}` describes the message being sent and exists only in onsend_route",
                            keyword.as_str()
                        ),
                    )
                    .with_label(format!("this code runs in {}", self.mask.list()))
                    .with_help("use `src_ip`/`dst_ip`/`$si`/`$Ri` for the received message"),
                );
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { left, right, .. } => {
                self.expr(left);
                self.expr(right);
            }
            ExprKind::Strlen(e) | ExprKind::Strempty(e) => self.expr(e),
            ExprKind::Selval { cond, then, otherwise } => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            _ => {}
        }
    }

    fn call(&mut self, call: &Call) {
        let name = call.name.node.as_str();
        let argc = call.args.len();
        let visible: Vec<(&'static Module, &'static Function)> = self
            .cx
            .analysis
            .visible_at(self.item)
            .flat_map(|m| m.functions.iter().filter(move |f| f.name == name).map(move |f| (m, f)))
            .collect();
        // Arguments are checked as expressions whatever happens to the call itself.
        for arg in &call.args {
            if let Some(e) = arg.value.as_expr() {
                self.nested_call_check(call, e);
                self.expr(e);
            }
        }
        if visible.is_empty() {
            self.unresolved(call);
            return;
        }
        let Some((module, function)) = best_export(&visible, argc, self.mask) else {
            self.arg_count(call, &visible);
            return;
        };
        let bare_allowed = module.name == "core" && registry::core::BARE_COMMANDS.contains(&name);
        if !call.has_parens && !bare_allowed {
            self.cx.report(
                Diagnostic::new(Code::Syntax, call.span, format!("`{name}` needs parentheses"))
                    .with_label("a function call is written `name(...)`")
                    .with_help(format!("write `{name}()`")),
            );
        }
        self.route_type(call, function);
        for (position, (arg, spec)) in call.args.iter().zip(function.args).enumerate() {
            self.arg(call, position, arg, *spec);
        }
    }

    fn nested_call_check(&mut self, call: &Call, expr: &Expr) {
        let mut nested = None;
        super::walk_expr(expr, &mut |e| {
            if nested.is_none() && matches!(e.kind, ExprKind::Call(_) | ExprKind::Route(_)) {
                nested = Some(e.span);
            }
        });
        if let Some(span) = nested {
            self.cx.report(
                Diagnostic::new(
                    Code::ArgKind,
                    span,
                    format!("a function call cannot be an argument of `{}`", call.name.node),
                )
                .with_label("Kamailio rejects calls inside arguments")
                .with_help("store the result first: `$var(r) = f(...);` then pass `$var(r)`"),
            );
        }
    }

    /// A call that no loaded module provides.
    fn unresolved(&mut self, call: &Call) {
        let name = call.name.node.as_str();
        let provider = registry::MODULES.iter().skip(1).find(|m| m.functions.iter().any(|f| f.name == name));
        if let Some(module) = provider {
            self.cx.missing.entry(module.name).or_default().push((call.name.span, format!("`{name}`")));
            return;
        }
        if self.cx.analysis.has_opaque_modules() {
            // Probably exported by a module sipcfg does not implement; that module is
            // already reported as unsupported.
            return;
        }
        let visible_names: Vec<&str> =
            self.cx.analysis.visible_at(self.item).flat_map(|m| m.functions.iter().map(|f| f.name)).collect();
        let mut diagnostic =
            Diagnostic::new(Code::UnknownFunction, call.name.span, format!("unknown function `{name}`"))
                .with_label("no loaded module or core command has this name");
        let suggestion = did_you_mean(name, visible_names.iter().copied())
            .or_else(|| did_you_mean(name, registry::MODULES.iter().flat_map(|m| m.functions.iter().map(|f| f.name))));
        if let Some(suggestion) = suggestion {
            diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
        }
        self.cx.report(diagnostic);
    }

    fn arg_count(&mut self, call: &Call, visible: &[(&'static Module, &'static Function)]) {
        let mut counts: Vec<usize> = visible.iter().map(|(_, f)| f.args.len()).collect();
        counts.sort_unstable();
        counts.dedup();
        let accepted = match counts.as_slice() {
            [one] => format!("{one} argument{}", if *one == 1 { "" } else { "s" }),
            [init @ .., last] => {
                format!("{} or {last} arguments", init.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
            }
            [] => "no arguments".to_string(),
        };
        let given = call.args.len();
        self.cx.report(
            Diagnostic::new(
                Code::ArgCount,
                call.span,
                format!(
                    "`{}` takes {accepted}, but {given} {} given",
                    call.name.node,
                    if given == 1 { "was" } else { "were" }
                ),
            )
            .with_label(format!("{given} argument{}", if given == 1 { "" } else { "s" })),
        );
    }

    fn route_type(&mut self, call: &Call, function: &Function) {
        let name = &call.name.node;
        for kind in self.mask.kinds() {
            if function.routes.intersects(kind) {
                continue;
            }
            // Kamailio checks sub-route bodies as request code, and failure and branch routes
            // process a request: a request-route function reached from them through
            // `route()` works there.
            if self.inherited.intersects(kind)
                && REQUEST_CARRYING.intersects(kind)
                && function.routes.intersects(RouteMask::REQUEST)
            {
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                Code::WrongRouteType,
                call.name.span,
                format!("`{name}` cannot be used in {}", kind.describe()),
            )
            .with_label(format!("not allowed in {}", kind.describe()));
            let route_title = title_of(self.cx, self.item);
            for note in explain_reach(self.cx, self.item, kind) {
                diagnostic = diagnostic.with_note(note);
            }
            if !diagnostic.notes.is_empty() {
                diagnostic = diagnostic.with_note(format!("so `{route_title}` runs in {}", kind.describe()));
            }
            diagnostic = diagnostic.with_help(if function.routes.is_empty() {
                format!("`{name}` is for module-to-module use and cannot be called from a config")
            } else {
                format!("`{name}` is allowed in {}", function.routes.list())
            });
            self.cx.report(diagnostic);
        }
    }

    fn arg(&mut self, call: &Call, position: usize, arg: &Arg, spec: ArgSpec) {
        let function = &call.name.node;
        let nth = position + 1;
        let expected = spec.kind.describe();
        let kind_error = |message: String| Diagnostic::new(Code::ArgKind, arg.span, message);
        let expr = match &arg.value {
            ArgValue::UriHost if spec.kind == ArgKind::Host => return,
            ArgValue::UriPort if spec.kind == ArgKind::Port => return,
            ArgValue::Host(_) if matches!(spec.kind, ArgKind::Host | ArgKind::Socket) => return,
            ArgValue::Socket(_) if spec.kind == ArgKind::Socket => return,
            ArgValue::Expr(expr) => expr,
            _ => {
                self.cx.report(
                    kind_error(format!("argument {nth} of `{function}` must be {expected}"))
                        .with_label("not accepted here"),
                );
                return;
            }
        };
        if let ExprKind::Word(word) = &expr.kind {
            self.word_arg(call, nth, arg, spec, word);
            return;
        }
        if matches!(expr.kind, ExprKind::Call(_) | ExprKind::Route(_)) {
            return; // Already reported as a nested call.
        }
        let Some(value) = constant(expr) else {
            if !spec.dynamic {
                self.cx.report(
                    kind_error(format!("argument {nth} of `{function}` must be a constant"))
                        .with_label("a run-time value is not accepted here")
                        .with_help(format!(
                            "Kamailio resolves this argument when it loads the config: write {expected} literally"
                        )),
                );
            }
            return;
        };
        let text = value.as_text();
        match spec.kind {
            ArgKind::Int | ArgKind::Port => {
                if let Constant::Str(s) = &value
                    && s.trim().parse::<i64>().is_err()
                    && !s.trim().starts_with('$')
                {
                    self.cx.report(
                        kind_error(format!("argument {nth} of `{function}` must be an integer, not \"{s}\""))
                            .with_label("not a number"),
                    );
                    return;
                }
                if let Constant::Str(s) = &value
                    && s.trim().starts_with('$')
                {
                    self.pv_name_arg(call, nth, arg, s, pvs::Access::Read);
                    return;
                }
                if spec.kind == ArgKind::Port && text.trim().parse::<u16>().is_err() {
                    self.cx.report(
                        kind_error(format!("`{text}` is not a port number")).with_label("ports go from 0 to 65535"),
                    );
                }
            }
            ArgKind::Str | ArgKind::Any | ArgKind::Host | ArgKind::Socket => {}
            ArgKind::Fmt => self.format_arg(call, nth, arg, &text),
            ArgKind::Regex => {
                if let Err(error) = regex::Regex::new(&text) {
                    self.cx.report(
                        kind_error(format!("argument {nth} of `{function}` is not a valid regular expression"))
                            .with_label(short_regex_error(&error)),
                    );
                }
            }
            ArgKind::Subst => {
                if let Err(reason) = check_subst(&text) {
                    self.cx.report(
                        kind_error(format!("argument {nth} of `{function}` is not a valid substitution"))
                            .with_label(reason)
                            .with_help("write \"/regex/replacement/flags\" (flags: i, g, s)"),
                    );
                }
            }
            ArgKind::PvName => self.pv_name_arg(call, nth, arg, &text, pvs::Access::Read),
            ArgKind::WritablePvName => self.pv_name_arg(call, nth, arg, &text, pvs::Access::Write),
            ArgKind::Route(kind) => self.route_arg(arg, kind, &text),
            ArgKind::Methods => self.methods_arg(call, arg, &text),
            ArgKind::LogLevel => {
                let level = text.trim();
                if !(LOG_LEVELS.contains(&level) || level.starts_with('$') || level.parse::<i64>().is_ok()) {
                    let mut diagnostic =
                        kind_error(format!("`{level}` is not a log level")).with_label("unknown level");
                    diagnostic = diagnostic.with_help(match did_you_mean(level, LOG_LEVELS.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("use one of {}", LOG_LEVELS.join(", ")),
                    });
                    self.cx.report(diagnostic);
                } else if level.starts_with('$') {
                    self.pv_name_arg(call, nth, arg, level, pvs::Access::Read);
                }
            }
            ArgKind::Flag => {
                let flag = text.trim().parse::<i64>().ok();
                if !flag.is_some_and(|f| (0..=31).contains(&f)) {
                    self.cx.report(
                        kind_error(format!("`{text}` is not a flag"))
                            .with_label("flags are numbered 0 to 31")
                            .with_help("give a number from 0 to 31, or a name declared with `flags NAME:bit`"),
                    );
                }
            }
            ArgKind::Proto => {
                if !is_proto(&text) {
                    self.cx.report(
                        kind_error(format!("`{text}` is not a protocol")).with_help("use udp, tcp, tls or sctp"),
                    );
                }
            }
        }
    }

    /// A bare word as an argument: a flag name, a host or a protocol.
    fn word_arg(&mut self, call: &Call, nth: usize, arg: &Arg, spec: ArgSpec, word: &str) {
        let ok = match spec.kind {
            ArgKind::Flag => {
                if self.cx.analysis.flags.contains_key(word) {
                    true
                } else {
                    self.cx.report(
                        Diagnostic::new(Code::ArgKind, arg.span, format!("unknown flag `{word}`"))
                            .with_label("not a declared flag name")
                            .with_help(format!("declare it (`flags {word}:1`) or `#!define {word} 1` before use")),
                    );
                    return;
                }
            }
            ArgKind::Host | ArgKind::Socket => true,
            ArgKind::Proto => is_proto(word),
            _ => false,
        };
        if !ok {
            let help = if word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                format!(
                    "if `{word}` is meant to be a `#!define`, define it before this line; otherwise write \"{word}\""
                )
            } else {
                format!("write a string: \"{word}\"")
            };
            self.cx.report(
                Diagnostic::new(
                    Code::ArgKind,
                    arg.span,
                    format!("argument {nth} of `{}` must be {}, not a bare word", call.name.node, spec.kind.describe()),
                )
                .with_label("bare word")
                .with_help(help),
            );
        }
    }

    fn format_arg(&mut self, call: &Call, nth: usize, arg: &Arg, text: &str) {
        let span_of = string_offsets(self.cx, arg.span, text);
        match parse_format(text, &span_of) {
            Ok(parts) => {
                for part in parts {
                    if let FormatPart::Pv(pv) = part {
                        pvs::check_pv(self.cx, &pv, self.item, pvs::Access::Read, pvs::Written::Quoted);
                    }
                }
            }
            Err(error) => self.cx.report(
                Diagnostic::new(
                    Code::ArgKind,
                    span_of(error.range),
                    format!("argument {nth} of `{}` is not a valid format string", call.name.node),
                )
                .with_label(error.message)
                .with_help("every `$` must start a pseudo-variable; write `$$` for a literal `$`"),
            ),
        }
    }

    fn pv_name_arg(&mut self, call: &Call, nth: usize, arg: &Arg, text: &str, access: pvs::Access) {
        let trimmed = text.trim();
        let span_of = string_offsets(self.cx, arg.span, text);
        let offset = text.len() - text.trim_start().len();
        let shifted = |r: std::ops::Range<usize>| span_of(r.start + offset..r.end + offset);
        match parse_pv(trimmed, &shifted) {
            Ok((pv, used)) if used == trimmed.len() => {
                pvs::check_pv(self.cx, &pv, self.item, access, pvs::Written::Quoted)
            }
            _ => self.cx.report(
                Diagnostic::new(
                    Code::ArgKind,
                    arg.span,
                    format!("argument {nth} of `{}` must name a pseudo-variable", call.name.node),
                )
                .with_label(format!("`{trimmed}` is not one pseudo-variable"))
                .with_help("write it in quotes, e.g. \"$var(x)\""),
            ),
        }
    }

    fn route_arg(&mut self, arg: &Arg, kind: RouteKind, name: &str) {
        let routes = &mut self.cx.analysis.routes;
        if name.contains('$') {
            routes.dynamic.insert(kind);
            return;
        }
        // t_on_*("0") and t_on_*("") disarm a route.
        if name.is_empty() || (name == "0" && kind != RouteKind::Plain) {
            return;
        }
        routes.referenced.insert((kind, name.to_string()));
        if routes.lookup(kind, name).is_some() {
            return;
        }
        let suggestion = did_you_mean(name, routes.names(kind)).map(str::to_string);
        let mut diagnostic =
            Diagnostic::new(Code::UndefinedRoute, arg.span, format!("{}[{name}] is not defined", kind.keyword()))
                .with_label(format!("no `{}[{name}]` block", kind.keyword()));
        diagnostic = match suggestion {
            Some(s) => diagnostic.with_help(format!("did you mean \"{s}\"?")),
            None => diagnostic.with_help(format!("define it: `{}[{name}] {{ ... }}`", kind.keyword())),
        };
        self.cx.report(diagnostic);
    }

    fn methods_arg(&mut self, call: &Call, arg: &Arg, text: &str) {
        let names: Vec<&str> = text.split('|').map(str::trim).collect();
        if names.iter().any(|n| n.is_empty()) {
            self.cx.report(
                Diagnostic::new(Code::ArgKind, arg.span, format!("empty method name in `{}`", call.name.node))
                    .with_help("write method names separated by `|`, e.g. \"INVITE|BYE\""),
            );
            return;
        }
        if names.len() < 2 {
            return;
        }
        for name in names {
            if !KNOWN_METHODS.iter().any(|m| m.eq_ignore_ascii_case(name)) {
                let mut diagnostic =
                    Diagnostic::new(Code::ArgKind, arg.span, format!("`{name}` is not a known SIP method"))
                        .with_label("a `|` list may hold only known methods")
                        .with_note(format!("known methods: {}", KNOWN_METHODS.join(", ")));
                if let Some(s) = did_you_mean(name, KNOWN_METHODS.iter().copied()) {
                    diagnostic = diagnostic.with_help(format!("did you mean `{s}`?"));
                }
                self.cx.report(diagnostic);
            }
        }
    }
}

/// Picks the export for `argc` arguments, preferring one allowed in every route type the
/// call runs in (Kamailio matches by name, count and route type).
fn best_export(
    visible: &[(&'static Module, &'static Function)],
    argc: usize,
    mask: RouteMask,
) -> Option<(&'static Module, &'static Function)> {
    let matching: Vec<_> = visible.iter().copied().filter(|(_, f)| f.args.len() == argc).collect();
    matching
        .iter()
        .copied()
        .find(|(_, f)| mask.kinds().all(|k| f.routes.intersects(k)))
        .or_else(|| matching.first().copied())
}

fn is_proto(text: &str) -> bool {
    matches!(text.to_ascii_lowercase().as_str(), "udp" | "tcp" | "tls" | "sctp" | "ws" | "wss")
}

fn short_regex_error(error: &regex::Error) -> String {
    error.to_string().lines().last().unwrap_or("invalid").trim().trim_start_matches("error: ").to_string()
}

/// Checks `/regex/replacement/flags`.
fn check_subst(text: &str) -> Result<(), String> {
    let mut chars = text.chars();
    let Some(separator) = chars.next() else {
        return Err("empty".to_string());
    };
    let mut parts = 1;
    let mut escaped = false;
    let mut pattern = String::new();
    for c in chars {
        if escaped {
            if parts == 1 {
                pattern.push('\\');
                pattern.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts += 1;
        } else if parts == 1 {
            pattern.push(c);
        }
    }
    if parts != 3 {
        return Err(format!("expected 3 parts separated by `{separator}`, found {parts}"));
    }
    regex::Regex::new(&pattern).map(|_| ()).map_err(|e| short_regex_error(&e))
}

/// Maps byte ranges of a string argument's value to source spans: exact when the argument
/// is one plain `"..."` literal (escapes accounted for), else the whole argument.
fn string_offsets(cx: &Context<'_>, span: Span, value: &str) -> impl Fn(std::ops::Range<usize>) -> Span + use<> {
    let written = cx.sources.snippet(span);
    let origins = written
        .strip_prefix('"')
        .and_then(|w| w.strip_suffix('"'))
        .map(unescape_mapped)
        .filter(|(decoded, _)| decoded == value)
        .map(|(_, origins)| origins);
    move |range: std::ops::Range<usize>| match &origins {
        Some(origins) => {
            let at = |i: usize| span.start as usize + 1 + origins[i.min(origins.len() - 1)];
            Span::new(span.file, at(range.start)..at(range.end).max(at(range.start)))
        }
        None => span,
    }
}

/// Reports functions and PVs whose module is not loaded, once per module.
pub(super) fn report_missing_modules(cx: &mut Context<'_>) {
    let missing = std::mem::take(&mut cx.missing);
    for (module, uses) in missing {
        let Some(((first_span, first_what), rest)) = uses.split_first() else { continue };
        let later = cx.analysis.modules.iter().find(|m| m.name == module && matches!(m.lookup, Lookup::Supported(_)));
        let mut diagnostic = Diagnostic::new(
            Code::MissingModule,
            *first_span,
            format!("{first_what} needs module `{module}`, which is not loaded"),
        )
        .with_label(format!("provided by `{module}`"));
        let mut shown = 0;
        for (span, what) in rest {
            if shown < 8 {
                diagnostic = diagnostic.with_secondary(*span, format!("{what} needs it too"));
                shown += 1;
            }
        }
        if rest.len() > shown {
            diagnostic = diagnostic.with_note(format!("and {} more uses", rest.len() - shown));
        }
        let line = super::modules::loadmodule_line(module);
        diagnostic = match later {
            Some(loaded) => {
                let at = cx.line_of(loaded.span);
                diagnostic
                    .with_secondary(loaded.span, "loaded only here, after its first use")
                    .with_help(format!("move `{line}` (at {at}) above its first use"))
            }
            None => diagnostic.with_help(format!("add `{line}` before the routes that use it")),
        };
        cx.report(diagnostic);
    }
}
