//! The route table and the route graph: duplicate and undefined routes, which route types
//! each sub-route runs in (following `route(X)` through the whole graph), unused routes.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Context, stmt_exprs, walk_expr, walk_stmts};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::modules::{RouteKind, RouteMask};
use crate::parse::ast::*;
use crate::source::Span;

/// How a block gets to run in a route type: called from `caller` at `call`.
#[derive(Clone, Copy, Debug)]
pub struct CalledFrom {
    pub caller: usize,
    pub call: Span,
}

/// Every route block by kind and name, and where each one runs.
#[derive(Debug, Default)]
pub struct RouteTable {
    /// Named blocks: (kind, name) → item index.
    pub named: BTreeMap<(RouteKind, String), usize>,
    /// The route types each route block's code runs in (item index → mask).
    pub runs_in: HashMap<usize, RouteMask>,
    /// For a block and one route type bit: the first call found that makes it run there.
    pub reached_via: HashMap<(usize, u16), CalledFrom>,
    /// Named blocks referenced by `route()`, `t_on_failure()`... (kind, name).
    pub referenced: HashSet<(RouteKind, String)>,
    /// Kinds referenced with a run-time name (`route($var(r))`, `t_on_reply("$var(x)")`).
    pub dynamic: HashSet<RouteKind>,
}

impl RouteTable {
    pub fn lookup(&self, kind: RouteKind, name: &str) -> Option<usize> {
        self.named.get(&(kind, name.to_string())).copied()
    }

    pub fn names(&self, kind: RouteKind) -> impl Iterator<Item = &str> {
        self.named.keys().filter(move |(k, _)| *k == kind).map(|(_, n)| n.as_str())
    }
}

/// The route type a top-level block runs in by itself.
pub(crate) fn own_mask(kind: BlockKind) -> RouteMask {
    match kind {
        BlockKind::Request => RouteMask::REQUEST,
        // Kamailio checks event_route code as request code (its EVENT_ROUTE includes REQUEST_ROUTE).
        BlockKind::Event => RouteMask::REQUEST,
        BlockKind::CoreReply => RouteMask::CORE_REPLY,
        BlockKind::OnReply => RouteMask::TM_REPLY,
        BlockKind::Failure => RouteMask::FAILURE,
        BlockKind::Branch => RouteMask::BRANCH,
        BlockKind::OnSend => RouteMask::ONSEND,
        BlockKind::Route => RouteMask::NONE,
    }
}

/// Static `route(NAME)` calls in a block, in order.
pub(crate) fn route_calls(block: &Block) -> Vec<(&Spanned<String>, Span)> {
    let mut calls = Vec::new();
    walk_stmts(&block.stmts, &mut |stmt| {
        if let StmtKind::Route(RouteRef { target: RouteTarget::Name(name), span }) = &stmt.kind {
            calls.push((name, *span));
        }
        for expr in stmt_exprs(stmt) {
            walk_expr(expr, &mut |e| {
                if let ExprKind::Route(RouteRef { target: RouteTarget::Name(name), span }) = &e.kind {
                    calls.push((name, *span));
                }
            });
        }
    });
    calls
}

fn has_dynamic_route_call(block: &Block) -> bool {
    let mut found = false;
    walk_stmts(&block.stmts, &mut |stmt| {
        if matches!(&stmt.kind, StmtKind::Route(RouteRef { target: RouteTarget::Dynamic(_), .. })) {
            found = true;
        }
        for expr in stmt_exprs(stmt) {
            walk_expr(expr, &mut |e| {
                if matches!(&e.kind, ExprKind::Route(RouteRef { target: RouteTarget::Dynamic(_), .. })) {
                    found = true;
                }
            });
        }
    });
    found
}

