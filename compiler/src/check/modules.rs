//! `loadmodule` and `modparam`: known modules, dependencies, parameter names and values.

use super::{Context, LoadedModule};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::modules::{self as registry, Lookup, ParamType, ParamValue};
use crate::parse::ast::{Item, ModParamValue};

/// `modparam`'s module name: an anchored, case-insensitive regular expression over module
/// names. Nearly always a plain name, which is compared without building a regex.
enum ModulePattern {
    Name(String),
    Regex(regex::Regex),
}

impl ModulePattern {
    fn new(pattern: &str) -> Result<Self, regex::Error> {
        if pattern.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Ok(ModulePattern::Name(pattern.to_string()));
        }
        regex::Regex::new(&format!("(?i)^(?:{pattern})$")).map(ModulePattern::Regex)
    }

    fn is_match(&self, module: &str) -> bool {
        match self {
            ModulePattern::Name(name) => name.eq_ignore_ascii_case(module),
            ModulePattern::Regex(regex) => regex.is_match(module),
        }
    }
}

/// The `loadmodule` line users should add for a module.
pub(crate) fn loadmodule_line(module: &str) -> String {
    format!("loadmodule \"{module}.so\"")
}

pub(super) fn check_loads(cx: &mut Context<'_>) {
    for (index, item) in cx.config.items.iter().enumerate() {
        let Item::LoadModule(load) = item else { continue };
        let lookup = registry::lookup(&load.name);
        if let Some(first) = cx.analysis.modules.iter().find(|m| m.name == load.name) {
            let first_span = first.span;
            cx.report(
                Diagnostic::new(Code::DuplicateModule, load.span, format!("module `{}` is loaded twice", load.name))
                    .with_label("loaded again here")
                    .with_secondary(first_span, "first loaded here")
                    .with_help("remove one of the `loadmodule` lines; Kamailio refuses to start otherwise"),
            );
            continue;
        }
        match lookup {
            Lookup::Supported(_) => {}
            Lookup::Unsupported(name) => cx.report(
                Diagnostic::new(
                    Code::UnsupportedModule,
                    load.path.span,
                    format!("module `{name}` is not supported by sipcfg"),
                )
                .with_label("a Kamailio module sipcfg does not implement yet")
                .with_note(format!(
                    "sipcfg implements: {}",
                    registry::MODULES.iter().skip(1).map(|m| m.name).collect::<Vec<_>>().join(", ")
                )),
            ),
            Lookup::Unknown => {
                let mut diagnostic =
                    Diagnostic::new(Code::UnknownModule, load.path.span, format!("unknown module `{}`", load.name))
                        .with_label("no Kamailio module has this name");
                if let Some(suggestion) = did_you_mean(&load.name, registry::all_module_names()) {
                    diagnostic = diagnostic.with_help(format!("did you mean `{}`?", loadmodule_line(suggestion)));
                }
                cx.report(diagnostic);
            }
        }
        cx.analysis.modules.push(LoadedModule { name: load.name.clone(), lookup, span: load.span, item: index });
    }
    check_dependencies(cx);
}

fn check_dependencies(cx: &mut Context<'_>) {
    let mut missing = Vec::new();
    for loaded in &cx.analysis.modules {
        let Lookup::Supported(module) = loaded.lookup else { continue };
        for needed in module.requires {
            if !cx.analysis.modules.iter().any(|m| m.name == *needed) {
                missing.push((loaded.span, module.name, *needed));
            }
        }
    }
    for (span, module, needed) in missing {
        cx.report(
            Diagnostic::new(Code::MissingDependency, span, format!("module `{module}` needs module `{needed}`"))
                .with_label(format!("`{module}` cannot start without `{needed}`"))
                .with_note("`kamailio -c` accepts this config, but Kamailio fails when the module initialises")
                .with_help(format!("add `{}`", loadmodule_line(needed))),
        );
    }
}

