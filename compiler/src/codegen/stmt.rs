//! Route functions and statements, with Kamailio's return-code rules: `last` holds the value
//! of the last action (what the block returns when it runs off its end), a function returning
//! 0 stops the script where the registry says it can, `return 0` stops it too.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{Generator, Kind, bytes_lit, pv};
use crate::check::{Constant, constant};
use crate::parse::ast::*;

/// Something `break` can leave.
enum Breakable {
    Loop,
    Switch(Ident),
}

/// Generates one function body.
pub(crate) struct FnGen<'g, 'a> {
    pub(crate) g: &'g mut Generator<'a>,
    pub(crate) kind: Kind,
    breakables: Vec<Breakable>,
    max_while_loops: i64,
}

/// `fn name(cx: &mut rt::Ctx<'_, Kind, Shared, Worker>) -> rt::Flow` over the blocks.
pub(crate) fn route_function(
    g: &mut Generator<'_>,
    name: &Ident,
    kind: Kind,
    doc: &str,
    blocks: &[&RouteBlock],
) -> TokenStream {
    let max_while_loops =
        g.fe.config
            .items
            .iter()
            .find_map(|item| match item {
                Item::Global(GlobalAssign { name, value: Spanned { node: GlobalValue::Int(n), .. }, .. })
                    if name.node == "max_while_loops" =>
                {
                    Some(*n)
                }
                _ => None,
            })
            .unwrap_or(100);
    let mut f = FnGen { g, kind, breakables: Vec::new(), max_while_loops };
    let body: Vec<TokenStream> = blocks.iter().map(|b| f.stmts(&b.body.stmts)).collect();
    let marker = kind.marker();
    quote! {
        #[doc = #doc]
        fn #name(cx: &mut rt::Ctx<'_, #marker, Shared, Worker>) -> rt::Flow {
            let mut last: i32 = 1;
            #( #body )*
            rt::Flow::Return(last)
        }
    }
}

