//! Pseudo-variables: reads and assignments, resolved to fields and runtime getters.

use proc_macro2::TokenStream;
use quote::quote;

use super::bytes_lit;
use super::expr::{Code, Ty};
use super::stmt::FnGen;
use crate::parse::ast::{Pv, Transform};

/// Code reading `pv` (with its transformations), or `None` after reporting it unsupported.
pub(crate) fn read(f: &mut FnGen<'_, '_>, pv: &Pv) -> Option<Code> {
    if pv.index.is_some() {
        f.g.unsupported(pv.span, format!("the indexed pseudo-variable `{}`", pv.display()));
        return None;
    }
    if !pv.nested.is_empty() {
        f.g.unsupported(pv.span, format!("`{}` with a name computed at run time", pv.display()));
        return None;
    }
    let inner = pv.inner.as_deref().unwrap_or("").trim();
    let tokens = match pv.class.as_str() {
        "var" => {
            let field = f.g.state.var(inner);
            quote!(cx.worker.#field.clone())
        }
        "shv" => {
            let field = f.g.state.shv(inner);
            quote!(cx.shared.#field.get())
        }
        "ru" => quote!(rt::pv::ru(cx)),
        "rU" => quote!(rt::pv::r_user(cx)),
        "rd" => quote!(rt::pv::r_domain(cx)),
        "rp" => quote!(rt::pv::r_port(cx)),
        "du" => quote!(rt::pv::du(cx)),
        "fu" | "fU" | "fd" | "fn" | "ft" | "tu" | "tU" | "td" | "tn" | "tt" => {
            let part = pv.class.as_bytes()[1];
            if pv.class.starts_with('f') { quote!(rt::pv::from(cx, #part)) } else { quote!(rt::pv::to(cx, #part)) }
        }
        "ci" => quote!(rt::pv::call_id(cx)),
        "cs" => quote!(rt::pv::cseq(cx)),
        "rm" => quote!(rt::pv::method(cx)),
        "rs" => quote!(rt::pv::status(cx)),
        "rr" => quote!(rt::pv::reason(cx)),
        "si" => quote!(rt::pv::src_ip(cx)),
        "sp" => quote!(rt::pv::src_port(cx)),
        "Ri" => quote!(rt::pv::local_ip(cx)),
        "Rp" => quote!(rt::pv::local_port(cx)),
        "pr" | "proto" => quote!(rt::pv::proto(cx)),
        "ua" => quote!(rt::pv::user_agent(cx)),
        "ml" => quote!(rt::pv::msg_len(cx)),
        "mb" => quote!(rt::pv::msg_buf(cx)),
        "rb" => quote!(rt::pv::body(cx)),
        "cl" => quote!(rt::pv::content_length(cx)),
        "ct" => quote!(rt::pv::contact(cx)),
        "cT" => quote!(rt::pv::content_type(cx)),
        "mf" => quote!(rt::pv::flags(cx)),
        "br" => quote!(rt::pv::branch(cx)),
        "rc" | "retcode" | "?" => quote!(rt::pv::rc(cx)),
        "null" => quote!(rt::Value::Null),
        "Ts" => quote!(rt::pv::unix_time()),
        "T_reply_code" => quote!(rt::tm::reply_code(cx)),
        "T_reply_reason" => quote!(rt::tm::reply_reason(cx)),
        "T_branch_idx" => quote!(rt::tm::branch_index(cx)),
        "hdr" => {
            let name = bytes_lit(inner.as_bytes());
            quote!(rt::pv::header(cx, #name))
        }
        "hdrc" => {
            let name = bytes_lit(inner.as_bytes());
            quote!(rt::pv::header_count(cx, #name))
        }
        "env" => quote!(rt::pv::env_var(#inner)),
        _ => {
            f.g.unsupported(pv.span, format!("the pseudo-variable `{}`", pv.display()));
            return None;
        }
    };
    let mut code = Code { tokens, ty: Ty::Val };
    for transform in &pv.transforms {
        code = apply_transform(f, code, transform)?;
    }
    Some(code)
}

fn apply_transform(f: &mut FnGen<'_, '_>, code: Code, transform: &Transform) -> Option<Code> {
    let value = code.val();
    let (tokens, ty) = match (transform.class.as_str(), transform.name.as_str(), transform.params.as_slice()) {
        ("s", "len", []) => (quote!(rt::ops::strlen(&#value)), Ty::Int),
        ("s", "int", []) => (quote!((#value).to_int()), Ty::Int),
        ("s", "tolower", []) => {
            (quote!(rt::Value::Str(rt::Bytes::from((#value).to_bytes().to_ascii_lowercase()))), Ty::Val)
        }
        ("s", "toupper", []) => {
            (quote!(rt::Value::Str(rt::Bytes::from((#value).to_bytes().to_ascii_uppercase()))), Ty::Val)
        }
        ("s", "substr", [offset, length]) => {
            let (Ok(offset), Ok(length)) = (offset.trim().parse::<usize>(), length.trim().parse::<usize>()) else {
                f.g.unsupported(transform.span, format!("`{{{}}}` with these parameters", transform.text));
                return None;
            };
            (
                quote!({
                    let bytes = (#value).to_bytes();
                    let start = #offset.min(bytes.len());
                    let end = if #length == 0 { bytes.len() } else { (start + #length).min(bytes.len()) };
                    rt::Value::Str(bytes.slice(start..end))
                }),
                Ty::Val,
            )
        }
        ("uri", "user" | "host" | "port", []) => {
            let part = match transform.name.as_str() {
                "user" => quote!(u.user().map(|x| x.to_vec())),
                "host" => quote!(Some(u.host().to_vec())),
                _ => quote!(u.port_text().map(|x| x.to_vec())),
            };
            (
                quote!({
                    let bytes = (#value).to_bytes();
                    match rt::Uri::parse(&bytes).ok().and_then(|u| #part) {
                        Some(part) if !part.is_empty() => rt::Value::Str(rt::Bytes::from(part)),
                        _ => rt::Value::Null,
                    }
                }),
                Ty::Val,
            )
        }
        _ => {
            f.g.unsupported(transform.span, format!("the transformation `{{{}}}`", transform.text));
            return None;
        }
    };
    Some(Code { tokens, ty })
}

/// `target = value;` as a statement.
pub(crate) fn assign(f: &mut FnGen<'_, '_>, target: &Pv, value: TokenStream) -> TokenStream {
    let inner = target.inner.as_deref().unwrap_or("").trim();
    match target.class.as_str() {
        "var" if target.index.is_none() && target.nested.is_empty() => {
            let field = f.g.state.var(inner);
            quote!(cx.worker.#field = rt::pv::var_value(#value);)
        }
        "shv" if target.index.is_none() && target.nested.is_empty() => {
            let field = f.g.state.shv(inner);
            quote!(cx.shared.#field.set(rt::pv::var_value(#value));)
        }
        "ru" | "rU" | "rd" | "rp" | "du" => {
            let setter = match target.class.as_str() {
                "ru" => quote!(set_ru),
                "rU" => quote!(set_r_user),
                "rd" => quote!(set_r_domain),
                "rp" => quote!(set_r_port),
                _ => quote!(set_du),
            };
            quote!({
                let value = #value;
                rt::pv::#setter(cx, &value);
            })
        }
        _ => {
            f.g.unsupported(target.span, format!("assigning to `{}`", target.display()));
            quote!()
        }
    }
}
