//! pest pairs → [`ast`] nodes, with spans mapped back to the user's files.
//!
//! Lowering also reports what the grammar accepts only to explain better: reserved words
//! used as route names, empty blocks, `08`, keyword operands in the wrong place, typographic
//! quotes (a warning).

use std::cell::RefCell;
use std::sync::LazyLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::Rule;
use super::ast::*;
use super::pv::parse_pv;
use super::strings::{NumberError, bool_word, parse_number, unescape};
use crate::diagnostics::{Code, Diagnostic};
use crate::keywords;
use crate::preprocess::module_stem;
use crate::source::{Expanded, Span};

/// Kamailio's operator precedence, lowest first (cfg-language.md §5.2). Not C's: comparisons
/// bind tighter than bitwise operators and shifts, `^` tighter than `&`, `>>` than `<<`.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::infix(Rule::op_bor, Assoc::Left))
        .op(Op::infix(Rule::op_band, Assoc::Left))
        .op(Op::infix(Rule::op_bxor, Assoc::Left))
        .op(Op::infix(Rule::op_lshift, Assoc::Left))
        .op(Op::infix(Rule::op_rshift, Assoc::Left))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_match, Assoc::Left)
            | Op::infix(Rule::op_streq, Assoc::Left)
            | Op::infix(Rule::op_strne, Assoc::Left)
            | Op::infix(Rule::op_inteq, Assoc::Left)
            | Op::infix(Rule::op_intne, Assoc::Left))
        .op(Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_mod, Assoc::Left))
        .op(Op::prefix(Rule::op_not) | Op::prefix(Rule::op_bnot) | Op::prefix(Rule::op_neg))
        .op(Op::prefix(Rule::op_defined))
        .op(Op::prefix(Rule::cast_int) | Op::prefix(Rule::cast_str))
});

/// Longer expressions are refused: the tree of a long `a + b + c...` chain is as deep as it
/// is long, and every later pass walks it recursively.
const MAX_EXPRESSION_TERMS: usize = 2000;

/// Each `else if` nests the tree one level deeper; later passes recurse over it.
const MAX_ELSE_IF: usize = 256;

pub(super) struct Lowerer<'a> {
    expanded: &'a Expanded,
    /// Offset of the parsed item in the expanded text (pest spans are relative to it).
    base: usize,
    diagnostics: RefCell<Vec<Diagnostic>>,
}

