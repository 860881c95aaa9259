//! Control-flow warnings: statements that can never run, and `lock()`s that are not released
//! on every path out of a route.

use super::{Constant, Context, constant, stmt_exprs, walk_expr};
use crate::diagnostics::{Code, Diagnostic};
use crate::parse::ast::*;
use crate::source::Span;

pub(super) fn check(cx: &mut Context<'_>) {
    let config = cx.config;
    for (index, item) in config.items.iter().enumerate() {
        let Item::Route(route) = item else { continue };
        unreachable_in(cx, &route.body.stmts);
        let mut locks = Locks { cx, item: index, route };
        if let Some(held) = locks.stmts(&route.body.stmts, Vec::new())
            && !held.is_empty()
        {
            let end = route.body.span.end.saturating_sub(1);
            let at = Span { start: end, end: end + 1, ..route.body.span };
            locks.leak(at, &held, &format!("at the end of `{}`", route.title()));
        }
    }
}

/// Whether control never continues after `stmt` in its statement list.
pub(crate) fn terminates(stmt: &Stmt) -> bool {
    match &stmt.kind {
        StmtKind::Return(_) | StmtKind::Exit(_) | StmtKind::Drop(_) | StmtKind::Break => true,
        StmtKind::If { then, otherwise: Some(otherwise), .. } => terminates(then) && terminates(otherwise),
        StmtKind::Block(block) => block.stmts.iter().any(terminates),
        _ => false,
    }
}

fn unreachable_in(cx: &mut Context<'_>, stmts: &[Stmt]) {
    let mut ended_by: Option<&Stmt> = None;
    for stmt in stmts {
        if let Some(end) = ended_by {
            if !matches!(stmt.kind, StmtKind::Empty) && !split_by_conditional(cx, end.span, stmt.span) {
                let what = match &end.kind {
                    StmtKind::Return(_) => "`return`",
                    StmtKind::Exit(_) => "`exit`",
                    StmtKind::Drop(_) => "`drop`",
                    StmtKind::Break => "`break`",
                    _ => "the statement above, which always leaves this block",
                };
                cx.report(
                    Diagnostic::new(Code::Unreachable, stmt.span, "unreachable statement")
                        .with_label("this never runs")
                        .with_secondary(end.span, format!("{what} leaves the block here"))
                        .with_help("remove it, or move it before the statement that leaves the block"),
                );
                break;
            }
            continue;
        }
        match &stmt.kind {
            StmtKind::Block(block) => unreachable_in(cx, &block.stmts),
            StmtKind::If { then, otherwise, .. } => {
                unreachable_in(cx, std::slice::from_ref(then));
                if let Some(otherwise) = otherwise {
                    unreachable_in(cx, std::slice::from_ref(otherwise));
                }
            }
            StmtKind::While { body, .. } => unreachable_in(cx, std::slice::from_ref(body)),
            StmtKind::Switch { arms, .. } => {
                for arm in arms {
                    unreachable_in(cx, &arm.body);
                }
            }
            _ => {}
        }
        if terminates(stmt) {
            ended_by = Some(stmt);
        }
    }
}

/// Whether a `#!ifdef`-like directive lies between two statements: then the second one is
/// reachable in other configurations (a common feature-switch pattern), so not reported.
fn split_by_conditional(cx: &Context<'_>, before: Span, after: Span) -> bool {
    cx.conditionals.iter().any(|d| d.file == before.file && d.start >= before.end && d.end <= after.start)
        || before.file != after.file
}

/// A lock that may be held: its key and where it was taken.
type Held = Vec<(String, Span)>;

struct Locks<'c, 'a> {
    cx: &'c mut Context<'a>,
    item: usize,
    route: &'a RouteBlock,
}

impl Locks<'_, '_> {
    /// Runs through `stmts` from `held`; returns what may be held when control falls off
    /// the end, or `None` if no path does.
    fn stmts(&mut self, stmts: &[Stmt], mut held: Held) -> Option<Held> {
        for stmt in stmts {
            held = self.stmt(stmt, held)?;
        }
        Some(held)
    }

