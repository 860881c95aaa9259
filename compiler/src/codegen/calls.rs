//! Function calls: core actions and module functions mapped onto the runtime.
//!
//! Arguments are evaluated into locals before the call, so that a pseudo-variable read
//! (which borrows the context) is finished before the function borrows it mutably.
//! Constant arguments are resolved here: regexes and substitutions become statics compiled
//! once, `is_method` names a bit set, `lock("key")` a slot, `forward(host)` a target
//! resolved at start-up.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::expr::Code;
use super::stmt::FnGen;
use super::{Kind, bytes_lit, pv};
use crate::check::{Constant, constant};
use crate::modules::{self, Module};
use crate::parse::ast::*;
use crate::parse::pv::{FormatPart, parse_format, parse_pv};
use crate::source::Span;

/// A call ready to run: `tokens` evaluate to its `i32` return code.
pub(crate) struct GenCall {
    pub(crate) tokens: TokenStream,
    /// The registry says it may return 0, which stops the script.
    pub(crate) can_stop: bool,
}

/// Generates `call`, or reports why it cannot be compiled yet.
pub(crate) fn call(f: &mut FnGen<'_, '_>, call: &Call) -> Option<GenCall> {
    let name = call.name.node.as_str();
    let Some(module) = owner(f, name, call.args.len()) else {
        f.g.unsupported(call.span, format!("`{name}`"));
        return None;
    };
    let can_stop = module
        .functions
        .iter()
        .any(|function| function.name == name && function.args.len() == call.args.len() && function.can_stop);
    let mut args = Args { f, call, lets: Vec::new(), first_local: 0 };
    let tokens = match module.name {
        "core" | "corex" => args.core(),
        "sl" => args.sl(),
        "textops" => args.textops(),
        "pv" => args.pv(),
        "cfgutils" => args.cfgutils(),
        "siputils" => args.siputils(),
        "maxfwd" => args.maxfwd(),
        "sanity" => args.sanity(),
        "xlog" => args.xlog(),
        "tm" => args.tm(),
        "tmx" => args.tmx(),
        "rr" => args.rr(),
        other => {
            args.f.g.unsupported(call.span, format!("the {other} module (`{name}`)"));
            return None;
        }
    };
    let Some(tokens) = tokens else {
        let kind = args.f.kind;
        let count = match call.args.len() {
            0 => "without arguments".to_string(),
            1 => "with 1 argument".to_string(),
            n => format!("with {n} arguments"),
        };
        let place = if kind == Kind::Request { String::new() } else { format!(" in {}", kind_name(kind)) };
        args.f.g.unsupported(call.span, format!("`{name}` {count}{place}"));
        return None;
    };
    let lets = args.lets;
    let tokens = if lets.is_empty() { tokens } else { quote!({ #( #lets )* #tokens }) };
    Some(GenCall { tokens, can_stop })
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Request => "request routes",
        Kind::CoreReply => "reply_route",
        Kind::Failure => "failure_route",
        Kind::TmReply => "onreply_route",
        Kind::Branch => "branch_route",
    }
}

/// The module that exports `name` with `argc` arguments: the core first, then the loaded ones.
fn owner(f: &FnGen<'_, '_>, name: &str, argc: usize) -> Option<&'static Module> {
    let exports = |module: &Module| module.functions.iter().any(|func| func.name == name && func.args.len() == argc);
    if exports(&modules::core::MODULE) {
        return Some(&modules::core::MODULE);
    }
    f.g.fe.analysis.modules.iter().filter_map(|loaded| modules::find(&loaded.name)).find(|module| exports(module))
}

/// The arguments of one call, turned into locals (`lets`) and operands.
struct Args<'c, 'f, 'g, 'a> {
    f: &'f mut FnGen<'g, 'a>,
    call: &'c Call,
    lets: Vec<TokenStream>,
    /// Number of the first local this set of arguments binds (nested sets must not shadow).
    first_local: usize,
}

impl Args<'_, '_, '_, '_> {
    fn name(&self) -> &str {
        &self.call.name.node
    }

    fn argc(&self) -> usize {
        self.call.args.len()
    }

    /// `request_route` and its sub-routes (Kamailio's REQUEST_ROUTE only).
    fn request(&self) -> bool {
        self.f.kind == Kind::Request
    }

    /// Any route that processes a request (request, failure, branch).
    fn request_side(&self) -> bool {
        self.f.kind.is_request()
    }

    fn expr(&self, n: usize) -> Option<&Expr> {
        self.call.args.get(n).and_then(|a| a.value.as_expr())
    }

    fn span(&self, n: usize) -> Span {
        self.call.args.get(n).map_or(self.call.span, |a| a.span)
    }

    fn constant(&self, n: usize) -> Option<Constant> {
        self.expr(n).and_then(constant)
    }

    /// Binds `value` to a fresh local and returns its name.
    fn bind(&mut self, value: TokenStream) -> TokenStream {
        let local = format_ident!("arg{}", self.first_local + self.lets.len());
        self.lets.push(quote!(let #local = #value;));
        quote!(#local)
    }

    /// An integer argument (`i64`): a literal, a number in a string, a `"$pv"` in a string or
    /// any expression.
    fn int(&mut self, n: usize) -> Option<TokenStream> {
        match self.constant(n) {
            Some(Constant::Int(value)) => Some(quote!(#value)),
            Some(Constant::Str(text)) => {
                let trimmed = text.trim();
                if trimmed.starts_with('$') {
                    let code = self.pv_named(n, trimmed)?;
                    let value = code.int();
                    return Some(self.bind(value));
                }
                let value: i64 = trimmed.parse().unwrap_or(0);
                Some(quote!(#value))
            }
            None => {
                let expr = self.expr(n)?.clone();
                let value = self.f.expr(&expr).int();
                Some(self.bind(value))
            }
        }
    }

    /// A string argument that is taken literally (core actions): `&[u8]`.
    fn literal(&mut self, n: usize) -> Option<TokenStream> {
        let text = match self.call.args.get(n)?.value {
            ArgValue::Host(ref host) => host.clone(),
            _ => self.constant(n)?.as_text(),
        };
        let lit = bytes_lit(text.as_bytes());
        Some(quote!(#lit))
    }

    /// A format-string argument (text with pseudo-variables) or a run-time expression:
    /// `&[u8]`. Constant text without variables costs nothing at run time.
    fn format(&mut self, n: usize) -> Option<TokenStream> {
        let Some(value) = self.constant(n) else {
            let expr = self.expr(n)?.clone();
            let bytes = self.f.expr(&expr).bytes();
            let local = self.bind(bytes);
            return Some(quote!(&#local[..]));
        };
        let text = value.as_text();
        let span = self.span(n);
        let parts = match parse_format(&text, &|_| span) {
            Ok(parts) => parts,
            Err(_) => return None,
        };
        if parts.iter().all(|p| matches!(p, FormatPart::Text(_))) {
            let literal: String =
                parts.iter().map(|p| if let FormatPart::Text(t) = p { t.as_str() } else { "" }).collect();
            let lit = bytes_lit(literal.as_bytes());
            return Some(quote!(#lit));
        }
        let built = format_tokens(self.f, &parts)?;
        let local = self.bind(built);
        Some(quote!(&#local[..]))
    }

    /// A regex argument: a static compiled once for constants.
    fn regex(&mut self, n: usize) -> Option<TokenStream> {
        match self.constant(n) {
            Some(value) => {
                let text = value.as_text();
                let name = self.f.g.fresh("RE");
                self.f.g.statics.push(quote! {
                    static #name: rt::LazyLock<rt::Regex> = rt::LazyLock::new(|| rt::textops::regex(#text));
                });
                Some(quote!(&*#name))
            }
            None => {
                let pattern = self.format(n)?;
                let local = self.bind(quote!(rt::textops::regex(&String::from_utf8_lossy(#pattern))));
                Some(quote!(&#local))
            }
        }
    }

    /// A `subst` specification (always constant): a static.
    fn subst(&mut self, n: usize) -> Option<TokenStream> {
        let text = self.constant(n)?.as_text();
        let name = self.f.g.fresh("SUBST");
        self.f.g.statics.push(quote! {
            static #name: rt::LazyLock<rt::Subst> = rt::LazyLock::new(|| rt::Subst::new(#text));
        });
        Some(quote!(&*#name))
    }

    /// The value of the pseudo-variable named in a string argument (`"$var(x)"`).
    fn pv_named(&mut self, n: usize, text: &str) -> Option<Code> {
        let span = self.span(n);
        let (pv, used) = parse_pv(text, &|_| span).ok()?;
        if used != text.len() {
            return None;
        }
        pv::read(self.f, &pv)
    }

    fn pv_arg(&mut self, n: usize) -> Option<Pv> {
        let text = self.constant(n)?.as_text();
        let text = text.trim();
        let span = self.span(n);
        let (pv, used) = parse_pv(text, &|_| span).ok()?;
        (used == text.len()).then_some(pv)
    }

    fn flag(&mut self, n: usize) -> Option<TokenStream> {
        let flag = match &self.call.args.get(n)?.value {
            ArgValue::Host(name) => *self.f.g.fe.analysis.flags.get(name)?,
            ArgValue::Expr(Expr { kind: ExprKind::Word(name), .. }) => *self.f.g.fe.analysis.flags.get(name)?,
            _ => match self.constant(n)? {
                Constant::Int(n) => n,
                Constant::Str(s) => match s.trim().parse() {
                    Ok(n) => n,
                    Err(_) => *self.f.g.fe.analysis.flags.get(s.trim())?,
                },
            },
        };
        let flag = u32::try_from(flag).ok().filter(|f| *f < 64)?;
        Some(quote!(#flag))
    }

    // ---- core ------------------------------------------------------------------------

    fn core(&mut self) -> Option<TokenStream> {
        let argc = self.argc();
        let name = self.name().to_string();
        // Everything here but logging and flags works on a request's URI or destination.
        let any_route = matches!(name.as_str(), "log" | "setflag" | "resetflag" | "isflagset");
        if !any_route && !self.request_side() {
            return None;
        }
        Some(match (name.as_str(), argc) {
            ("forward", 0) => quote!(rt::core::forward(cx, rt::ForwardTo::Uri, None)),
            ("forward" | "forward_udp" | "forward_tcp", 1 | 2) => {
                let transport = match name.as_str() {
                    "forward_udp" => quote!(Some(rt::Transport::Udp)),
                    "forward_tcp" => quote!(Some(rt::Transport::Tcp)),
                    _ => quote!(None),
                };
                return self.forward_to(transport);
            }
            ("log", 1) => {
                let text = self.literal(0)?;
                quote!(rt::xlog::log(rt::log::L_DBG, #text))
            }
            ("log", 2) => {
                let level = self.int(0)?;
                let text = self.literal(1)?;
                quote!(rt::xlog::log((#level) as i32, #text))
            }
            ("setflag", 1) => {
                let flag = self.flag(0)?;
                quote!(rt::core::flags::set(cx, #flag))
            }
            ("resetflag", 1) => {
                let flag = self.flag(0)?;
                quote!(rt::core::flags::reset(cx, #flag))
            }
            ("isflagset", 1) => {
                let flag = self.flag(0)?;
                quote!(rt::core::flags::is_set(cx, #flag))
            }
            ("strip", 1) => {
                let count = self.int(0)?;
                quote!(rt::core::uri::strip(cx, #count))
            }
            ("strip_tail", 1) => {
                let count = self.int(0)?;
                quote!(rt::core::uri::strip_tail(cx, #count))
            }
            ("prefix", 1) => {
                let text = self.literal(0)?;
                quote!(rt::core::uri::prefix(cx, #text))
            }
            ("rewriteuri" | "seturi", 1) => {
                let text = self.literal(0)?;
                quote!(rt::core::uri::rewrite_uri(cx, #text))
            }
            ("rewritehost" | "sethost" | "seth", 1) => {
                let text = self.literal(0)?;
                quote!(rt::core::uri::rewrite_host(cx, #text))
            }
            ("rewritehostport" | "sethostport" | "sethp", 1) => {
                let text = self.literal(0)?;
                quote!(rt::core::uri::rewrite_hostport(cx, #text))
            }
            ("rewriteuser" | "setuser" | "setu", 1) => {
                let text = self.literal(0)?;
                quote!(rt::core::uri::rewrite_user(cx, #text))
            }
            ("rewriteuserpass" | "setuserpass" | "setup", 1) => {
                let text = self.literal(0)?;
                quote!(rt::core::uri::rewrite_userpass(cx, #text))
            }
            ("rewriteport" | "setport" | "setp", 1) => {
                let text = self.literal(0)?;
                quote!(rt::core::uri::rewrite_port(cx, #text))
            }
            ("revert_uri", 0) => quote!(rt::core::uri::revert_uri(cx)),
            ("append_branch", 0) => quote!(rt::core::dset::append_current(cx)),
            ("append_branch", 1) => {
                let uri = self.format(0)?;
                quote!(rt::core::dset::append_uri(cx, #uri, None))
            }
            ("append_branch", 2) => {
                let uri = self.format(0)?;
                let q = self.format(1)?;
                quote!(rt::core::dset::append_uri(cx, #uri, Some::<&[u8]>(#q)))
            }
            ("remove_branch", 0) => quote!(rt::core::dset::remove(cx, 0)),
            ("remove_branch", 1) => {
                let index = self.int(0)?;
                quote!(rt::core::dset::remove(cx, #index))
            }
            ("clear_branches", 0) => quote!(rt::core::dset::clear(cx)),
            ("force_rport" | "add_rport", 0) => quote!({
                cx.env.force_rport = true;
                1
            }),
            _ => return None,
        })
    }

    /// `forward(host[, port])` and the `_udp`/`_tcp` forms; `uri:host`/`uri:port` mean the
    /// next hop of the current URI.
    fn forward_to(&mut self, transport: TokenStream) -> Option<TokenStream> {
        let host = match &self.call.args.first()?.value {
            ArgValue::UriHost => None,
            ArgValue::Host(host) => Some(host.clone()),
            ArgValue::Expr(expr) => Some(constant(expr)?.as_text()),
            _ => return None,
        };
        let port = match self.call.args.get(1).map(|a| &a.value) {
            None => None,
            Some(ArgValue::UriPort) if host.is_none() => None,
            Some(ArgValue::Expr(expr)) => match constant(expr)? {
                Constant::Int(p) => Some(u16::try_from(p).ok()?),
                Constant::Str(s) => Some(s.trim().parse::<u16>().ok()?),
            },
            Some(_) => return None,
        };
        let Some(host) = host else {
            return Some(quote!(rt::core::forward(cx, rt::ForwardTo::Uri, #transport)));
        };
        // Port 0 means "look it up", as no port does.
        let port = port.filter(|p| *p != 0);
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let target = self.f.g.state.target(&host, port);
        Some(quote!({
            let shared = cx.shared;
            rt::core::forward(cx, rt::ForwardTo::Fixed(&shared.#target), #transport)
        }))
    }

    // ---- sl ----------------------------------------------------------------------------

    fn sl(&mut self) -> Option<TokenStream> {
        let (request, request_side) = (self.request(), self.request_side());
        Some(match (self.name(), self.argc()) {
            ("sl_send_reply" | "sl_reply", 2) if request => {
                let code = self.int(0)?;
                let reason = self.format(1)?;
                quote!(rt::sl::send_reply(cx, #code, #reason))
            }
            // send_reply goes through tm when the request has a transaction.
            ("send_reply", 2) if request_side => {
                let code = self.int(0)?;
                let reason = self.format(1)?;
                quote!(rt::sl::send_reply_any(cx, #code, #reason))
            }
            ("send_reply", 2) => {
                let code = self.int(0)?;
                let reason = self.format(1)?;
                quote!(rt::tm::t_reply(cx, #code, #reason))
            }
            ("sl_reply_error" | "send_reply_error", 0) if request => quote!(rt::sl::reply_error(cx)),
            _ => return None,
        })
    }

    // ---- tm ----------------------------------------------------------------------------

    fn tm(&mut self) -> Option<TokenStream> {
        let request_side = self.request_side();
        Some(match (self.name(), self.argc()) {
            ("t_relay" | "t_relay_to", 0) if request_side => {
                quote!(rt::tm::t_relay(cx, &TM_ROUTES, rt::tm::Target::NEXT_HOP))
            }
            ("t_relay_to_udp" | "t_relay_to_tcp", 0) if request_side => {
                let proto = if self.name() == "t_relay_to_udp" {
                    quote!(rt::Transport::Udp)
                } else {
                    quote!(rt::Transport::Tcp)
                };
                quote!(rt::tm::t_relay(cx, &TM_ROUTES, rt::tm::Target { to: None, proto: Some(#proto) }))
            }
            ("t_relay" | "t_relay_to_udp" | "t_relay_to_tcp", 2) if request_side => {
                let proto = match self.name() {
                    "t_relay_to_udp" => quote!(Some(rt::Transport::Udp)),
                    "t_relay_to_tcp" => quote!(Some(rt::Transport::Tcp)),
                    _ => quote!(None),
                };
                let host = self.constant(0)?.as_text();
                let port = match self.constant(1)? {
                    Constant::Int(p) => u16::try_from(p).ok()?,
                    Constant::Str(s) => s.trim().parse::<u16>().ok()?,
                };
                let host = host.trim().trim_start_matches('[').trim_end_matches(']').to_string();
                let target = self.f.g.state.target(&host, Some(port).filter(|p| *p != 0));
                quote!({
                    let shared = cx.shared;
                    rt::tm::t_relay(cx, &TM_ROUTES, rt::tm::Target { to: Some(&shared.#target), proto: #proto })
                })
            }
            ("t_newtran", 0) if self.request() => quote!(rt::tm::t_newtran(cx)),
            ("t_check_trans", 0) => quote!(rt::tm::t_check_trans(cx)),
            ("t_reply", 2) => {
                let code = self.int(0)?;
                let reason = self.format(1)?;
                quote!(rt::tm::t_reply(cx, #code, #reason))
            }
            ("t_send_reply", 2) if request_side => {
                let code = self.int(0)?;
                let reason = self.format(1)?;
                quote!(rt::tm::t_send_reply(cx, #code, #reason))
            }
            ("t_reply_error", 0) if request_side => quote!(rt::tm::t_reply_error(cx)),
            ("t_on_failure" | "t_on_reply" | "t_on_branch", 1) => {
                let name = self.constant(0)?.as_text();
                let (kind, function) = match self.name() {
                    "t_on_failure" => (crate::modules::RouteKind::Failure, quote!(t_on_failure)),
                    "t_on_reply" => (crate::modules::RouteKind::Reply, quote!(t_on_reply)),
                    _ => (crate::modules::RouteKind::Branch, quote!(t_on_branch)),
                };
                let span = self.span(0);
                let number = self.f.g.tm_route_number(kind, name.trim(), span)?;
                quote!(rt::tm::#function(cx, #number))
            }
            ("t_is_canceled", 0) => quote!(rt::tm::t_is_canceled(cx)),
            ("t_is_expired", 0) => quote!(rt::tm::t_is_expired(cx)),
            ("t_any_timeout", 0) => quote!(rt::tm::t_any_timeout(cx)),
            ("t_any_replied", 0) => quote!(rt::tm::t_any_replied(cx)),
            ("t_branch_timeout", 0) => quote!(rt::tm::t_branch_timeout(cx)),
            ("t_branch_replied", 0) => quote!(rt::tm::t_branch_replied(cx)),
            ("t_set_fr", 1) => {
                let inv = self.int(0)?;
                quote!(rt::tm::t_set_fr(cx, #inv, None))
            }
            ("t_set_fr", 2) => {
                let inv = self.int(0)?;
                let noninv = self.int(1)?;
                quote!(rt::tm::t_set_fr(cx, #inv, Some(#noninv)))
            }
            ("t_reset_fr", 0) => quote!(rt::tm::t_reset_fr(cx)),
            ("t_drop_replies", 0) => quote!(rt::tm::t_drop_replies(cx, None)),
            ("t_drop_replies", 1) => {
                let mode = self.format(0)?;
                quote!(rt::tm::t_drop_replies(cx, Some::<&[u8]>(#mode)))
            }
            ("t_check_status", 1) => {
                let re = self.regex(0)?;
                quote!(rt::tm::t_check_status(cx, #re))
            }
            ("t_release", 0) => quote!(rt::tm::t_release(cx)),
            ("t_lookup_request", 0) => quote!(rt::tm::t_lookup_request(cx)),
            ("t_retransmit_reply", 0) => quote!(rt::tm::t_retransmit_reply(cx)),
            _ => return None,
        })
    }

    // ---- tmx ---------------------------------------------------------------------------

    fn tmx(&mut self) -> Option<TokenStream> {
        // The route type is known when the code is generated.
        let kind = self.f.kind;
        let answer = |yes: bool| if yes { quote!(1i32) } else { quote!(-1i32) };
        Some(match (self.name(), self.argc()) {
            ("t_is_failure_route", 0) => answer(kind == Kind::Failure),
            ("t_is_branch_route", 0) => answer(kind == Kind::Branch),
            ("t_is_reply_route", 0) => answer(kind == Kind::TmReply),
            ("t_is_request_route", 0) => answer(kind == Kind::Request),
            _ => return None,
        })
    }

    // ---- rr ----------------------------------------------------------------------------

    fn rr(&mut self) -> Option<TokenStream> {
        let request_side = self.request_side();
        Some(match (self.name(), self.argc()) {
            ("record_route", 0) if request_side => quote!(rt::rr::record_route(cx, None)),
            ("record_route", 1) if request_side => {
                let params = self.format(0)?;
                quote!(rt::rr::record_route(cx, Some::<&[u8]>(#params)))
            }
            ("record_route_preset", 1) if request_side => {
                let address = self.format(0)?;
                quote!(rt::rr::record_route_preset(cx, #address))
            }
            ("add_rr_param", 1) if request_side => {
                let param = self.format(0)?;
                quote!(rt::rr::add_rr_param(cx, #param))
            }
            ("loose_route", 0) if self.request() => quote!(rt::rr::loose_route(cx)),
            ("check_route_param", 1) => {
                let re = self.regex(0)?;
                quote!(rt::rr::check_route_param(cx, #re))
            }
            ("is_direction", 1) => {
                let direction = self.literal(0)?;
                quote!(rt::rr::is_direction(cx, #direction))
            }
            _ => return None,
        })
    }

    // ---- textops -----------------------------------------------------------------------

    fn textops(&mut self) -> Option<TokenStream> {
        let request = self.request_side();
        Some(match (self.name(), self.argc()) {
            ("is_method", 1) => {
                let text = self.constant(0)?.as_text();
                let names: Vec<&str> = text.split('|').map(str::trim).collect();
                let known: Vec<TokenStream> = names.iter().filter_map(|n| method_variant(n)).collect();
                if names.len() == 1 && known.is_empty() {
                    let lit = bytes_lit(names[0].as_bytes());
                    quote!(rt::textops::is_method(cx, rt::MethodSet(0), Some::<&[u8]>(#lit)))
                } else {
                    let bits = known.iter().map(|m| quote!(rt::MethodSet::bit(#m)));
                    quote!(rt::textops::is_method(cx, rt::MethodSet(#( #bits )|*), None))
                }
            }
            ("search", 1) => {
                let re = self.regex(0)?;
                quote!(rt::textops::search(cx, #re))
            }
            ("search_body", 1) => {
                let re = self.regex(0)?;
                quote!(rt::textops::search_body(cx, #re))
            }
            ("search_append", 2) => {
                let re = self.regex(0)?;
                let text = self.format(1)?;
                quote!(rt::textops::search_append(cx, #re, #text))
            }
            ("append_hf", 1) => {
                let line = self.format(0)?;
                quote!(rt::textops::append_hf(cx, #line))
            }
            ("append_hf", 2) => {
                let line = self.format(0)?;
                let after = self.literal(1)?;
                quote!(rt::textops::append_hf_after(cx, #line, #after))
            }
            ("insert_hf", 1) => {
                let line = self.format(0)?;
                quote!(rt::textops::insert_hf(cx, #line))
            }
            ("insert_hf", 2) => {
                let line = self.format(0)?;
                let before = self.literal(1)?;
                quote!(rt::textops::insert_hf_before(cx, #line, #before))
            }
            ("remove_hf", 1) => {
                let name = self.format(0)?;
                quote!(rt::textops::remove_hf(cx, #name))
            }
            ("remove_hf_re", 1) => {
                let re = self.regex(0)?;
                quote!(rt::textops::remove_hf_re(cx, #re))
            }
            ("is_present_hf", 1) => {
                let name = self.format(0)?;
                quote!(rt::textops::is_present_hf(cx, #name))
            }
            ("is_present_hf_re", 1) => {
                let re = self.regex(0)?;
                quote!(rt::textops::is_present_hf_re(cx, #re))
            }
            ("has_body", 0) => quote!(rt::textops::has_body(cx, None)),
            ("has_body", 1) => {
                let content_type = self.literal(0)?;
                quote!(rt::textops::has_body(cx, Some::<&[u8]>(#content_type)))
            }
            ("subst", 1) => {
                let subst = self.subst(0)?;
                quote!(rt::textops::subst(cx, #subst))
            }
            ("subst_uri", 1) if request => {
                let subst = self.subst(0)?;
                quote!(rt::textops::subst_uri(cx, #subst))
            }
            ("subst_user", 1) if request => {
                let subst = self.subst(0)?;
                quote!(rt::textops::subst_user(cx, #subst))
            }
            ("subst_body", 1) => {
                let subst = self.subst(0)?;
                quote!(rt::textops::subst_body(cx, #subst))
            }
            ("set_body", 2) => {
                let body = self.format(0)?;
                let content_type = self.format(1)?;
                quote!(rt::textops::set_body(cx, #body, #content_type))
            }
            _ => return None,
        })
    }

    // ---- pv ----------------------------------------------------------------------------

    fn pv(&mut self) -> Option<TokenStream> {
        Some(match (self.name(), self.argc()) {
            ("pv_isset", 1) => {
                let pv = self.pv_arg(0)?;
                let value = pv::read(self.f, &pv)?.val();
                quote!(if (#value).is_null() { -1 } else { 1 })
            }
            ("pv_unset", 1) => {
                let pv = self.pv_arg(0)?;
                let store = pv::assign(self.f, &pv, quote!(rt::Value::Null));
                quote!({ #store 1 })
            }
            ("is_int", 1) => {
                let pv = self.pv_arg(0)?;
                let value = pv::read(self.f, &pv)?.val();
                quote!(if matches!(#value, rt::Value::Int(_)) { 1 } else { -1 })
            }
            ("not_empty", 1) => {
                let pv = self.pv_arg(0)?;
                let value = pv::read(self.f, &pv)?.val();
                quote!(if matches!(&#value, rt::Value::Str(s) if !s.is_empty()) { 1 } else { -1 })
            }
            _ => return None,
        })
    }

    // ---- cfgutils ----------------------------------------------------------------------

    fn cfgutils(&mut self) -> Option<TokenStream> {
        Some(match (self.name(), self.argc()) {
            ("lock" | "unlock" | "trylock", 1 | 2) => {
                let slot = self.lock_slot()?;
                match self.name() {
                    "lock" => quote!(cx.shared.locks.lock(#slot)),
                    "unlock" => quote!(cx.shared.locks.unlock(#slot)),
                    _ => quote!(cx.shared.locks.try_lock(#slot)),
                }
            }
            ("rand_event", 0) => quote!(cx.shared.rand.event()),
            ("rand_set_prob", 1) => {
                let percent = self.int(0)?;
                quote!(cx.shared.rand.set(#percent))
            }
            ("rand_reset_prob", 0) => {
                let initial = i64::from(self.f.g.state.initial_probability);
                quote!(cx.shared.rand.set(#initial))
            }
            ("rand_get_prob", 0) => quote!(cx.shared.rand.get()),
            ("sleep", 1) => {
                let seconds = self.int(0)?;
                quote!(rt::cfgutils::sleep(cx, #seconds))
            }
            ("usleep", 1) => {
                let micros = self.int(0)?;
                quote!(rt::cfgutils::usleep(cx, #micros))
            }
            _ => return None,
        })
    }

    /// The lock slot of `lock(key[, key2])`: a constant for constant keys.
    fn lock_slot(&mut self) -> Option<TokenStream> {
        let slots = self.f.g.state.lock_slots;
        let constant_key = (0..self.argc()).map(|n| self.constant(n).map(|c| c.as_text())).collect::<Option<Vec<_>>>();
        if let Some(parts) = constant_key
            && parts.iter().all(|p| !p.contains('$'))
        {
            if slots == 0 {
                // No lock set: the lock functions fail.
                return Some(quote!(usize::MAX));
            }
            let key = bytes_lit(parts.concat().as_bytes());
            return Some(quote!({
                const SLOT: usize = rt::cfgutils::key_hash(#key) as usize % #slots;
                SLOT
            }));
        }
        let mut pieces = Vec::new();
        for n in 0..self.argc() {
            pieces.push(self.format(n)?);
        }
        let key = self.bind(quote!([#( #pieces ),*].concat()));
        Some(quote!(cx.shared.locks.slot_of(&#key)))
    }

    // ---- siputils ----------------------------------------------------------------------

    fn siputils(&mut self) -> Option<TokenStream> {
        let request = self.request_side();
        Some(match (self.name(), self.argc()) {
            ("has_totag", 0) => quote!(rt::siputils::has_totag(cx)),
            ("is_request", 0) => quote!(rt::siputils::is_request(cx)),
            ("is_reply", 0) => quote!(rt::siputils::is_reply(cx)),
            ("is_first_hop", 0) => quote!(rt::siputils::is_first_hop(cx)),
            ("uri_param", 1) => {
                let name = self.format(0)?;
                quote!(rt::siputils::uri_param(cx, #name, None))
            }
            ("uri_param", 2) => {
                let name = self.format(0)?;
                let value = self.format(1)?;
                quote!(rt::siputils::uri_param(cx, #name, Some::<&[u8]>(#value)))
            }
            ("is_user", 1) => {
                let user = self.format(0)?;
                quote!(rt::siputils::is_user(cx, #user))
            }
            ("add_uri_param", 1) if request => {
                let param = self.format(0)?;
                quote!(rt::siputils::add_uri_param(cx, #param))
            }
            ("is_e164", 1) => {
                let pv = self.pv_arg(0)?;
                let value = pv::read(self.f, &pv)?.bytes();
                let value = self.bind(value);
                quote!(rt::siputils::is_e164(&#value))
            }
            ("options_reply", 0) if self.request() => quote!(rt::siputils::options_reply(cx)),
            _ => return None,
        })
    }

    // ---- maxfwd ------------------------------------------------------------------------

    fn maxfwd(&mut self) -> Option<TokenStream> {
        if !self.request_side() {
            return None;
        }
        let max_limit = self.f.g.state.int_param("maxfwd", "max_limit").unwrap_or(70);
        Some(match (self.name(), self.argc()) {
            ("mf_process_maxfwd_header" | "maxfwd_process" | "process_maxfwd", 1) => {
                let initial = self.int(0)?;
                quote!(rt::maxfwd::process(cx, #initial, #max_limit))
            }
            ("is_maxfwd_lt", 1) => {
                let limit = self.int(0)?;
                quote!(rt::maxfwd::is_lt(cx, #limit))
            }
            _ => return None,
        })
    }

    // ---- sanity ------------------------------------------------------------------------

    fn sanity(&mut self) -> Option<TokenStream> {
        if self.name() != "sanity_check" || !self.request() {
            return None;
        }
        let checks = if self.argc() >= 1 { Some(self.int(0)?) } else { None };
        let uri_checks = if self.argc() >= 2 { Some(self.int(1)?) } else { None };
        let settings = self.f.g.sanity_settings();
        let checks = option_tokens(checks);
        let uri_checks = option_tokens(uri_checks);
        Some(quote!(rt::sanity::check(cx, #checks, #uri_checks, &#settings)))
    }

    // ---- xlog --------------------------------------------------------------------------

    fn xlog(&mut self) -> Option<TokenStream> {
        let argc = self.argc();
        let level: TokenStream = match (self.name(), argc) {
            ("xlog", 2 | 3) => self.level(argc - 2)?,
            ("xlog" | "xerr", 1) => log_level("L_ERR")?,
            ("xdbg", 1) => log_level("L_DBG")?,
            ("xinfo", 1) => log_level("L_INFO")?,
            ("xnotice", 1) => log_level("L_NOTICE")?,
            ("xwarn", 1) => log_level("L_WARN")?,
            ("xbug", 1) => log_level("L_BUG")?,
            ("xcrit", 1) => log_level("L_CRIT")?,
            ("xalert", 1) => log_level("L_ALERT")?,
            _ => return None,
        };
        let level = self.bind(level);
        // Build the text only when it will print.
        let first_local = self.first_local + self.lets.len();
        let mut inner = Args { f: &mut *self.f, call: self.call, lets: Vec::new(), first_local };
        let text = inner.format(argc - 1)?;
        let lets = inner.lets;
        Some(quote!({
            if rt::log::enabled(#level) {
                #( #lets )*
                rt::xlog::log(#level, #text);
            }
            1
        }))
    }

    /// A log level argument: a name (`L_INFO`), a number or a pseudo-variable.
    fn level(&mut self, n: usize) -> Option<TokenStream> {
        let text = self.constant(n)?.as_text();
        let text = text.trim();
        if let Some(level) = log_level(text) {
            return Some(level);
        }
        if let Ok(level) = text.parse::<i32>() {
            return Some(quote!(#level));
        }
        let value = self.pv_named(n, text)?.val();
        Some(quote!(rt::xlog::level_of(&#value)))
    }
}

fn option_tokens(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}

fn log_level(name: &str) -> Option<TokenStream> {
    Some(match name {
        "L_ALERT" => quote!(rt::log::L_ALERT),
        "L_BUG" => quote!(rt::log::L_BUG),
        "L_CRIT2" | "L_CRIT" => quote!(rt::log::L_CRIT),
        "L_ERR" => quote!(rt::log::L_ERR),
        "L_WARN" => quote!(rt::log::L_WARN),
        "L_NOTICE" => quote!(rt::log::L_NOTICE),
        "L_INFO" => quote!(rt::log::L_INFO),
        "L_DBG" => quote!(rt::log::L_DBG),
        _ => return None,
    })
}

/// `rt::Method::X` for a method Kamailio knows by id.
fn method_variant(name: &str) -> Option<TokenStream> {
    Some(match name.to_ascii_uppercase().as_str() {
        "INVITE" => quote!(rt::Method::Invite),
        "ACK" => quote!(rt::Method::Ack),
        "CANCEL" => quote!(rt::Method::Cancel),
        "BYE" => quote!(rt::Method::Bye),
        "OPTIONS" => quote!(rt::Method::Options),
        "REGISTER" => quote!(rt::Method::Register),
        "INFO" => quote!(rt::Method::Info),
        "UPDATE" => quote!(rt::Method::Update),
        "PRACK" => quote!(rt::Method::Prack),
        "SUBSCRIBE" => quote!(rt::Method::Subscribe),
        "NOTIFY" => quote!(rt::Method::Notify),
        "MESSAGE" => quote!(rt::Method::Message),
        "REFER" => quote!(rt::Method::Refer),
        "PUBLISH" => quote!(rt::Method::Publish),
        "KDMQ" => quote!(rt::Method::Kdmq),
        "GET" => quote!(rt::Method::Get),
        "POST" => quote!(rt::Method::Post),
        "PUT" => quote!(rt::Method::Put),
        "DELETE" => quote!(rt::Method::Delete),
        _ => return None,
    })
}

/// Tokens building the text of a format string into `rt::BytesMut`; `<null>` for unset
/// variables, as Kamailio prints them.
pub(crate) fn format_tokens(f: &mut FnGen<'_, '_>, parts: &[FormatPart]) -> Option<TokenStream> {
    let mut pushes = Vec::new();
    for part in parts {
        match part {
            FormatPart::Text(text) => {
                let lit = bytes_lit(text.as_bytes());
                pushes.push(quote!(text.extend_from_slice(#lit);));
            }
            FormatPart::Pv(pv) => {
                let value = pv::read(f, pv)?.val();
                pushes.push(quote!(rt::pv::print(&mut text, &#value);));
            }
        }
    }
    Some(quote!({
        let mut text = rt::BytesMut::new();
        #( #pushes )*
        text
    }))
}