impl FnGen<'_, '_> {
    fn stmts(&mut self, stmts: &[Stmt]) -> TokenStream {
        let code: Vec<TokenStream> = stmts.iter().map(|s| self.stmt(s)).collect();
        quote!( #( #code )* )
    }

    /// The body of an `if`/`while`: a block's statements go straight into Rust's braces.
    fn branch(&mut self, stmt: &Stmt) -> TokenStream {
        match &stmt.kind {
            StmtKind::Block(block) => self.stmts(&block.stmts),
            _ => self.stmt(stmt),
        }
    }

    fn stmt(&mut self, stmt: &Stmt) -> TokenStream {
        match &stmt.kind {
            StmtKind::Empty => quote!(),
            StmtKind::Block(block) => {
                let body = self.stmts(&block.stmts);
                quote!({ #body })
            }
            StmtKind::Call(call) => self.call_stmt(call),
            StmtKind::Route(route) => self.route_stmt(route),
            StmtKind::Assign { target, value } => {
                let value = self.assigned_value(value);
                let store = pv::assign(self, target, value);
                quote!(#store last = 1;)
            }
            StmtKind::If { cond, then, otherwise } => {
                let cond = self.cond(cond);
                let then = self.branch(then);
                let otherwise = match otherwise {
                    Some(s) => self.branch(s),
                    // An `if` whose branch did not run has the value 1.
                    None => quote!(last = 1;),
                };
                quote!(if #cond { #then } else { #otherwise })
            }
            StmtKind::While { cond, body } => {
                let cond = self.cond(cond);
                self.breakables.push(Breakable::Loop);
                let body = self.branch(body);
                self.breakables.pop();
                let limit = self.max_while_loops;
                let guard = if limit > 0 {
                    quote! {
                        if rounds >= #limit {
                            rt::log::runaway_while(#limit);
                            last = -1;
                            break;
                        }
                        rounds += 1;
                    }
                } else {
                    quote!()
                };
                // The loop's value is 1 until its body runs (action.c).
                quote!({
                    last = 1;
                    let mut rounds: i64 = 0;
                    while #cond {
                        #guard
                        #body
                    }
                })
            }
            StmtKind::Switch { subject, arms } => self.switch(subject, arms),
            StmtKind::Return(value) => match value.as_ref().map(constant) {
                None => quote!(return rt::Flow::Return(1);),
                Some(Some(Constant::Int(0))) => quote!(return rt::Flow::Exit(0);),
                Some(Some(c)) => {
                    let v = value_i32(&c);
                    quote!(return rt::Flow::Return(#v);)
                }
                Some(None) => {
                    let v = value.as_ref().map(|e| self.expr(e).int()).unwrap_or(quote!(1));
                    quote!({
                        let v = (#v) as i32;
                        return if v == 0 { rt::Flow::Exit(0) } else { rt::Flow::Return(v) };
                    })
                }
            },
            StmtKind::Exit(value) => {
                let v = match value {
                    None => quote!(1i32),
                    Some(e) => {
                        let v = self.expr(e).int();
                        quote!((#v) as i32)
                    }
                };
                quote!(return rt::Flow::Exit(#v);)
            }
            StmtKind::Drop(_) => quote!(return rt::Flow::Drop;),
            StmtKind::Break => match self.breakables.last() {
                Some(Breakable::Loop) => quote!(break;),
                Some(Breakable::Switch(label)) => {
                    let label = lifetime(label);
                    quote!(break #label;)
                }
                // Outside a loop or switch, `break` ends the route with 0.
                None => quote!(return rt::Flow::Return(0);),
            },
        }
    }

    /// `switch`: find the first matching arm (or `default`), then run every arm from there
    /// on until a `break` (C-style fall-through).
    fn switch(&mut self, subject: &Expr, arms: &[SwitchArm]) -> TokenStream {
        let label = self.g.fresh("switch");
        let subject = self.expr(subject).val();
        let mut tests = Vec::new();
        let mut default = None;
        for (index, arm) in arms.iter().enumerate() {
            match &arm.label {
                CaseLabel::Default => default = Some(index),
                CaseLabel::Value { value, regex } => {
                    let test = match (constant(value), regex) {
                        (Some(Constant::Int(n)), false) => quote!(subject.to_int() == #n),
                        (Some(Constant::Str(s)), false) => {
                            let lit = bytes_lit(s.as_bytes());
                            quote!(subject.to_bytes()[..] == #lit[..])
                        }
                        (Some(c), true) => {
                            let text = c.as_text();
                            let name = self.g.fresh("RE");
                            // Case labels match case-sensitively, unlike `=~`.
                            self.g.statics.push(quote! {
                                static #name: rt::LazyLock<rt::Regex> =
                                    rt::LazyLock::new(|| rt::Regex::new(#text).unwrap_or_else(|_| rt::textops::regex("[^\\s\\S]")));
                            });
                            quote!(#name.is_match(&subject.to_bytes()))
                        }
                        (None, _) => quote!(false),
                    };
                    tests.push(quote!(if #test { #index }));
                }
            }
        }
        let none = arms.len();
        let fallback = default.unwrap_or(none);
        self.breakables.push(Breakable::Switch(label.clone()));
        let bodies: Vec<TokenStream> = arms
            .iter()
            .enumerate()
            .map(|(index, arm)| {
                let body = self.stmts(&arm.body);
                quote!(if start <= #index { #body })
            })
            .collect();
        self.breakables.pop();
        let label = lifetime(&label);
        let chain = if tests.is_empty() { quote!(#fallback) } else { quote!(#( #tests else )* { #fallback }) };
        quote!(#label: {
            let subject: rt::Value = #subject;
            let start: usize = #chain;
            #( #bodies )*
        })
    }
}

fn lifetime(label: &Ident) -> syn::Lifetime {
    syn::Lifetime::new(&format!("'{label}"), label.span())
}

fn value_i32(c: &Constant) -> i32 {
    match c {
        Constant::Int(n) => *n as i32,
        Constant::Str(s) => s.trim().parse().unwrap_or(0),
    }
}