fn inner(pair: Pair<'_, Rule>) -> Pairs<'_, Rule> {
    pair.into_inner()
}

impl<'a> Lowerer<'a> {
    pub(super) fn new(expanded: &'a Expanded, base: usize) -> Self {
        Lowerer { expanded, base, diagnostics: RefCell::new(Vec::new()) }
    }

    pub(super) fn finish(self) -> Vec<Diagnostic> {
        self.diagnostics.into_inner()
    }

    /// The source span of a pair, without the blanks pest's implicit whitespace leaves at
    /// the end of rules that end in an optional part.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let end = s.start() + pair.as_str().trim_end().len();
        self.expanded.span(self.base + s.start()..self.base + end.max(s.start()))
    }

    fn report(&self, diagnostic: Diagnostic) {
        self.diagnostics.borrow_mut().push(diagnostic);
    }

    fn syntax(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Code::Syntax, span, message)
    }

    // ------------------------------------------------------------------ items

    pub(super) fn item(&self, pair: Pair<'_, Rule>) -> Option<Item> {
        let item = inner(pair).next()?;
        let span = self.span(&item);
        match item.as_rule() {
            Rule::route_block => self.route_block(item).map(Item::Route),
            Rule::loadmodule => {
                let mut strings = inner(item).filter(|p| p.as_rule() == Rule::string);
                let path = self.string(strings.next()?);
                let name = module_stem(&path.node).to_string();
                Some(Item::LoadModule(LoadModule { path, name, span }))
            }
            Rule::modparam => {
                let mut parts = inner(item).filter(|p| matches!(p.as_rule(), Rule::string | Rule::modparam_value));
                let module = self.string(parts.next()?);
                let param = self.string(parts.next()?);
                let value_pair = parts.next()?;
                let value_span = self.span(&value_pair);
                let value_inner = inner(value_pair).next()?;
                let value = match value_inner.as_rule() {
                    Rule::string => ModParamValue::Str(self.string(value_inner).node),
                    Rule::signed_number => ModParamValue::Int(self.signed_number(&value_inner)),
                    _ => ModParamValue::Ident(value_inner.as_str().to_string()),
                };
                Some(Item::ModParam(ModParam { module, param, value: Spanned::new(value, value_span), span }))
            }
            Rule::mpath => {
                let path = inner(item).find(|p| p.as_rule() == Rule::string)?;
                Some(Item::ModulePath(self.string(path)))
            }
            Rule::global_assign => {
                let mut parts = inner(item);
                let name_pair = parts.next()?;
                let name = Spanned::new(name_pair.as_str().to_string(), self.span(&name_pair));
                let value_pair = parts.find(|p| p.as_rule() == Rule::global_value)?;
                let value = self.global_value(value_pair)?;
                Some(Item::Global(GlobalAssign { name, value, span }))
            }
            Rule::cfg_var => {
                let mut parts = inner(item);
                let name_pair = parts.next()?;
                let name = Spanned::new(name_pair.as_str().to_string(), self.span(&name_pair));
                let mut value = None;
                let mut description = None;
                for part in parts {
                    match part.as_rule() {
                        Rule::string if value.is_some() => description = Some(self.string(part).node),
                        Rule::string => value = Some(self.string(part).map(Literal::Str)),
                        Rule::signed_number => {
                            let s = self.span(&part);
                            value = Some(Spanned::new(Literal::Int(self.signed_number(&part)), s));
                        }
                        _ => {}
                    }
                }
                Some(Item::CfgVar(CfgVar { name, value: value?, description, span }))
            }
            Rule::flags_decl => {
                let mut flags = Vec::new();
                for def in inner(item).filter(|p| p.as_rule() == Rule::flag_def) {
                    let mut parts = inner(def);
                    let name_pair = parts.next()?;
                    let name = Spanned::new(name_pair.as_str().to_string(), self.span(&name_pair));
                    let bit = parts.find(|p| p.as_rule() == Rule::number).map(|n| {
                        let s = self.span(&n);
                        Spanned::new(self.number(&n), s)
                    });
                    flags.push(FlagDef { name, bit });
                }
                Some(Item::Flags(flags))
            }
            Rule::cfgengine => {
                let engine = inner(item).find(|p| p.as_rule() == Rule::string)?;
                Some(Item::CfgEngine(self.string(engine)))
            }
            Rule::coreparam => {
                let mut parts =
                    inner(item).filter(|p| matches!(p.as_rule(), Rule::ident | Rule::string | Rule::signed_number));
                let name_pair = parts.next()?;
                let name = Spanned::new(name_pair.as_str().to_string(), self.span(&name_pair));
                let value_pair = parts.next()?;
                let value_span = self.span(&value_pair);
                let value = match value_pair.as_rule() {
                    Rule::string => Literal::Str(self.string(value_pair).node),
                    _ => Literal::Int(self.signed_number(&value_pair)),
                };
                Some(Item::CoreParam { name, value: Spanned::new(value, value_span) })
            }
            Rule::socket_block => {
                let mut attributes = Vec::new();
                for attr in inner(item).filter(|p| p.as_rule() == Rule::socket_attr) {
                    let mut parts = inner(attr);
                    let name_pair = parts.next()?;
                    let name = Spanned::new(name_pair.as_str().to_string(), self.span(&name_pair));
                    let value_pair = parts.find(|p| p.as_rule() != Rule::equals)?;
                    let value = match value_pair.as_rule() {
                        Rule::string => self.string(value_pair),
                        _ => Spanned::new(value_pair.as_str().to_string(), self.span(&value_pair)),
                    };
                    attributes.push((name, value));
                }
                Some(Item::Socket(SocketBlock { attributes, span }))
            }
            _ => None,
        }
    }

    fn global_value(&self, pair: Pair<'_, Rule>) -> Option<Spanned<GlobalValue>> {
        let span = self.span(&pair);
        let value = inner(pair).next()?;
        let node = match value.as_rule() {
            Rule::plain_number => GlobalValue::Int(self.signed_number(&inner(value).next()?)),
            Rule::string => GlobalValue::Str(self.string(value).node),
            Rule::socket_list => {
                let spec = self.socket_list(value)?;
                match spec.address.as_single_word() {
                    Some(word) if spec.advertise.is_none() && spec.name.is_none() && !spec.virtual_ip => {
                        GlobalValue::Ident(word.to_string())
                    }
                    _ => GlobalValue::Listen(spec),
                }
            }
            _ => return None,
        };
        Some(Spanned::new(node, span))
    }

    fn socket_list(&self, pair: Pair<'_, Rule>) -> Option<ListenSpec> {
        let mut parts = inner(pair);
        let first = parts.next()?;
        let address = match first.as_rule() {
            Rule::multihomed_spec => {
                let mut address = SocketAddress { proto: None, hosts: Vec::new(), port: None };
                for part in inner(first) {
                    match part.as_rule() {
                        Rule::socket_proto => address.proto = Some(part.as_str().to_string()),
                        Rule::socket_host => address.hosts.push(self.socket_host(&part)),
                        Rule::socket_port => address.port = Some(part.as_str().to_string()),
                        _ => {}
                    }
                }
                address
            }
            _ => self.socket_address(first),
        };
        let mut spec = ListenSpec { address, advertise: None, name: None, virtual_ip: false, agname: None };
        for suffix in parts {
            let mut suffix_parts = inner(suffix);
            let Some(keyword) = suffix_parts.next() else { continue };
            match keyword.as_rule() {
                Rule::kw_advertise => spec.advertise = suffix_parts.next().map(|p| self.socket_address(p)),
                Rule::kw_name => spec.name = suffix_parts.next().map(|p| self.string(p).node),
                Rule::kw_agname => spec.agname = suffix_parts.next().map(|p| self.string(p).node),
                Rule::kw_virtual => spec.virtual_ip = true,
                _ => {}
            }
        }
        Some(spec)
    }

    fn socket_address(&self, pair: Pair<'_, Rule>) -> SocketAddress {
        let mut address = SocketAddress { proto: None, hosts: Vec::new(), port: None };
        for part in inner(pair) {
            match part.as_rule() {
                Rule::socket_proto => address.proto = Some(part.as_str().to_ascii_lowercase()),
                Rule::socket_host => address.hosts.push(self.socket_host(&part)),
                Rule::socket_port => address.port = Some(part.as_str().to_string()),
                _ => {}
            }
        }
        address
    }

    fn socket_host(&self, pair: &Pair<'_, Rule>) -> String {
        let text = pair.as_str();
        if text.starts_with('"') { unescape(&text[1..text.len() - 1]) } else { text.to_string() }
    }

    // ------------------------------------------------------------------ routes

    fn route_block(&self, pair: Pair<'_, Rule>) -> Option<RouteBlock> {
        let span = self.span(&pair);
        let mut parts = inner(pair);
        let header = parts.next()?;
        let header_span = self.span(&header);
        let body_pair = parts.next()?;
        let mut header_parts = inner(header);
        let keyword = header_parts.next()?;
        let name_pair = header_parts.find(|p| matches!(p.as_rule(), Rule::route_name | Rule::event_name));
        let name = match &name_pair {
            Some(p) if p.as_rule() == Rule::event_name => Some(Spanned::new(p.as_str().to_string(), self.span(p))),
            Some(p) => self.route_name(p.clone()),
            None => None,
        };
        let is_zero = name.as_ref().is_some_and(|n| n.node == "0");
        let (kind, name) = match keyword.as_rule() {
            Rule::kw_request_route => (BlockKind::Request, None),
            Rule::kw_route if name.is_none() || is_zero => (BlockKind::Request, None),
            Rule::kw_route => (BlockKind::Route, name),
            Rule::kw_reply_route => (BlockKind::CoreReply, None),
            Rule::kw_onreply_route if name.is_none() || is_zero => (BlockKind::CoreReply, None),
            Rule::kw_onreply_route => (BlockKind::OnReply, name),
            Rule::kw_failure_route => (BlockKind::Failure, name),
            Rule::kw_branch_route => (BlockKind::Branch, name),
            Rule::kw_onsend_route => (BlockKind::OnSend, None),
            Rule::kw_event_route => (BlockKind::Event, name),
            _ => return None,
        };
        let body = self.block(body_pair, true);
        Some(RouteBlock { kind, name, body, header: header_span, span })
    }

    /// A route name: identifier, number (normalised to decimal) or string.
    fn route_name(&self, pair: Pair<'_, Rule>) -> Option<Spanned<String>> {
        let span = self.span(&pair);
        let name = inner(pair).next()?;
        let text = match name.as_rule() {
            Rule::string => self.string(name).node,
            Rule::number => self.number(&name).to_string(),
            _ => {
                let word = name.as_str();
                if keywords::is_reserved(word) {
                    self.report(
                        self.syntax(span, format!("`{word}` is a reserved word and cannot name a route"))
                            .with_label("Kamailio's lexer reads this as a keyword")
                            .with_help(format!("quote the name: `\"{word}\"`")),
                    );
                }
                word.to_string()
            }
        };
        Some(Spanned::new(text, span))
    }

    fn block(&self, pair: Pair<'_, Rule>, is_route_body: bool) -> Block {
        let span = self.span(&pair);
        let stmts: Vec<Stmt> =
            inner(pair).filter(|p| p.as_rule() == Rule::statement).filter_map(|p| self.statement(p)).collect();
        if stmts.is_empty() {
            let what = if is_route_body { "route block" } else { "block" };
            self.report(
                self.syntax(span, format!("empty {what}"))
                    .with_label("Kamailio requires at least one statement here")
                    .with_help("write `{ ; }` for a block that does nothing, or remove it"),
            );
        }
        Block { stmts, span }
    }

    // ------------------------------------------------------------------ statements

    fn statement(&self, pair: Pair<'_, Rule>) -> Option<Stmt> {
        let span = self.span(&pair);
        let stmt = inner(pair).next()?;
        let kind = match stmt.as_rule() {
            Rule::semicolon => StmtKind::Empty,
            Rule::block => StmtKind::Block(self.block(stmt, false)),
            Rule::if_stmt => {
                // `if c1 s1 else if c2 s2 ... else sN`: built inside out, without recursion.
                let end = span;
                let mut branches = Vec::new();
                let mut otherwise = None;
                let mut cond = None;
                for part in inner(stmt) {
                    match part.as_rule() {
                        Rule::expr => cond = Some(self.expr(part)),
                        Rule::statement if cond.is_some() => {
                            branches.push((cond.take()?, self.statement(part)?, span));
                        }
                        Rule::else_if if branches.len() >= MAX_ELSE_IF => {
                            let at = self.span(&part);
                            self.report(
                                self.syntax(at, format!("more than {MAX_ELSE_IF} `else if` in one chain"))
                                    .with_help("use `switch`, or split the chain into sub-routes"),
                            );
                            break;
                        }
                        Rule::else_if => {
                            let mut chain = inner(part);
                            let keyword = chain.find(|p| p.as_rule() == Rule::kw_if)?;
                            let start = self.span(&keyword);
                            let c = self.expr(chain.find(|p| p.as_rule() == Rule::expr)?);
                            let body = self.statement(chain.find(|p| p.as_rule() == Rule::statement)?)?;
                            branches.push((c, body, start.to(end)));
                        }
                        Rule::statement => otherwise = Some(Box::new(self.statement(part)?)),
                        _ => {}
                    }
                }
                for (cond, then, span) in branches.into_iter().rev() {
                    let kind = StmtKind::If { cond, then: Box::new(then), otherwise: otherwise.take() };
                    otherwise = Some(Box::new(Stmt { kind, span }));
                }
                otherwise?.kind
            }
            Rule::while_stmt => {
                let mut parts = inner(stmt).filter(|p| matches!(p.as_rule(), Rule::expr | Rule::statement));
                let cond = self.expr(parts.next()?);
                let body = Box::new(self.statement(parts.next()?)?);
                StmtKind::While { cond, body }
            }
            Rule::switch_stmt => {
                let mut parts = inner(stmt);
                let subject = self.expr(parts.find(|p| p.as_rule() == Rule::expr)?);
                let mut arms = Vec::new();
                for arm in parts.filter(|p| p.as_rule() == Rule::switch_arm) {
                    arms.push(self.switch_arm(arm)?);
                }
                StmtKind::Switch { subject, arms }
            }
            Rule::return_stmt => StmtKind::Return(self.optional_expr(stmt)),
            Rule::exit_stmt => StmtKind::Exit(self.optional_expr(stmt)),
            Rule::drop_stmt => StmtKind::Drop(self.optional_expr(stmt)),
            Rule::break_stmt => StmtKind::Break,
            Rule::assign => {
                let mut parts = inner(stmt);
                let target_pair = parts.next()?;
                let target = self.pv(&target_pair)?;
                let value = self.expr(parts.find(|p| p.as_rule() == Rule::expr)?);
                StmtKind::Assign { target, value }
            }
            Rule::call_stmt => {
                let call = self.call(stmt)?;
                if call.name.node == "route" {
                    // A malformed route() is reported; the statement stays so the block is
                    // not also reported as empty.
                    self.route_ref(call).map_or(StmtKind::Empty, StmtKind::Route)
                } else {
                    StmtKind::Call(call)
                }
            }
            _ => return None,
        };
        Some(Stmt { kind, span })
    }

    fn optional_expr(&self, pair: Pair<'_, Rule>) -> Option<Expr> {
        inner(pair).find(|p| p.as_rule() == Rule::expr).map(|p| self.expr(p))
    }

    fn switch_arm(&self, pair: Pair<'_, Rule>) -> Option<SwitchArm> {
        let span = self.span(&pair);
        let mut parts = inner(pair);
        let label_pair = parts.next()?;
        let label = match label_pair.as_rule() {
            Rule::default_label => CaseLabel::Default,
            _ => {
                let mut label_parts = inner(label_pair);
                let regex = label_parts.clone().any(|p| p.as_rule() == Rule::regex_mark);
                let value = self.expr(label_parts.find(|p| p.as_rule() == Rule::expr)?);
                CaseLabel::Value { value, regex }
            }
        };
        let body = parts.filter(|p| p.as_rule() == Rule::statement).filter_map(|p| self.statement(p)).collect();
        Some(SwitchArm { label, body, span })
    }

    fn call(&self, pair: Pair<'_, Rule>) -> Option<Call> {
        let span = self.span(&pair);
        let mut parts = inner(pair);
        let name_pair = parts.next()?;
        let name = Spanned::new(name_pair.as_str().to_string(), self.span(&name_pair));
        let mut args = Vec::new();
        let mut has_parens = false;
        if let Some(call_args) = parts.find(|p| p.as_rule() == Rule::call_args) {
            has_parens = true;
            for arg in inner(call_args).filter(|p| p.as_rule() == Rule::arg) {
                args.push(self.arg(arg)?);
            }
        }
        Some(Call { name, args, has_parens, span })
    }

    fn arg(&self, pair: Pair<'_, Rule>) -> Option<Arg> {
        let span = self.span(&pair);
        let value = inner(pair).next()?;
        let value = match value.as_rule() {
            Rule::uri_host => ArgValue::UriHost,
            Rule::uri_port => ArgValue::UriPort,
            Rule::socket_arg => ArgValue::Socket(self.socket_address(value)),
            Rule::host_arg => ArgValue::Host(value.as_str().trim().to_string()),
            _ => {
                let expr = self.pratt(inner(value));
                // A bare word is a flag name, host or protocol for some core commands; the
                // checker knows which, so it is not judged here.
                if !matches!(expr.kind, ExprKind::Word(_)) {
                    self.validate(&expr);
                }
                ArgValue::Expr(expr)
            }
        };
        Some(Arg { value, span })
    }

    fn route_ref(&self, call: Call) -> Option<RouteRef> {
        let span = call.span;
        if call.args.len() != 1 {
            self.report(
                self.syntax(span, "`route()` takes exactly one route name")
                    .with_label(format!("{} arguments here", call.args.len()))
                    .with_help("write `route(NAME);`"),
            );
            return None;
        }
        let arg = call.args.into_iter().next()?;
        let target = match arg.value {
            ArgValue::Expr(Expr { kind: ExprKind::Word(word), span: word_span }) => {
                if keywords::is_reserved(&word) {
                    self.report(
                        self.syntax(word_span, format!("`{word}` is a reserved word and cannot name a route"))
                            .with_help(format!(
                                "quote the name on both sides: `route(\"{word}\")` and `route[\"{word}\"]`"
                            )),
                    );
                }
                RouteTarget::Name(Spanned::new(word, word_span))
            }
            ArgValue::Expr(Expr { kind: ExprKind::Str(name), span }) => RouteTarget::Name(Spanned::new(name, span)),
            ArgValue::Expr(Expr { kind: ExprKind::Int(n), span }) => {
                RouteTarget::Name(Spanned::new(n.to_string(), span))
            }
            ArgValue::Expr(expr) => RouteTarget::Dynamic(Box::new(expr)),
            ArgValue::Host(host) => RouteTarget::Name(Spanned::new(host, arg.span)),
            _ => {
                self.report(self.syntax(arg.span, "expected a route name"));
                return None;
            }
        };
        Some(RouteRef { target, span })
    }

    // ------------------------------------------------------------------ expressions

    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let operators = pair.clone().into_inner().count();
        if operators > MAX_EXPRESSION_TERMS {
            let span = self.span(&pair);
            self.report(
                self.syntax(span, "expression too long")
                    .with_label(format!("more than {MAX_EXPRESSION_TERMS} operators and operands"))
                    .with_help("split it over several assignments to `$var(...)`"),
            );
            return Expr { kind: ExprKind::Int(0), span };
        }
        let expr = self.pratt(inner(pair));
        self.validate(&expr);
        expr
    }

    fn pratt(&self, pairs: Pairs<'_, Rule>) -> Expr {
        PRATT
            .map_primary(|primary| self.primary(primary))
            .map_prefix(|op, operand| {
                let span = self.span(&op).to(operand.span);
                let op = match op.as_rule() {
                    Rule::op_not => UnaryOp::Not,
                    Rule::op_bnot => UnaryOp::BitNot,
                    Rule::op_neg => UnaryOp::Neg,
                    Rule::op_defined => UnaryOp::Defined,
                    Rule::cast_int => UnaryOp::IntCast,
                    _ => UnaryOp::StrCast,
                };
                Expr { kind: ExprKind::Unary { op, operand: Box::new(operand) }, span }
            })
            .map_infix(|left, op, right| {
                let span = left.span.to(right.span);
                let op = binary_op(op.as_rule());
                // `x == $null` is `!defined x`, `x != $null` is `defined x` (as Kamailio's parser).
                if matches!(op, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::IntNe | BinaryOp::StrNe)
                    && matches!(&right.kind, ExprKind::Pv(pv) if pv.class == "null" && pv.inner.is_none())
                {
                    let defined =
                        Expr { kind: ExprKind::Unary { op: UnaryOp::Defined, operand: Box::new(left) }, span };
                    return if op == BinaryOp::Eq {
                        Expr { kind: ExprKind::Unary { op: UnaryOp::Not, operand: Box::new(defined) }, span }
                    } else {
                        defined
                    };
                }
                Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, span }
            })
            .parse(pairs)
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::paren_expr => {
                let Some(expr) = inner(pair).find(|p| p.as_rule() == Rule::expr) else {
                    return Expr { kind: ExprKind::Int(0), span };
                };
                let mut e = self.pratt(inner(expr));
                e.span = span;
                return e;
            }
            Rule::strlen_expr | Rule::strempty_expr => {
                let is_len = pair.as_rule() == Rule::strlen_expr;
                let operand = inner(pair).find(|p| p.as_rule() == Rule::expr).map(|p| self.pratt(inner(p)));
                let operand = Box::new(operand.unwrap_or(Expr { kind: ExprKind::Str(String::new()), span }));
                if is_len { ExprKind::Strlen(operand) } else { ExprKind::Strempty(operand) }
            }
            Rule::selval_expr => {
                let mut exprs = inner(pair).filter(|p| p.as_rule() == Rule::expr).map(|p| self.pratt(inner(p)));
                let zero = || Expr { kind: ExprKind::Int(0), span };
                let cond = exprs.next().unwrap_or_else(zero);
                let then = exprs.next().unwrap_or_else(zero);
                let otherwise = exprs.next().unwrap_or_else(zero);
                ExprKind::Selval { cond: Box::new(cond), then: Box::new(then), otherwise: Box::new(otherwise) }
            }
            Rule::ip_literal => {
                let text = pair.as_str();
                self.check_ip(text, span);
                ExprKind::Ip(text.to_string())
            }
            Rule::number => ExprKind::Int(self.number(&pair)),
            Rule::bool_word => ExprKind::Int(bool_word(pair.as_str()).unwrap_or(0)),
            Rule::string => ExprKind::Str(self.string(pair).node),
            Rule::pv => match self.pv(&pair) {
                Some(pv) => ExprKind::Pv(pv),
                None => ExprKind::Str(String::new()),
            },
            Rule::select => ExprKind::Select(pair.as_str()[1..].to_string()),
            Rule::keyword_operand => match pair.as_str() {
                "myself" => ExprKind::Myself,
                word => ExprKind::Keyword(Keyword::from_word(word).unwrap_or(Keyword::Uri)),
            },
            Rule::call_expr => {
                let Some(call) = self.call(pair) else {
                    return Expr { kind: ExprKind::Int(0), span };
                };
                if call.name.node == "route" {
                    match self.route_ref(call) {
                        Some(r) => ExprKind::Route(r),
                        None => ExprKind::Int(0),
                    }
                } else {
                    ExprKind::Call(call)
                }
            }
            _ => ExprKind::Word(pair.as_str().to_string()),
        };
        Expr { kind, span }
    }

    /// Checks the placement rules of keyword operands, IP literals, `myself` and bare words.
    fn validate(&self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Binary { op, left, right } => {
                if op.is_comparison() {
                    match (&left.kind, &right.kind) {
                        (ExprKind::Keyword(k), _) => {
                            self.validate_keyword_comparison(*k, *op, right);
                        }
                        (ExprKind::Myself, ExprKind::Keyword(k)) if k.is_uri() || k.is_address() => {}
                        (ExprKind::Myself, _) => self.validate(left),
                        _ => {
                            self.validate(left);
                            self.validate(right);
                        }
                    }
                } else {
                    self.validate(left);
                    self.validate(right);
                }
            }
            ExprKind::Unary { operand, .. } => self.validate(operand),
            ExprKind::Strlen(e) | ExprKind::Strempty(e) => self.validate(e),
            ExprKind::Selval { cond, then, otherwise } => {
                self.validate(cond);
                self.validate(then);
                self.validate(otherwise);
            }
            ExprKind::Keyword(k) => {
                self.report(
                    self.syntax(expr.span, format!("`{}` can only be compared", k.as_str()))
                        .with_label("a keyword is not a value")
                        .with_help(keyword_value_help(*k)),
                );
            }
            ExprKind::Myself => self.report(
                self.syntax(expr.span, "`myself` can only be compared with `uri`, `from_uri`, `to_uri` or `src_ip`-like keywords")
                    .with_label("not a value")
                    .with_help("to test a pseudo-variable, use siputils/corex `is_myself(\"$ru\")`"),
            ),
            ExprKind::Ip(ip) => self.report(
                self.syntax(expr.span, "an IP address literal can only be compared with `src_ip`, `dst_ip`, `snd_ip` or `to_ip`")
                    .with_label("not a value here")
                    .with_help(format!("write it as a string: `\"{ip}\"`")),
            ),
            ExprKind::Word(word) => self.report(
                self.syntax(expr.span, format!("unexpected bare word `{word}`"))
                    .with_label("not a value")
                    .with_help(if word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                        format!("if `{word}` is meant to be a `#!define`, define it before this line; otherwise write a string: `\"{word}\"`")
                    } else {
                        format!("write a string (`\"{word}\"`), a number or a pseudo-variable")
                    }),
            ),
            _ => {}
        }
    }

    fn validate_keyword_comparison(&self, keyword: Keyword, op: BinaryOp, right: &Expr) {
        let allowed_op = if keyword.is_numeric() {
            !matches!(op, BinaryOp::Match | BinaryOp::StrEq | BinaryOp::StrNe)
        } else if matches!(keyword, Keyword::Proto | Keyword::SndProto | Keyword::ToProto) {
            matches!(op, BinaryOp::Eq | BinaryOp::Ne)
        } else {
            matches!(op, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Match | BinaryOp::StrEq | BinaryOp::StrNe)
        };
        if !allowed_op {
            self.report(
                self.syntax(right.span, format!("`{}` cannot be compared with `{}`", keyword.as_str(), op.as_str()))
                    .with_help(if keyword.is_numeric() {
                        "use ==, !=, <, >, <= or >="
                    } else if matches!(keyword, Keyword::Proto | Keyword::SndProto | Keyword::ToProto) {
                        "use == or !="
                    } else {
                        "use ==, != or =~"
                    }),
            );
        }
        match &right.kind {
            ExprKind::Myself if keyword.is_uri() || keyword.is_address() => {}
            ExprKind::Ip(_) if keyword.is_address() => {}
            ExprKind::Word(w) => {
                let ok = match keyword {
                    Keyword::Method => true,
                    Keyword::Proto | Keyword::SndProto | Keyword::ToProto => {
                        matches!(w.to_ascii_lowercase().as_str(), "udp" | "tcp" | "tls" | "sctp" | "ws" | "wss")
                    }
                    Keyword::Af | Keyword::SndAf | Keyword::ToAf => {
                        matches!(w.to_ascii_lowercase().as_str(), "inet" | "inet6" | "ipv4" | "ipv6")
                    }
                    k if k.is_address() => w.contains('.'),
                    _ => false,
                };
                if !ok {
                    self.validate(right);
                }
            }
            _ => self.validate(right),
        }
    }

    fn check_ip(&self, text: &str, span: Span) {
        let address = text.split('/').next().unwrap_or(text).trim_start_matches('[').trim_end_matches(']');
        if address.parse::<std::net::IpAddr>().is_err() {
            self.report(self.syntax(span, format!("`{address}` is not a valid IP address")));
        }
    }

    // ------------------------------------------------------------------ tokens

    fn pv(&self, pair: &Pair<'_, Rule>) -> Option<Pv> {
        let text = pair.as_str();
        let start = self.base + pair.as_span().start();
        let expanded = self.expanded;
        let span_of = |r: std::ops::Range<usize>| expanded.span(start + r.start..start + r.end);
        match parse_pv(text, &span_of) {
            Ok((pv, used)) if used == text.len() => Some(pv),
            Ok((_, used)) => {
                self.report(
                    self.syntax(span_of(used..text.len()), "unexpected text after pseudo-variable").with_help(
                        "an index or transformation needs the `$( ... )` form: `$(avp(x)[1])`, `$(ru{s.len})`",
                    ),
                );
                None
            }
            Err(error) => {
                self.report(self.syntax(span_of(error.range.clone()), error.message));
                None
            }
        }
    }

    fn number(&self, pair: &Pair<'_, Rule>) -> i64 {
        match parse_number(pair.as_str()) {
            Ok(n) => n,
            Err(error) => {
                let span = self.span(pair);
                let (message, help) = match error {
                    NumberError::BadOctal => (
                        format!("`{}` is not a valid number", pair.as_str()),
                        "a leading 0 makes a number octal (digits 0-7); remove the leading zero".to_string(),
                    ),
                    NumberError::TooLarge => {
                        (format!("`{}` is too large", pair.as_str()), "numbers are 64-bit at most".to_string())
                    }
                    NumberError::Malformed => (
                        format!("`{}` is not a valid number", pair.as_str()),
                        "write 123, 0x7B, 0173 or 1111011b".to_string(),
                    ),
                };
                self.report(self.syntax(span, message).with_help(help));
                0
            }
        }
    }

    fn signed_number(&self, pair: &Pair<'_, Rule>) -> i64 {
        let negative = pair.as_str().starts_with('-');
        let value = match inner(pair.clone()).next() {
            Some(p) if p.as_rule() == Rule::bool_word => bool_word(p.as_str()).unwrap_or(0),
            Some(p) => self.number(&p),
            None => 0,
        };
        if negative { -value } else { value }
    }

    /// A (possibly joined) string literal. Typographic quotes are accepted with a warning.
    fn string(&self, pair: Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(&pair);
        let mut value = String::new();
        for part in inner(pair) {
            let raw = part.as_str();
            match part.as_rule() {
                Rule::sq_string => value.push_str(&raw[1..raw.len() - 1]),
                Rule::dq_string => value.push_str(&unescape(&raw[1..raw.len() - 1])),
                Rule::typo_string => {
                    let open = raw.chars().next().map(char::len_utf8).unwrap_or(1);
                    let close = raw.chars().next_back().map(char::len_utf8).unwrap_or(1);
                    let body = &raw[open..raw.len() - close];
                    value.push_str(&unescape(body));
                    self.report(
                        Diagnostic::new(
                            Code::TypographicQuote,
                            self.span(&part),
                            "typographic quotes used as string delimiters",
                        )
                        .with_label("these are not ASCII quotes")
                        .with_help(format!("use ASCII double quotes: \"{body}\"")),
                    );
                }
                _ => {}
            }
        }
        Spanned::new(value, span)
    }
}

