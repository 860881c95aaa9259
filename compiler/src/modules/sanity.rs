//! sanity: SIP message sanity checks (Kamailio `src/modules/sanity`).

use super::*;

// `|` on RouteMask is not a const operation, so the tables use `union`.
const REQ_RPL: RouteMask = REQ.union(RPL);

pub static MODULE: Module = Module {
    name: "sanity",
    functions: &[
        // With autodrop=1 (the default) a failed check returns 0 and ends the script.
        stopping("sanity_check", &[], REQ_RPL),
        stopping("sanity_check", &[dynamic(ArgKind::Int)], REQ_RPL),
        stopping("sanity_check", &[dynamic(ArgKind::Int), dynamic(ArgKind::Int)], REQ_RPL),
        func("sanity_reply", &[], REQ_RPL),
        // API binding for other modules: exported with route flags 0, so Kamailio finds the
        // name but rejects every use in a script ("Command cannot be used in the block").
        func("bind_sanity", &[], RouteMask::NONE),
    ],
    params: &[
        checked_param("default_checks", ParamType::Int, default_checks),
        checked_param("uri_checks", ParamType::Int, uri_checks),
        param("size_checks", ParamType::Int),
        param("size_message", ParamType::Int),
        param("size_method", ParamType::Int),
        param("size_ruri", ParamType::Int),
        param("size_from_uri", ParamType::Int),
        param("size_to_uri", ParamType::Int),
        param("size_contact_uri", ParamType::Int),
        param("size_route_uri", ParamType::Int),
        param("size_path_uri", ParamType::Int),
        param("size_pai_uri", ParamType::Int),
        param("size_header", ParamType::Int),
        param("size_headers", ParamType::Int),
        param("size_body", ParamType::Int),
        param("proxy_require", ParamType::Str),
        param("autodrop", ParamType::Int),
        param("noreply", ParamType::Int),
    ],
    pvs: &[],
    transformations: &[],
    // mod_init fails when sl_load_api() fails.
    requires: &["sl"],
};

/// sanity_check() without arguments rejects (returns -1 for every message) a check mask
/// outside 1..(1<<17)-1.
fn default_checks(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Int(1..=131_071) => Ok(()),
        ParamValue::Int(n) => Err(format!("{n} is not a check mask in the range 1..131071")),
        ParamValue::Str(_) => Ok(()),
    }
}

/// Likewise for the URI check mask: 1..15 (R-URI 1, From 2, To 4, Contact 8).
fn uri_checks(value: &ParamValue) -> Result<(), String> {
    match value {
        ParamValue::Int(1..=15) => Ok(()),
        ParamValue::Int(n) => Err(format!("{n} is not a URI check mask in the range 1..15")),
        ParamValue::Str(_) => Ok(()),
    }
}