pub(super) fn build(cx: &mut Context<'_>) {
    let mut table = RouteTable::default();
    let mut diagnostics = Vec::new();
    for (index, item) in cx.config.items.iter().enumerate() {
        let Item::Route(route) = item else { continue };
        let key = match (route.kind.named_kind(), &route.name) {
            (Some(kind), Some(name)) => Some((kind, name.node.clone())),
            _ => None,
        };
        if let Some(key) = key {
            if let Some(&first) = table.named.get(&key) {
                let first_span = header_of(cx, first);
                diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateRoute,
                        route.header,
                        format!("`{}` is defined twice", route.title()),
                    )
                    .with_label("defined again here")
                    .with_secondary(first_span, "first defined here")
                    .with_help("rename one of them or merge their bodies"),
                );
                continue;
            }
            table.named.insert(key, index);
        }
        if route.kind == BlockKind::Event
            && let Some(name) = &route.name
        {
            let duplicate = cx.config.items[..index].iter().find_map(|other| match other {
                Item::Route(other)
                    if other.kind == BlockKind::Event && other.name.as_ref().map(|n| &n.node) == Some(&name.node) =>
                {
                    Some(other.header)
                }
                _ => None,
            });
            if let Some(first) = duplicate {
                diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateRoute,
                        route.header,
                        format!("`{}` is defined twice", route.title()),
                    )
                    .with_label("defined again here")
                    .with_secondary(first, "first defined here"),
                );
            }
        }
        table.runs_in.insert(index, own_mask(route.kind));
    }

    // Edges of the route graph, and undefined targets.
    let mut edges: Vec<(usize, usize, Span)> = Vec::new();
    for (index, item) in cx.config.items.iter().enumerate() {
        let Item::Route(route) = item else { continue };
        if has_dynamic_route_call(&route.body) {
            table.dynamic.insert(RouteKind::Plain);
        }
        for (name, call) in route_calls(&route.body) {
            table.referenced.insert((RouteKind::Plain, name.node.clone()));
            match table.lookup(RouteKind::Plain, &name.node) {
                Some(target) => edges.push((index, target, call)),
                None if name.node == "0" => {}
                None => {
                    let mut diagnostic = Diagnostic::new(
                        Code::UndefinedRoute,
                        name.span,
                        format!("route `{}` is not defined", name.node),
                    )
                    .with_label("no `route[...]` block has this name");
                    diagnostic = match did_you_mean(&name.node, table.names(RouteKind::Plain)) {
                        Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
                        None => diagnostic.with_help(format!("define it: `route[{}] {{ ... }}`", name.node)),
                    };
                    diagnostics.push(diagnostic);
                }
            }
        }
    }

    // Propagate route types along calls until nothing changes.
    let mut changed = true;
    while changed {
        changed = false;
        for &(caller, target, call) in &edges {
            let caller_mask = table.runs_in.get(&caller).copied().unwrap_or_default();
            let target_mask = table.runs_in.get(&target).copied().unwrap_or_default();
            let new = RouteMask(caller_mask.0 & !target_mask.0);
            if new.is_empty() {
                continue;
            }
            for kind in new.kinds() {
                table.reached_via.entry((target, kind.0)).or_insert(CalledFrom { caller, call });
            }
            table.runs_in.insert(target, target_mask.union(new));
            changed = true;
        }
    }
    // A sub-route no block reaches is checked as request code, as Kamailio does.
    for (index, item) in cx.config.items.iter().enumerate() {
        if let Item::Route(route) = item
            && route.kind == BlockKind::Route
            && table.runs_in.get(&index).is_none_or(|m| m.is_empty())
        {
            table.runs_in.insert(index, RouteMask::REQUEST);
        }
    }
    cx.analysis.routes = table;
    for diagnostic in diagnostics {
        cx.report(diagnostic);
    }
}

fn header_of(cx: &Context<'_>, item: usize) -> Span {
    match &cx.config.items[item] {
        Item::Route(route) => route.header,
        _ => Span::new(crate::source::FileId(0), 0..0),
    }
}

/// Explains how block `item` comes to run in route type `kind`: the chain of `route()` calls
/// from a top-level block of that type.
pub(crate) fn explain_reach(cx: &Context<'_>, item: usize, kind: RouteMask) -> Vec<String> {
    let mut notes = Vec::new();
    let mut current = item;
    let mut seen = HashSet::new();
    while let Some(via) = cx.analysis.routes.reached_via.get(&(current, kind.0)) {
        if !seen.insert(current) {
            break;
        }
        let callee = title_of(cx, current);
        let caller = title_of(cx, via.caller);
        notes.push(format!("`{callee}` is called from `{caller}` at {}", cx.line_of(via.call)));
        current = via.caller;
    }
    notes
}

pub(crate) fn title_of(cx: &Context<'_>, item: usize) -> String {
    match &cx.config.items[item] {
        Item::Route(route) => route.title(),
        _ => "?".to_string(),
    }
}

pub(super) fn check_usage(cx: &mut Context<'_>) {
    let opaque = cx.analysis.has_opaque_modules();
    let mut warnings = Vec::new();
    for ((kind, name), &index) in &cx.analysis.routes.named {
        if cx.analysis.routes.referenced.contains(&(*kind, name.clone())) || cx.analysis.routes.dynamic.contains(kind) {
            continue;
        }
        if opaque && *kind != RouteKind::Plain {
            continue;
        }
        let Item::Route(route) = &cx.config.items[index] else { continue };
        let how = match kind {
            RouteKind::Plain => format!("nothing calls `route({name})`"),
            RouteKind::Failure => format!("no `t_on_failure(\"{name}\")` arms it"),
            RouteKind::Reply => format!("no `t_on_reply(\"{name}\")` arms it"),
            RouteKind::Branch => format!("no `t_on_branch(\"{name}\")` arms it"),
        };
        warnings.push(
            Diagnostic::new(Code::UnusedRoute, route.header, format!("`{}` is never used", route.title()))
                .with_label(how)
                .with_help("remove it, or call it where it is needed"),
        );
    }
    warnings.sort_by_key(|d| (d.span.file, d.span.start));
    for warning in warnings {
        cx.report(warning);
    }
}
