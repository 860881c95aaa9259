//! Semantic checks: names resolved against the module registry, the route graph, argument
//! kinds, pseudo-variables, and the flow warnings. One file per concern; they share the
//! [`Context`] built here.

mod calls;
mod flow;
mod globals;
mod modules;
mod pvs;
mod routes;

use std::collections::{BTreeMap, HashMap};

use crate::diagnostics::Diagnostic;
use crate::modules::{self as registry, Lookup, Module};
use crate::parse::ast::*;
use crate::preprocess::Mode;
use crate::source::{SourceMap, Span};

pub use routes::RouteTable;

/// A `loadmodule` line, resolved.
#[derive(Clone, Debug)]
pub struct LoadedModule {
    pub name: String,
    pub lookup: Lookup,
    pub span: Span,
    /// Index of the item in the config: a module serves only the items after it.
    pub item: usize,
}

/// What the checks found out about a config, beyond diagnostics.
#[derive(Debug, Default)]
pub struct Analysis {
    pub modules: Vec<LoadedModule>,
    pub routes: RouteTable,
    /// `flags NAME:bit` declarations.
    pub flags: HashMap<String, i64>,
}

impl Analysis {
    /// Whether some loaded module is one sipcfg cannot see into, so its functions and
    /// pseudo-variables are unknown and must not be reported as such.
    pub fn has_opaque_modules(&self) -> bool {
        self.modules.iter().any(|m| !matches!(m.lookup, Lookup::Supported(_)))
    }

    /// Supported modules (and the core) usable from item `item`.
    pub fn visible_at(&self, item: usize) -> impl Iterator<Item = &'static Module> + '_ {
        std::iter::once(&registry::core::MODULE as &'static Module).chain(self.modules.iter().filter_map(move |m| {
            match m.lookup {
                Lookup::Supported(module) if m.item < item => Some(module),
                _ => None,
            }
        }))
    }
}

/// Shared state of one run of the checks.
pub(crate) struct Context<'a> {
    pub(crate) config: &'a Config,
    pub(crate) sources: &'a SourceMap,
    pub(crate) mode: Mode,
    /// Where `#!ifdef` & co. split the text (see [`crate::preprocess::Preprocessed`]).
    pub(crate) conditionals: &'a [Span],
    pub(crate) analysis: Analysis,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Uses of functions and pseudo-variables whose module is not loaded, grouped by module
    /// so each missing `loadmodule` is reported once.
    pub(crate) missing: BTreeMap<&'static str, Vec<(Span, String)>>,
}

impl Context<'_> {
    pub(crate) fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// `file:line` of a span, for notes.
    pub(crate) fn line_of(&self, span: Span) -> String {
        let file = self.sources.get(span.file);
        let (line, _) = file.line_col(span.start as usize);
        format!("{}:{}", file.name, line)
    }
}

/// Runs every check over a parsed config.
pub fn check(config: &Config, sources: &SourceMap, mode: Mode, conditionals: &[Span]) -> (Analysis, Vec<Diagnostic>) {
    let mut cx = Context {
        config,
        sources,
        mode,
        conditionals,
        analysis: Analysis::default(),
        diagnostics: Vec::new(),
        missing: BTreeMap::new(),
    };
    modules::check_loads(&mut cx);
    modules::check_modparams(&mut cx);
    globals::check(&mut cx);
    routes::build(&mut cx);
    calls::check(&mut cx);
    calls::report_missing_modules(&mut cx);
    routes::check_usage(&mut cx);
    flow::check(&mut cx);
    (cx.analysis, cx.diagnostics)
}

/// Calls `f` for every statement of a list and of the statements nested in it, depth first.
pub(crate) fn walk_stmts<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a Stmt)) {
    for stmt in stmts {
        f(stmt);
        match &stmt.kind {
            StmtKind::Block(block) => walk_stmts(&block.stmts, f),
            StmtKind::If { then, otherwise, .. } => {
                walk_stmts(std::slice::from_ref(then), f);
                if let Some(otherwise) = otherwise {
                    walk_stmts(std::slice::from_ref(otherwise), f);
                }
            }
            StmtKind::While { body, .. } => walk_stmts(std::slice::from_ref(body), f),
            StmtKind::Switch { arms, .. } => {
                for arm in arms {
                    walk_stmts(&arm.body, f);
                }
            }
            _ => {}
        }
    }
}