pub(super) fn check_modparams(cx: &mut Context<'_>) {
    for (index, item) in cx.config.items.iter().enumerate() {
        let Item::ModParam(modparam) = item else { continue };
        let regex = match ModulePattern::new(&modparam.module.node) {
            Ok(pattern) => pattern,
            Err(_) => {
                cx.report(
                    Diagnostic::new(
                        Code::UnknownModule,
                        modparam.module.span,
                        "module name is not a valid regular expression",
                    )
                    .with_help("write the module name, or several as `\"mod1|mod2\"`"),
                );
                continue;
            }
        };
        let matched: Vec<&LoadedModule> =
            cx.analysis.modules.iter().filter(|m| m.item < index && regex.is_match(&m.name)).collect();
        if matched.is_empty() {
            report_unmatched_modparam(cx, &regex, modparam, index);
            continue;
        }
        let mut reports = Vec::new();
        // With several modules matched (`"mod1|mod2"`), Kamailio sets the parameter in those
        // that have it and fails only if none does.
        let opaque_match = matched.iter().any(|m| !matches!(m.lookup, Lookup::Supported(_)));
        let with_param: Vec<_> = matched
            .iter()
            .filter_map(|m| match m.lookup {
                Lookup::Supported(module) => {
                    module.params.iter().find(|p| p.name == modparam.param.node).map(|p| (module, p))
                }
                _ => None,
            })
            .collect();
        if with_param.is_empty() && !opaque_match {
            let names: Vec<&str> = matched.iter().map(|m| m.name.as_str()).collect();
            let candidates = matched.iter().filter_map(|m| match m.lookup {
                Lookup::Supported(module) => Some(module.params.iter().map(|p| p.name)),
                _ => None,
            });
            let mut diagnostic = Diagnostic::new(
                Code::UnknownModparam,
                modparam.param.span,
                format!("module `{}` has no parameter `{}`", names.join("`, `"), modparam.param.node),
            )
            .with_label("unknown parameter");
            if let Some(suggestion) = did_you_mean(&modparam.param.node, candidates.flatten()) {
                diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
            }
            reports.push(diagnostic);
        }
        for (module, param) in with_param {
            let value = match &modparam.value.node {
                ModParamValue::Int(n) => ParamValue::Int(*n),
                ModParamValue::Str(s) => ParamValue::Str(s.clone()),
                ModParamValue::Ident(word) => {
                    reports.push(
                        Diagnostic::new(
                            Code::BadModparamValue,
                            modparam.value.span,
                            format!("`{word}` is not a value"),
                        )
                        .with_label("a bare word")
                        .with_help(format!(
                            "if `{word}` is a `#!define`, define it before this line; otherwise quote it: \"{word}\""
                        )),
                    );
                    break;
                }
            };
            let type_ok = matches!(
                (param.ty, &value),
                (ParamType::IntOrStr, _) | (ParamType::Int, ParamValue::Int(_)) | (ParamType::Str, ParamValue::Str(_))
            );
            if !type_ok {
                let (expected, fix) = match &value {
                    ParamValue::Str(s) => (
                        "an integer",
                        match s.trim().parse::<i64>() {
                            Ok(n) => format!(
                                "write the number without quotes: `modparam(\"{}\", \"{}\", {n})`",
                                modparam.module.node, param.name
                            ),
                            Err(_) => "give a number".to_string(),
                        },
                    ),
                    ParamValue::Int(n) => (
                        "a string",
                        format!(
                            "quote the value: `modparam(\"{}\", \"{}\", \"{n}\")`",
                            modparam.module.node, param.name
                        ),
                    ),
                };
                reports.push(
                    Diagnostic::new(
                        Code::BadModparamValue,
                        modparam.value.span,
                        format!("`{}` parameter `{}` takes {expected}", module.name, param.name),
                    )
                    .with_label("wrong type")
                    .with_note("Kamailio requires the value type to match the parameter type exactly")
                    .with_help(fix),
                );
                continue;
            }
            if let Some(check) = param.check
                && let Err(reason) = check(&value)
            {
                reports.push(
                    Diagnostic::new(
                        Code::BadModparamValue,
                        modparam.value.span,
                        format!("bad value for `{}` parameter `{}`", module.name, param.name),
                    )
                    .with_label(reason),
                );
            }
        }
        for diagnostic in reports {
            cx.report(diagnostic);
        }
    }
}

fn report_unmatched_modparam(
    cx: &mut Context<'_>,
    regex: &ModulePattern,
    modparam: &crate::parse::ast::ModParam,
    index: usize,
) {
    let later = cx.analysis.modules.iter().find(|m| m.item > index && regex.is_match(&m.name));
    if let Some(later) = later {
        let (name, span) = (later.name.clone(), later.span);
        let line = cx.line_of(span);
        cx.report(
            Diagnostic::new(
                Code::MissingModule,
                modparam.module.span,
                format!("module `{name}` is loaded after this `modparam`"),
            )
            .with_label("not loaded yet here")
            .with_secondary(span, "loaded here")
            .with_help(format!("move `{}` (at {line}) above this line", loadmodule_line(&name))),
        );
        return;
    }
    let known = registry::all_module_names().find(|name| regex.is_match(name));
    match known {
        Some(name) => cx.report(
            Diagnostic::new(Code::MissingModule, modparam.module.span, format!("module `{name}` is not loaded"))
                .with_label("this `modparam` configures a module that is not loaded")
                .with_help(format!("add `{}` before this line", loadmodule_line(name))),
        ),
        None => {
            let mut diagnostic = Diagnostic::new(
                Code::UnknownModule,
                modparam.module.span,
                format!("unknown module `{}`", modparam.module.node),
            )
            .with_label("no Kamailio module has this name");
            if let Some(suggestion) = did_you_mean(&modparam.module.node, registry::all_module_names()) {
                diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
            }
            cx.report(diagnostic);
        }
    }
}
