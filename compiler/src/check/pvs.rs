//! Pseudo-variables: known classes, inner names, writability, transformations.

use super::Context;
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::modules::{self as registry, PvClass, PvInner};
use crate::parse::ast::{Pv, PvIndex};
use crate::preprocess::Mode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// Where a pseudo-variable was written: as a script token, or inside a string (a format
/// string or a quoted PV name), where Kamailio never falls back to an AVP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Written {
    Script,
    Quoted,
}

pub(crate) fn check_pv(cx: &mut Context<'_>, pv: &Pv, item: usize, access: Access, written: Written) {
    for nested in &pv.nested {
        check_pv(cx, nested, item, Access::Read, written);
    }
    if let Some(PvIndex::Pv(index)) = &pv.index {
        check_pv(cx, index, item, Access::Read, written);
    }
    let Some(class) = find_class(cx, &pv.class, item) else {
        unknown_class(cx, pv, written);
        return;
    };
    match (class.inner, &pv.inner) {
        (PvInner::Required, None) => {
            cx.report(
                Diagnostic::new(Code::UnknownPv, pv.span, format!("`${}` needs a name in parentheses", pv.class))
                    .with_label("name missing")
                    .with_help(format!("write `${}(name)`", pv.class)),
            );
            return;
        }
        (PvInner::None, Some(inner)) => {
            cx.report(
                Diagnostic::new(Code::UnknownPv, pv.span, format!("`${}` takes no name", pv.class))
                    .with_label(format!("`({inner})` is not expected here"))
                    .with_help(format!("write `${}`", pv.class)),
            );
            return;
        }
        _ => {}
    }
    if let Some(inner) = &pv.inner
        && inner.trim().is_empty()
        && class.inner == PvInner::Required
    {
        cx.report(
            Diagnostic::new(Code::UnknownPv, pv.span, format!("empty name in `${}()`", pv.class))
                .with_help(format!("write `${}(name)`", pv.class)),
        );
    }
    if access == Access::Write {
        if !class.writable {
            let mut diagnostic = Diagnostic::new(Code::ReadonlyPv, pv.span, format!("`{}` is read-only", pv.display()))
                .with_label("cannot be assigned");
            diagnostic = diagnostic.with_help(writable_alternative(&pv.class));
            cx.report(diagnostic);
        } else if !pv.transforms.is_empty() {
            cx.report(
                Diagnostic::new(Code::ReadonlyPv, pv.span, "cannot assign to a pseudo-variable with a transformation")
                    .with_label("the transformation makes this a computed value")
                    .with_help(format!("assign to `${}` and transform when reading", base_name(pv))),
            );
        }
    }
    for transform in &pv.transforms {
        let visible = cx.analysis.visible_at(item).any(|m| m.transformations.contains(&transform.class.as_str()));
        if visible {
            continue;
        }
        let provider = registry::MODULES.iter().find(|m| m.transformations.contains(&transform.class.as_str()));
        if let Some(module) = provider {
            cx.missing
                .entry(module.name)
                .or_default()
                .push((transform.span, format!("transformation `{{{}.*}}`", transform.class)));
        } else if !cx.analysis.has_opaque_modules() {
            let known = registry::MODULES.iter().flat_map(|m| m.transformations.iter().copied());
            let mut diagnostic = Diagnostic::new(
                Code::UnknownPv,
                transform.span,
                format!("unknown transformation class `{}`", transform.class),
            )
            .with_label("no loaded module provides it");
            if let Some(s) = did_you_mean(&transform.class, known) {
                diagnostic = diagnostic.with_help(format!("did you mean `{{{s}.{}}}`?", transform.name));
            }
            cx.report(diagnostic);
        }
    }
}

fn base_name(pv: &Pv) -> String {
    match &pv.inner {
        Some(inner) => format!("{}({inner})", pv.class),
        None => pv.class.clone(),
    }
}

fn find_class(cx: &Context<'_>, name: &str, item: usize) -> Option<PvClass> {
    cx.analysis.visible_at(item).flat_map(|m| m.pvs.iter()).find(|c| c.name == name).copied()
}

fn unknown_class(cx: &mut Context<'_>, pv: &Pv, written: Written) {
    let provider = registry::MODULES.iter().skip(1).find(|m| m.pvs.iter().any(|c| c.name == pv.class));
    if let Some(module) = provider {
        cx.missing.entry(module.name).or_default().push((pv.span, format!("`{}`", pv.display())));
        return;
    }
    if cx.analysis.has_opaque_modules() {
        return;
    }
    let all = registry::MODULES.iter().flat_map(|m| m.pvs.iter().map(|c| c.name));
    let mut diagnostic =
        Diagnostic::new(Code::UnknownPv, pv.span, format!("unknown pseudo-variable `{}`", pv.display()))
            .with_label("no loaded module provides this class");
    let before_dot = pv.class.split('.').next().unwrap_or("");
    if pv.class.contains('.') && registry::MODULES.iter().any(|m| m.pvs.iter().any(|c| c.name == before_dot)) {
        diagnostic = diagnostic.with_help(format!(
            "in a format string `.` continues a pseudo-variable name; write `$({before_dot})` to end it before the `.`"
        ));
    } else if let Some(suggestion) = did_you_mean(&pv.class, all) {
        diagnostic = diagnostic.with_help(format!("did you mean `${suggestion}`?"));
    } else if pv.class.chars().all(|c| c.is_ascii_digit()) {
        diagnostic = diagnostic.with_help("in a format string write `$$` for a literal `$`");
    }
    if written == Written::Script && cx.mode != Mode::Kamailio && pv.inner.is_none() && pv.index.is_none() {
        diagnostic = diagnostic.with_note(format!(
            "without a `#!KAMAILIO` header Kamailio would read `${}` as an AVP; sipcfg asks you to write `$avp({})` for that",
            pv.class, pv.class
        ));
    }
    cx.report(diagnostic);
}

fn writable_alternative(class: &str) -> String {
    match class {
        "si" | "sp" | "Ri" | "Rp" => "the source and local addresses are facts about the received message".to_string(),
        "rm" | "ci" | "cs" => "headers are changed with textops functions (remove_hf/append_hf)".to_string(),
        "rs" | "rr" => "a reply's status is changed by the reply itself; see sl_forward_reply()".to_string(),
        "null" | "rc" | "retcode" | "?" => "this is a value, not a variable; store into `$var(name)`".to_string(),
        _ => "store the value in a variable such as `$var(name)` instead".to_string(),
    }
}
