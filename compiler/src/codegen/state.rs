//! The generated state: the per-worker struct (`$var`), the shared struct (`$shv`, locks,
//! `forward(host)` targets, rand_event's probability), and the `Config` built from the
//! global parameters.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Generator, bytes_lit, sanitize};
use crate::Frontend;
use crate::parse::ast::{GlobalValue, Item, ModParamValue};
use crate::source::Span;

/// What the routes use, collected while their code is generated.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// `$var` names and their `varset` initial values.
    pub(crate) vars: BTreeMap<String, TokenStream>,
    /// `$shv` names and their `shvset` initial values.
    pub(crate) shvs: BTreeMap<String, TokenStream>,
    /// Number of lock slots (2^lock_set_size; 0 when not set).
    pub(crate) lock_slots: usize,
    /// `forward(host[, port])` targets, resolved at start-up.
    pub(crate) targets: Vec<(String, Option<u16>)>,
    pub(crate) initial_probability: u32,
    /// Module parameters by (module, name).
    pub(crate) params: BTreeMap<(String, String), ModParamValue>,
}

impl State {
    pub(crate) fn new(fe: &Frontend) -> State {
        let mut state = State { initial_probability: 10, ..State::default() };
        for item in &fe.config.items {
            let Item::ModParam(modparam) = item else { continue };
            let module = modparam.module.node.to_ascii_lowercase();
            let name = modparam.param.node.clone();
            match (module.as_str(), name.as_str(), &modparam.value.node) {
                ("pv", "varset" | "shvset", ModParamValue::Str(text)) => {
                    if let Ok(init) = crate::modules::pv::parse_var_init(text) {
                        let value = match init.value {
                            crate::modules::pv::VarValue::Int(n) => {
                                let n = i64::from(n);
                                quote!(rt::Value::Int(#n))
                            }
                            crate::modules::pv::VarValue::Str(s) => {
                                let lit = bytes_lit(s.as_bytes());
                                quote!(rt::Value::str(#lit))
                            }
                        };
                        let map = if name == "varset" { &mut state.vars } else { &mut state.shvs };
                        map.insert(init.name.to_string(), value);
                    }
                }
                ("cfgutils", "lock_set_size", ModParamValue::Int(n)) => {
                    state.lock_slots = 1usize << (*n).clamp(0, 14);
                }
                ("cfgutils", "initial_probability", ModParamValue::Int(n)) => {
                    state.initial_probability = (*n).clamp(0, 100) as u32;
                }
                _ => {}
            }
            state.params.insert((module, name), modparam.value.node.clone());
        }
        state
    }

    pub(crate) fn int_param(&self, module: &str, name: &str) -> Option<i64> {
        match self.params.get(&(module.to_string(), name.to_string())) {
            Some(ModParamValue::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn str_param(&self, module: &str, name: &str) -> Option<&str> {
        match self.params.get(&(module.to_string(), name.to_string())) {
            Some(ModParamValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The field of `$var(name)`, registering it.
    pub(crate) fn var(&mut self, name: &str) -> proc_macro2::Ident {
        self.vars.entry(name.to_string()).or_insert_with(|| quote!(rt::Value::Int(0)));
        format_ident!("var_{}", sanitize(name))
    }

    /// The field of `$shv(name)`, registering it.
    pub(crate) fn shv(&mut self, name: &str) -> proc_macro2::Ident {
        self.shvs.entry(name.to_string()).or_insert_with(|| quote!(rt::Value::Int(0)));
        format_ident!("shv_{}", sanitize(name))
    }

    /// The field of a `forward(host[, port])` target, registering it.
    pub(crate) fn target(&mut self, host: &str, port: Option<u16>) -> proc_macro2::Ident {
        let index = match self.targets.iter().position(|(h, p)| h == host && *p == port) {
            Some(i) => i,
            None => {
                self.targets.push((host.to_string(), port));
                self.targets.len() - 1
            }
        };
        format_ident!("target_{}", index)
    }
}

/// The `Worker` and `Shared` structs.
pub(crate) fn items(generator: &mut Generator<'_>) -> TokenStream {
    let state = &generator.state;
    let var_fields: Vec<_> = state.vars.keys().map(|n| format_ident!("var_{}", sanitize(n))).collect();
    let var_docs: Vec<_> = state.vars.keys().map(|n| format!(" `$var({n})`")).collect();
    let var_inits: Vec<_> = state.vars.values().collect();
    let shv_fields: Vec<_> = state.shvs.keys().map(|n| format_ident!("shv_{}", sanitize(n))).collect();
    let shv_docs: Vec<_> = state.shvs.keys().map(|n| format!(" `$shv({n})`")).collect();
    let shv_inits: Vec<_> = state.shvs.values().collect();
    let slots = state.lock_slots;
    let lock_doc = format!(" The lock set: {slots} slots (lock_set_size).");
    let target_fields: Vec<_> = (0..state.targets.len()).map(|i| format_ident!("target_{}", i)).collect();
    let target_docs: Vec<_> = state
        .targets
        .iter()
        .map(|(h, p)| match p {
            Some(p) => format!(" `forward({h}, {p})`"),
            None => format!(" `forward({h})`"),
        })
        .collect();
    let target_inits: Vec<_> = state
        .targets
        .iter()
        .map(|(host, port)| {
            let port = match port {
                Some(p) => quote!(Some(#p)),
                None => quote!(None),
            };
            quote! {
                rt::ResolvedTarget {
                    addr: globals
                        .dns
                        .resolve(#host, #port, rt::Transport::Udp)
                        .map_err(|e| format!("forward target {}: {e}", #host))?,
                }
            }
        })
        .collect();
    let probability = state.initial_probability;
    quote! {
        /// Per-worker state: one field per `$var`, initialised from `varset`.
        pub struct Worker {
            #( #[doc = #var_docs] pub #var_fields: rt::Value, )*
        }

        impl Default for Worker {
            fn default() -> Self {
                Worker { #( #var_fields: #var_inits, )* }
            }
        }

        /// Instance-wide state, shared by every worker.
        pub struct Shared {
            #( #[doc = #shv_docs] pub #shv_fields: rt::SharedVar, )*
            #[doc = #lock_doc]
            pub locks: rt::LockSet,
            /// `rand_event()` probability, in percent.
            pub rand: rt::Probability,
            #( #[doc = #target_docs] pub #target_fields: rt::ResolvedTarget, )*
        }

        impl Shared {
            fn new(globals: &'static rt::Globals) -> Result<Self, String> {
                let _ = globals;
                Ok(Shared {
                    #( #shv_fields: rt::SharedVar::new(#shv_inits), )*
                    locks: rt::LockSet::new(#slots),
                    rand: rt::Probability::new(#probability),
                    #( #target_fields: #target_inits, )*
                })
            }
        }
    }
}

/// `fn config() -> rt::Config` from the global parameters.
pub(crate) fn config_fn(generator: &mut Generator<'_>) -> TokenStream {
    let source = generator.fe.sources.get(generator.fe.root).name.clone();
    let mut fields = Vec::new();
    let mut lines = Vec::new();
    let mut problems: Vec<(Span, String)> = Vec::new();
    for item in &generator.fe.config.items {
        let Item::Global(global) = item else { continue };
        let value = &global.value.node;
        match (global.name.node.as_str(), value) {
            ("port", GlobalValue::Int(n)) => match u16::try_from(*n) {
                Ok(port) => fields.push(quote!(port: #port,)),
                Err(_) => problems.push((global.value.span, format!("the port {n}"))),
            },
            ("children", GlobalValue::Int(n)) => {
                let n = usize::try_from(*n).unwrap_or(1).max(1);
                fields.push(quote!(children: #n,));
            }
            ("debug", GlobalValue::Int(n)) => {
                let n = i32::try_from(*n).unwrap_or(0).clamp(-5, 3);
                fields.push(quote!(debug: #n,));
            }
            ("log_stderror", GlobalValue::Int(n)) => {
                let on = *n != 0;
                fields.push(quote!(log_stderror: #on,));
            }
            ("server_signature", GlobalValue::Int(n)) => {
                let on = *n != 0;
                fields.push(quote!(server_signature: #on,));
            }
            ("force_rport" | "add_rport", GlobalValue::Int(n)) => {
                let on = *n != 0;
                fields.push(quote!(force_rport: #on,));
            }
            ("server_header", GlobalValue::Str(text)) => {
                let text = text.strip_prefix("Server:").unwrap_or(text).trim().to_string();
                fields.push(quote!(server_header: Some(#text.to_string()),));
            }
            ("listen", value) => match listen_text(value) {
                Some((text, advertise)) => {
                    let advertise = match advertise {
                        Some((host, port)) => quote!(Some((#host, #port))),
                        None => quote!(None),
                    };
                    lines.push(quote!(config.add_listen(#text, #advertise);));
                }
                None => problems.push((global.value.span, "this `listen` form".to_string())),
            },
            ("alias", value) => {
                let (host, port) = match value {
                    GlobalValue::Str(s) | GlobalValue::Ident(s) => (s.clone(), None),
                    GlobalValue::Listen(spec) if spec.address.hosts.len() == 1 => {
                        (spec.address.hosts[0].clone(), spec.address.port.as_ref().and_then(|p| p.parse::<u16>().ok()))
                    }
                    _ => {
                        problems.push((global.value.span, "this `alias` form".to_string()));
                        continue;
                    }
                };
                let port = match port {
                    Some(p) => quote!(Some(#p)),
                    None => quote!(None),
                };
                lines.push(quote!(config.aliases.push((#host.to_string(), #port));));
            }
            _ => {}
        }
    }
    for (span, what) in problems {
        generator.unsupported(span, what);
    }
    lines.extend(module_settings(generator));
    quote! {
        fn config() -> rt::Config {
            let mut config = rt::Config {
                source: #source,
                #( #fields )*
                ..rt::Config::default()
            };
            #( #lines )*
            config
        }
    }
}

/// `[proto:]host[:port]` text of a listen value, and its `advertise` part.
fn listen_text(value: &GlobalValue) -> Option<(String, Option<(String, u16)>)> {
    match value {
        GlobalValue::Str(s) | GlobalValue::Ident(s) => Some((s.clone(), None)),
        GlobalValue::Listen(spec) => {
            let address = &spec.address;
            let [host] = address.hosts.as_slice() else { return None };
            let mut text = String::new();
            if let Some(proto) = &address.proto {
                text.push_str(proto);
                text.push(':');
            }
            text.push_str(host);
            if let Some(port) = &address.port {
                text.push(':');
                text.push_str(port);
            }
            let advertise = spec.advertise.as_ref().and_then(|a| {
                let [host] = a.hosts.as_slice() else { return None };
                Some((host.clone(), a.port.as_ref().and_then(|p| p.parse().ok()).unwrap_or(5060)))
            });
            Some((text, advertise))
        }
        GlobalValue::Int(_) => None,
    }
}

/// tm's and rr's module parameters as `config.tm.*` / `config.rr.*` assignments.
fn module_settings(generator: &Generator<'_>) -> Vec<TokenStream> {
    let mut lines = Vec::new();
    for ((module, name), value) in &generator.state.params {
        let field = format_ident!("{}", name);
        let line = match (module.as_str(), name.as_str(), value) {
            (
                "tm",
                "fr_timer"
                | "fr_inv_timer"
                | "wt_timer"
                | "retr_timer1"
                | "retr_timer2"
                | "max_inv_lifetime"
                | "max_noninv_lifetime",
                ModParamValue::Int(ms),
            ) => {
                let ms = u64::try_from(*ms).unwrap_or(0);
                quote!(config.tm.#field = rt::Duration::from_millis(#ms);)
            }
            (
                "tm",
                "restart_fr_on_each_reply" | "auto_inv_100" | "relay_100" | "remap_503_500" | "disable_6xx_block",
                ModParamValue::Int(n),
            ) => {
                let on = *n != 0;
                quote!(config.tm.#field = #on;)
            }
            ("tm", "unmatched_cancel", ModParamValue::Int(n)) => {
                let n = u8::try_from(*n).unwrap_or(0);
                quote!(config.tm.#field = #n;)
            }
            ("tm", "default_code", ModParamValue::Int(n)) => {
                let n = u16::try_from(*n).unwrap_or(500);
                quote!(config.tm.#field = #n;)
            }
            ("tm", "auto_inv_100_reason" | "default_reason", ModParamValue::Str(text)) => {
                quote!(config.tm.#field = #text.to_string();)
            }
            ("rr", "append_fromtag" | "enable_full_lr", ModParamValue::Int(n)) => {
                let on = *n != 0;
                quote!(config.rr.#field = #on;)
            }
            ("rr", "enable_double_rr", ModParamValue::Int(n)) => {
                let n = u8::try_from(*n).unwrap_or(1);
                quote!(config.rr.#field = #n;)
            }
            _ => continue,
        };
        lines.push(line);
    }
    lines
}