    fn stmt(&mut self, stmt: &Stmt, mut held: Held) -> Option<Held> {
        if !held.is_empty() {
            self.stopping_calls(stmt, &held);
        }
        match &stmt.kind {
            StmtKind::Call(call) => {
                match (call.name.node.as_str(), lock_key(call)) {
                    ("lock", Some(key)) => {
                        if let Some((_, first)) = held.iter().find(|(k, _)| *k == key) {
                            let first = *first;
                            self.cx.report(
                                Diagnostic::new(
                                    Code::LockImbalance,
                                    call.span,
                                    format!("lock \"{key}\" is taken again while held"),
                                )
                                .with_label("this waits forever: locks are not re-entrant")
                                .with_secondary(first, "first taken here")
                                .with_help(format!("call `unlock(\"{key}\")` before taking it again")),
                            );
                        } else {
                            held.push((key, call.span));
                        }
                    }
                    ("unlock", Some(key)) => held.retain(|(k, _)| *k != key),
                    _ => {}
                }
                Some(held)
            }
            StmtKind::Return(_) | StmtKind::Exit(_) | StmtKind::Drop(_) => {
                if !held.is_empty() {
                    let what = match stmt.kind {
                        StmtKind::Return(_) => "when `return` leaves the route",
                        StmtKind::Exit(_) => "when `exit` ends the script",
                        _ => "when `drop` ends the script",
                    };
                    self.leak(stmt.span, &held, what);
                }
                None
            }
            StmtKind::Break => None,
            StmtKind::Block(block) => self.stmts(&block.stmts, held),
            StmtKind::If { then, otherwise, .. } => {
                let after_then = self.stmt(then, held.clone());
                let after_else = match otherwise {
                    Some(otherwise) => self.stmt(otherwise, held),
                    None => Some(held),
                };
                merge(after_then, after_else)
            }
            StmtKind::While { body, .. } => {
                let after_body = self.stmt(body, held.clone());
                merge(Some(held), after_body)
            }
            StmtKind::Switch { arms, .. } => {
                let mut result =
                    if arms.iter().any(|a| matches!(a.label, CaseLabel::Default)) { None } else { Some(held.clone()) };
                for arm in arms {
                    let after = self.arm(&arm.body, held.clone());
                    result = merge(result, after);
                }
                result
            }
            _ => Some(held),
        }
    }

    /// A switch arm: `break` ends the arm without leaving the route.
    fn arm(&mut self, stmts: &[Stmt], mut held: Held) -> Option<Held> {
        for stmt in stmts {
            if matches!(stmt.kind, StmtKind::Break) {
                return Some(held);
            }
            held = self.stmt(stmt, held)?;
        }
        Some(held)
    }

    /// Calls that may return 0 stop the script: a lock held there stays held.
    fn stopping_calls(&mut self, stmt: &Stmt, held: &Held) {
        let mut calls: Vec<&Call> = Vec::new();
        if let StmtKind::Call(call) = &stmt.kind {
            calls.push(call);
        }
        for expr in stmt_exprs(stmt) {
            walk_expr(expr, &mut |e| {
                if let ExprKind::Call(call) = &e.kind {
                    calls.push(call);
                }
            });
        }
        for call in calls {
            let stops = self
                .cx
                .analysis
                .visible_at(self.item)
                .flat_map(|m| m.functions.iter())
                .any(|f| f.name == call.name.node && f.args.len() == call.args.len() && f.can_stop);
            if stops {
                let what = format!("if `{}` stops the script (it can return 0)", call.name.node);
                self.leak(call.span, held, &what);
            }
        }
    }

    fn leak(&mut self, at: Span, held: &Held, when: &str) {
        let _ = self.route;
        for (key, taken) in held {
            self.cx.report(
                Diagnostic::new(Code::LockImbalance, at, format!("lock \"{key}\" is still held {when}"))
                    .with_label("no `unlock` on this path")
                    .with_secondary(*taken, "taken here")
                    .with_note("Kamailio never releases a lock by itself: every later `lock()` of this key blocks")
                    .with_help(format!("call `unlock(\"{key}\")` before leaving")),
            );
        }
    }
}

/// The key of `lock("k")` / `unlock("k")` / `lock("a", "b")` when it is a constant.
fn lock_key(call: &Call) -> Option<String> {
    let mut parts = Vec::new();
    for arg in &call.args {
        let expr = arg.value.as_expr()?;
        match constant(expr)? {
            Constant::Str(s) if s.contains('$') => return None,
            value => parts.push(value.as_text()),
        }
    }
    (!parts.is_empty()).then(|| parts.join("\u{0}"))
}

fn merge(a: Option<Held>, b: Option<Held>) -> Option<Held> {
    match (a, b) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x),
        (Some(mut x), Some(y)) => {
            for entry in y {
                if !x.iter().any(|(k, _)| *k == entry.0) {
                    x.push(entry);
                }
            }
            Some(x)
        }
    }
}