/// The expressions a statement holds directly (not those of nested statements).
pub(crate) fn stmt_exprs(stmt: &Stmt) -> Vec<&Expr> {
    match &stmt.kind {
        StmtKind::If { cond, .. } | StmtKind::While { cond, .. } => vec![cond],
        StmtKind::Switch { subject, arms } => {
            let mut exprs = vec![subject];
            for arm in arms {
                if let CaseLabel::Value { value, .. } = &arm.label {
                    exprs.push(value);
                }
            }
            exprs
        }
        StmtKind::Return(Some(e)) | StmtKind::Exit(Some(e)) | StmtKind::Drop(Some(e)) => vec![e],
        StmtKind::Assign { value, .. } => vec![value],
        StmtKind::Call(call) => call.args.iter().filter_map(|a| a.value.as_expr()).collect(),
        StmtKind::Route(RouteRef { target: RouteTarget::Dynamic(e), .. }) => vec![e],
        _ => Vec::new(),
    }
}

/// Calls `f` for an expression and every sub-expression, including call arguments.
pub(crate) fn walk_expr<'a>(expr: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(expr);
    match &expr.kind {
        ExprKind::Unary { operand, .. } => walk_expr(operand, f),
        ExprKind::Binary { left, right, .. } => {
            walk_expr(left, f);
            walk_expr(right, f);
        }
        ExprKind::Strlen(e) | ExprKind::Strempty(e) => walk_expr(e, f),
        ExprKind::Selval { cond, then, otherwise } => {
            walk_expr(cond, f);
            walk_expr(then, f);
            walk_expr(otherwise, f);
        }
        ExprKind::Call(call) => {
            for arg in &call.args {
                if let Some(e) = arg.value.as_expr() {
                    walk_expr(e, f);
                }
            }
        }
        ExprKind::Route(RouteRef { target: RouteTarget::Dynamic(e), .. }) => walk_expr(e, f),
        _ => {}
    }
}

/// A constant value an expression folds to, if it does (Kamailio passes constant
/// arguments to module functions as strings, after evaluating them at load time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Constant {
    Int(i64),
    Str(String),
}

impl Constant {
    pub fn as_text(&self) -> String {
        match self {
            Constant::Int(n) => n.to_string(),
            Constant::Str(s) => s.clone(),
        }
    }
}

/// Folds literals and operators on literals, with Kamailio's typing rules (`+` on a string
/// left side concatenates).
pub fn constant(expr: &Expr) -> Option<Constant> {
    match &expr.kind {
        ExprKind::Int(n) => Some(Constant::Int(*n)),
        ExprKind::Str(s) => Some(Constant::Str(s.clone())),
        ExprKind::Unary { op, operand } => {
            let value = constant(operand)?;
            let as_int = |c: &Constant| match c {
                Constant::Int(n) => *n,
                Constant::Str(s) => s.trim().parse().unwrap_or(0),
            };
            match op {
                UnaryOp::Neg => Some(Constant::Int(as_int(&value).wrapping_neg())),
                // C's `!`, as rvalue.c: `!(-1)` is 0.
                UnaryOp::Not => Some(Constant::Int(i64::from(as_int(&value) == 0))),
                UnaryOp::BitNot => Some(Constant::Int(!as_int(&value))),
                UnaryOp::IntCast => Some(Constant::Int(as_int(&value))),
                UnaryOp::StrCast => Some(Constant::Str(value.as_text())),
                UnaryOp::Defined => Some(Constant::Int(1)),
            }
        }
        ExprKind::Binary { op, left, right } => {
            let l = constant(left)?;
            let r = constant(right)?;
            let li = match &l {
                Constant::Int(n) => *n,
                Constant::Str(s) => s.trim().parse().unwrap_or(0),
            };
            let ri = match &r {
                Constant::Int(n) => *n,
                Constant::Str(s) => s.trim().parse().unwrap_or(0),
            };
            Some(match op {
                BinaryOp::Add => match l {
                    Constant::Str(s) => Constant::Str(s + &r.as_text()),
                    Constant::Int(_) => Constant::Int(li.wrapping_add(ri)),
                },
                BinaryOp::Sub => Constant::Int(li.wrapping_sub(ri)),
                BinaryOp::Mul => Constant::Int(li.wrapping_mul(ri)),
                BinaryOp::Div if ri != 0 => Constant::Int(li.wrapping_div(ri)),
                BinaryOp::Mod if ri != 0 => Constant::Int(li.wrapping_rem(ri)),
                BinaryOp::BitOr => Constant::Int(li | ri),
                BinaryOp::BitAnd => Constant::Int(li & ri),
                BinaryOp::BitXor => Constant::Int(li ^ ri),
                BinaryOp::Shl => Constant::Int(li.wrapping_shl(ri as u32)),
                BinaryOp::Shr => Constant::Int(li.wrapping_shr(ri as u32)),
                _ => return None,
            })
        }
        _ => None,
    }
}