fn keyword_value_help(keyword: Keyword) -> &'static str {
    match keyword {
        Keyword::Method => "compare it (`method == \"INVITE\"`) or use the `$rm` pseudo-variable",
        Keyword::Uri | Keyword::Status => "compare it, or use `$ru` (R-URI) / `$rs` (reply status)",
        Keyword::FromUri => "compare it, or use `$fu`",
        Keyword::ToUri => "compare it, or use `$tu`",
        Keyword::SrcIp => "compare it, or use `$si`",
        Keyword::SrcPort => "compare it, or use `$sp`",
        Keyword::DstIp => "compare it, or use `$Ri`",
        Keyword::DstPort => "compare it, or use `$Rp`",
        Keyword::Proto => "compare it, or use `$pr`",
        Keyword::MsgLen => "compare it, or use `$ml`",
        _ => "compare it with `==` or `!=`",
    }
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_bor => BinaryOp::BitOr,
        Rule::op_band => BinaryOp::BitAnd,
        Rule::op_bxor => BinaryOp::BitXor,
        Rule::op_lshift => BinaryOp::Shl,
        Rule::op_rshift => BinaryOp::Shr,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_match => BinaryOp::Match,
        Rule::op_streq => BinaryOp::StrEq,
        Rule::op_strne => BinaryOp::StrNe,
        Rule::op_inteq => BinaryOp::IntEq,
        Rule::op_intne => BinaryOp::IntNe,
        Rule::op_le => BinaryOp::Le,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        _ => BinaryOp::Mod,
    }
}
