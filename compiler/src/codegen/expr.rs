//! Expressions, with static types where they are known so that integer arithmetic and
//! comparisons stay plain Rust; only pseudo-variables and mixed cases go through
//! `rt::Value` and Kamailio's operators.

use std::net::IpAddr;

use proc_macro2::TokenStream;
use quote::quote;

use super::stmt::FnGen;
use super::{bytes_lit, calls, pv};
use crate::check::{Constant, constant};
use crate::parse::ast::*;

/// What Rust type an expression's tokens evaluate to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Bool,
    Int,
    Val,
}

#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub(crate) tokens: TokenStream,
    pub(crate) ty: Ty,
}

impl Code {
    fn new(tokens: TokenStream, ty: Ty) -> Code {
        Code { tokens, ty }
    }

    pub(crate) fn bool(self) -> TokenStream {
        let t = self.tokens;
        match self.ty {
            Ty::Bool => t,
            Ty::Int => quote!((#t) > 0),
            Ty::Val => quote!((#t).truthy()),
        }
    }

    pub(crate) fn int(self) -> TokenStream {
        let t = self.tokens;
        match self.ty {
            Ty::Bool => quote!(i64::from(#t)),
            Ty::Int => t,
            Ty::Val => quote!((#t).to_int()),
        }
    }

    pub(crate) fn val(self) -> TokenStream {
        let t = self.tokens;
        match self.ty {
            Ty::Bool => quote!(rt::Value::Int(i64::from(#t))),
            Ty::Int => quote!(rt::Value::Int(#t)),
            Ty::Val => t,
        }
    }

    /// The value as bytes (`Bytes`).
    pub(crate) fn bytes(self) -> TokenStream {
        let v = self.val();
        quote!((#v).to_bytes())
    }
}

impl FnGen<'_, '_> {
    pub(crate) fn cond(&mut self, e: &Expr) -> TokenStream {
        self.expr(e).bool()
    }

    /// An expression as an operand: calls count as 1 if they returned > 0, else 0.
    pub(crate) fn expr(&mut self, e: &Expr) -> Code {
        if let Some(value) = constant(e) {
            return constant_code(&value);
        }
        match &e.kind {
            ExprKind::Int(n) => Code::new(quote!(#n), Ty::Int),
            ExprKind::Str(s) => {
                let lit = bytes_lit(s.as_bytes());
                Code::new(quote!(rt::Value::str(#lit)), Ty::Val)
            }
            ExprKind::Pv(p) => match pv::read(self, p) {
                Some(code) => code,
                None => unsupported_code(),
            },
            ExprKind::Call(call) => {
                let raw = self.call_value(call);
                Code::new(quote!((#raw) > 0), Ty::Bool)
            }
            ExprKind::Route(route) => {
                let raw = self.route_value(route);
                Code::new(quote!((#raw) > 0), Ty::Bool)
            }
            ExprKind::Unary { op, operand } => self.unary(*op, operand),
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, e.span),
            ExprKind::Strlen(inner) => {
                let v = self.expr(inner).val();
                Code::new(quote!(rt::ops::strlen(&#v)), Ty::Int)
            }
            ExprKind::Strempty(inner) => {
                let v = self.expr(inner).val();
                Code::new(quote!(rt::ops::strempty(&#v)), Ty::Bool)
            }
            ExprKind::Selval { cond, then, otherwise } => {
                let c = self.cond(cond);
                let a = self.expr(then).val();
                let b = self.expr(otherwise).val();
                Code::new(quote!(if #c { #a } else { #b }), Ty::Val)
            }
            ExprKind::Select(name) => {
                self.g.unsupported(e.span, format!("the select `@{name}`"));
                unsupported_code()
            }
            ExprKind::Keyword(_) | ExprKind::Myself | ExprKind::Ip(_) | ExprKind::Word(_) => {
                // The checker only lets these appear inside keyword comparisons.
                self.g.unsupported(e.span, "this keyword operand");
                unsupported_code()
            }
        }
    }

    /// The right side of `$x = e`: a bare call keeps its raw code (`$var(r) = f();`).
    pub(crate) fn assigned_value(&mut self, e: &Expr) -> TokenStream {
        match &e.kind {
            ExprKind::Call(call) => {
                let raw = self.call_value(call);
                quote!(rt::Value::Int(i64::from(#raw)))
            }
            ExprKind::Route(route) => {
                let raw = self.route_value(route);
                quote!(rt::Value::Int(i64::from(#raw)))
            }
            _ => self.expr(e).val(),
        }
    }

    /// A call as a statement: `last` takes its code.
    pub(crate) fn call_stmt(&mut self, call: &Call) -> TokenStream {
        let Some(generated) = calls::call(self, call) else { return quote!() };
        let code = generated.tokens;
        let stop = if generated.can_stop {
            quote!(if last == 0 {
                return rt::Flow::Exit(0);
            })
        } else {
            quote!()
        };
        quote! {
            last = #code;
            cx.env.rc = last;
            #stop
        }
    }

    /// `route(X);` as a statement.
    pub(crate) fn route_stmt(&mut self, route: &RouteRef) -> TokenStream {
        let RouteTarget::Name(name) = &route.target else {
            self.g.unsupported(route.span, "`route()` with a run-time name");
            return quote!();
        };
        let Some(function) = self.g.route_target(&name.node, self.kind, route.span) else { return quote!() };
        quote! {
            last = match #function(cx) {
                rt::Flow::Return(v) => v,
                stop => return stop,
            };
            cx.env.rc = last;
        }
    }

    /// A call as a value: its raw code, with `$rc` set and the script stopped on 0.
    pub(crate) fn call_value(&mut self, call: &Call) -> TokenStream {
        let Some(generated) = calls::call(self, call) else { return quote!(1i32) };
        let code = generated.tokens;
        let stop = if generated.can_stop {
            quote!(if r == 0 {
                return rt::Flow::Exit(0);
            })
        } else {
            quote!()
        };
        quote!({ let r: i32 = #code; cx.env.rc = r; #stop r })
    }

    /// `route(X)` as a value: X's return value; `exit`/`drop` inside X stop everything.
    pub(crate) fn route_value(&mut self, route: &RouteRef) -> TokenStream {
        let RouteTarget::Name(name) = &route.target else {
            self.g.unsupported(route.span, "`route()` with a run-time name");
            return quote!(1i32);
        };
        let Some(function) = self.g.route_target(&name.node, self.kind, route.span) else { return quote!(1i32) };
        quote!({
            match #function(cx) {
                rt::Flow::Return(v) => {
                    cx.env.rc = v;
                    v
                }
                stop => return stop,
            }
        })
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr) -> Code {
        match op {
            UnaryOp::Not => {
                // C's `!` (rvalue.c): 1 for 0, else 0; on a call's truth value, plain negation.
                let v = self.expr(operand);
                if v.ty == Ty::Bool {
                    let b = v.tokens;
                    return Code::new(quote!(!(#b)), Ty::Bool);
                }
                let v = v.int();
                Code::new(quote!((#v) == 0), Ty::Bool)
            }
            UnaryOp::Neg => {
                let v = self.expr(operand).int();
                Code::new(quote!((#v).wrapping_neg()), Ty::Int)
            }
            UnaryOp::BitNot => {
                let v = self.expr(operand).int();
                Code::new(quote!(!(#v)), Ty::Int)
            }
            UnaryOp::Defined => match &operand.kind {
                ExprKind::Pv(_) => {
                    let v = self.expr(operand).val();
                    Code::new(quote!(!(#v).is_null()), Ty::Bool)
                }
                // Anything but a pseudo-variable is defined.
                _ => Code::new(quote!(true), Ty::Bool),
            },
            UnaryOp::IntCast => {
                let v = self.expr(operand).int();
                Code::new(v, Ty::Int)
            }
            UnaryOp::StrCast => {
                let v = self.expr(operand).val();
                Code::new(quote!(rt::ops::to_str(&#v)), Ty::Val)
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, left: &Expr, right: &Expr, span: crate::source::Span) -> Code {
        if let ExprKind::Keyword(keyword) = &left.kind {
            return self.keyword_comparison(*keyword, op, right, span);
        }
        if let (ExprKind::Myself, ExprKind::Keyword(keyword)) = (&left.kind, &right.kind) {
            return self.keyword_comparison(*keyword, op, left, span);
        }
        match op {
            BinaryOp::Or | BinaryOp::And => {
                let l = self.cond(left);
                let r = self.cond(right);
                let tokens = if op == BinaryOp::Or { quote!((#l) || (#r)) } else { quote!((#l) && (#r)) };
                Code::new(tokens, Ty::Bool)
            }
            BinaryOp::BitOr
            | BinaryOp::BitAnd
            | BinaryOp::BitXor
            | BinaryOp::Shl
            | BinaryOp::Shr
            | BinaryOp::Sub
            | BinaryOp::Mul => {
                let l = self.expr(left).int();
                let r = self.expr(right).int();
                let tokens = match op {
                    BinaryOp::BitOr => quote!((#l) | (#r)),
                    BinaryOp::BitAnd => quote!((#l) & (#r)),
                    BinaryOp::BitXor => quote!((#l) ^ (#r)),
                    BinaryOp::Shl => quote!((#l).wrapping_shl((#r) as u32)),
                    BinaryOp::Shr => quote!((#l).wrapping_shr((#r) as u32)),
                    BinaryOp::Sub => quote!((#l).wrapping_sub(#r)),
                    _ => quote!((#l).wrapping_mul(#r)),
                };
                Code::new(tokens, Ty::Int)
            }
            BinaryOp::Div | BinaryOp::Mod => {
                let l = self.expr(left).int();
                let r = self.expr(right).int();
                let tokens =
                    if op == BinaryOp::Div { quote!(rt::ops::div(#l, #r)) } else { quote!(rt::ops::rem(#l, #r)) };
                Code::new(tokens, Ty::Val)
            }
            BinaryOp::Add => {
                let l = self.expr(left);
                match l.ty {
                    Ty::Int | Ty::Bool => {
                        let l = l.int();
                        let r = self.expr(right).int();
                        Code::new(quote!((#l).wrapping_add(#r)), Ty::Int)
                    }
                    Ty::Val => {
                        let l = l.tokens;
                        let r = self.expr(right).val();
                        Code::new(quote!(rt::ops::add(&#l, &#r)), Ty::Val)
                    }
                }
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let l = self.expr(left);
                let equal = match l.ty {
                    Ty::Int | Ty::Bool => {
                        let l = l.int();
                        let r = self.expr(right).int();
                        quote!((#l) == (#r))
                    }
                    Ty::Val => {
                        let l = l.tokens;
                        let r = self.expr(right).val();
                        quote!(rt::ops::eq(&#l, &#r))
                    }
                };
                Code::new(if op == BinaryOp::Eq { equal } else { quote!(!(#equal)) }, Ty::Bool)
            }
            BinaryOp::StrEq | BinaryOp::StrNe => {
                let l = self.expr(left).val();
                let r = self.expr(right).val();
                let equal = quote!(rt::ops::str_eq(&#l, &#r));
                Code::new(if op == BinaryOp::StrEq { equal } else { quote!(!(#equal)) }, Ty::Bool)
            }
            BinaryOp::IntEq | BinaryOp::IntNe => {
                let l = self.expr(left).int();
                let r = self.expr(right).int();
                Code::new(if op == BinaryOp::IntEq { quote!((#l) == (#r)) } else { quote!((#l) != (#r)) }, Ty::Bool)
            }
            BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge => {
                let l = self.expr(left).int();
                let r = self.expr(right).int();
                let tokens = match op {
                    BinaryOp::Lt => quote!((#l) < (#r)),
                    BinaryOp::Gt => quote!((#l) > (#r)),
                    BinaryOp::Le => quote!((#l) <= (#r)),
                    _ => quote!((#l) >= (#r)),
                };
                Code::new(tokens, Ty::Bool)
            }
            BinaryOp::Match => {
                let subject = self.expr(left).bytes();
                self.regex_match(subject, right)
            }
        }
    }

    /// `subject =~ pattern`: POSIX-style, case-insensitive, unanchored; a constant pattern is
    /// compiled once.
    fn regex_match(&mut self, subject: TokenStream, pattern: &Expr) -> Code {
        let re = match constant(pattern) {
            Some(value) => {
                let text = value.as_text();
                let name = self.g.fresh("RE");
                self.g.statics.push(quote! {
                    static #name: rt::LazyLock<rt::Regex> = rt::LazyLock::new(|| rt::textops::regex(#text));
                });
                quote!(#name)
            }
            None => {
                let p = self.expr(pattern).bytes();
                quote!(rt::textops::regex(&String::from_utf8_lossy(&#p)))
            }
        };
        Code::new(quote!(#re.is_match(&#subject)), Ty::Bool)
    }

    fn keyword_comparison(&mut self, keyword: Keyword, op: BinaryOp, right: &Expr, span: crate::source::Span) -> Code {
        let negate = matches!(op, BinaryOp::Ne | BinaryOp::StrNe | BinaryOp::IntNe);
        let code = match keyword {
            Keyword::Method | Keyword::Uri | Keyword::Status | Keyword::FromUri | Keyword::ToUri => {
                let subject = match keyword {
                    Keyword::Method => quote!(rt::core::keywords::method(cx)),
                    Keyword::Uri => quote!(rt::core::keywords::uri(cx)),
                    Keyword::FromUri => quote!(rt::core::keywords::from_uri(cx)),
                    Keyword::ToUri => quote!(rt::core::keywords::to_uri(cx)),
                    _ => quote!(&rt::core::keywords::status(cx)[..]),
                };
                match (&right.kind, op) {
                    (ExprKind::Myself, _) => quote!(rt::core::keywords::uri_is_myself(cx.io, #subject)),
                    (_, BinaryOp::Match) => {
                        let subject = quote!(#subject);
                        return self.regex_match(subject, right);
                    }
                    (ExprKind::Word(word), _) => {
                        let lit = bytes_lit(word.as_bytes());
                        quote!(rt::core::keywords::text_eq(#subject, #lit))
                    }
                    _ => {
                        let r = self.expr(right).bytes();
                        quote!(rt::core::keywords::text_eq(#subject, &#r))
                    }
                }
            }
            Keyword::SrcIp | Keyword::DstIp => {
                let ip = if keyword == Keyword::SrcIp {
                    quote!(rt::core::keywords::src_ip(cx))
                } else {
                    quote!(rt::core::keywords::dst_ip(cx))
                };
                match &right.kind {
                    ExprKind::Myself => quote!(rt::core::keywords::ip_is_myself(cx.io, #ip)),
                    ExprKind::Ip(text) => match ip_net(text) {
                        Some(net) => quote!(#net.contains(#ip)),
                        None => {
                            self.g.unsupported(right.span, format!("the address `{text}`"));
                            quote!(false)
                        }
                    },
                    ExprKind::Word(host) => {
                        self.g.unsupported(right.span, format!("comparing an address with the host name `{host}`"));
                        quote!(false)
                    }
                    _ if op == BinaryOp::Match => {
                        let subject = quote!(#ip.to_string().as_bytes());
                        return self.regex_match(subject, right);
                    }
                    _ => {
                        let r = self.expr(right).bytes();
                        quote!(rt::core::keywords::ip_text_is(&#r, #ip))
                    }
                }
            }
            Keyword::SrcPort | Keyword::DstPort | Keyword::Af | Keyword::MsgLen => {
                let l = match keyword {
                    Keyword::SrcPort => quote!(rt::core::keywords::src_port(cx)),
                    Keyword::DstPort => quote!(rt::core::keywords::dst_port(cx)),
                    Keyword::Af => quote!(rt::core::keywords::af(cx)),
                    _ => quote!(rt::core::keywords::msg_len(cx)),
                };
                let r = match &right.kind {
                    ExprKind::Word(w) if keyword == Keyword::Af => {
                        if w.to_ascii_lowercase().ends_with('6') {
                            quote!(10i64)
                        } else {
                            quote!(2i64)
                        }
                    }
                    _ => self.expr(right).int(),
                };
                let tokens = match op {
                    BinaryOp::Eq | BinaryOp::IntEq => quote!((#l) == (#r)),
                    BinaryOp::Ne | BinaryOp::IntNe => return Code::new(quote!((#l) != (#r)), Ty::Bool),
                    BinaryOp::Lt => quote!((#l) < (#r)),
                    BinaryOp::Gt => quote!((#l) > (#r)),
                    BinaryOp::Le => quote!((#l) <= (#r)),
                    _ => quote!((#l) >= (#r)),
                };
                return Code::new(tokens, Ty::Bool);
            }
            Keyword::Proto => {
                let proto = match &right.kind {
                    ExprKind::Word(w) => transport(w),
                    _ => None,
                };
                match proto {
                    Some(p) => quote!(rt::core::keywords::proto_is(cx, #p)),
                    None => {
                        self.g.unsupported(right.span, "this `proto` comparison");
                        quote!(false)
                    }
                }
            }
            _ => {
                self.g.unsupported(span, format!("`{}`", keyword.as_str()));
                quote!(false)
            }
        };
        Code::new(if negate { quote!(!(#code)) } else { code }, Ty::Bool)
    }
}

fn transport(word: &str) -> Option<TokenStream> {
    Some(match word.to_ascii_lowercase().as_str() {
        "udp" => quote!(rt::Transport::Udp),
        "tcp" => quote!(rt::Transport::Tcp),
        "tls" => quote!(rt::Transport::Tls),
        "sctp" => quote!(rt::Transport::Sctp),
        "ws" => quote!(rt::Transport::Ws),
        "wss" => quote!(rt::Transport::Wss),
        _ => return None,
    })
}

/// `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `192.0.2.1`, `[::1]` as an `rt::IpNet`.
fn ip_net(text: &str) -> Option<TokenStream> {
    let (address, mask) = match text.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (text, None),
    };
    let address: IpAddr = address.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    let full = if address.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = match mask {
        None => full,
        Some(m) => match m.parse::<u8>() {
            Ok(bits) if bits <= full => bits,
            _ => match m.parse::<std::net::Ipv4Addr>() {
                Ok(netmask) => u32::from(netmask).count_ones() as u8,
                Err(_) => return None,
            },
        },
    };
    Some(match address {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            quote!(rt::IpNet::v4([#a, #b, #c, #d], #prefix))
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            quote!(rt::IpNet::v6([#(#segments),*], #prefix))
        }
    })
}

pub(crate) fn constant_code(value: &Constant) -> Code {
    match value {
        Constant::Int(n) => Code::new(quote!(#n), Ty::Int),
        Constant::Str(s) => {
            let lit = bytes_lit(s.as_bytes());
            Code::new(quote!(rt::Value::str(#lit)), Ty::Val)
        }
    }
}

fn unsupported_code() -> Code {
    Code::new(quote!(rt::Value::Null), Ty::Val)
}
